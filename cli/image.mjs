// Images in and out of Halide buffers, for the command-line tool: decode a
// PNG or JPEG, fit it to the pipeline's first input (type, gray/RGB
// planar/RGBA interleaved), and turn an output buffer back into an image.
import { readFileSync, writeFileSync } from 'node:fs';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';

const { PNG } = pngjs;
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

export const ARRAYS = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
  int64: BigInt64Array, uint64: BigUint64Array, float16: Uint16Array, bfloat16: Uint16Array,
};

const starts = (bytes, magic) => magic.every((b, i) => bytes[i] === b);

/** `{ width, height, rgba }` from a PNG or JPEG file, told apart by content. */
export function decodeImage(path) {
  const bytes = readFileSync(path);
  if (starts(bytes, PNG_MAGIC)) {
    const png = PNG.sync.read(bytes);
    return { width: png.width, height: png.height, rgba: png.data };
  }
  if (starts(bytes, JPEG_MAGIC)) {
    const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    return { width: img.width, height: img.height, rgba: img.data };
  }
  throw new Error('not a PNG or JPEG image');
}

/** Writes a PNG, or a JPEG when the name ends in .jpg/.jpeg. */
export function encodeImage(path, { width, height, rgba }) {
  if (/\.jpe?g$/i.test(path)) {
    writeFileSync(path, jpeg.encode({ width, height, data: rgba }, 92).data);
    return;
  }
  const png = new PNG({ width, height });
  png.data = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  writeFileSync(path, PNG.sync.write(png));
}

/** The layouts a buffer can take: planar RGB `[w, h, 3]` or interleaved RGBA `[w, h, 4]`. */
export function layoutFor(dimensions, width, height, interleaved) {
  if (dimensions === 2) return { shape: [width, height], strides: [1, width], channels: 1 };
  if (dimensions === 3 && interleaved) return { shape: [width, height, 4], strides: [4, 4 * width, 1], channels: 4 };
  if (dimensions === 3) return { shape: [width, height, 3], strides: [1, width, width * height], channels: 3 };
  throw new Error(`cannot fit an image to a ${dimensions}-dimensional buffer`);
}

const IMAGE_TYPES = ['bool', 'uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];

const scaleIn = (type) => {
  if (!IMAGE_TYPES.includes(type)) throw new Error(`cannot make an image of type ${type}`);
  if (type === 'uint16') return (v) => v * 257;
  if (type === 'float32' || type === 'float64') return (v) => v / 255;
  return (v) => v;
};

const scaleOut = (type) => {
  if (!IMAGE_TYPES.includes(type)) throw new Error(`cannot make an image of a ${type} output`);
  if (type === 'uint16') return (v) => v >> 8;
  if (type === 'float32' || type === 'float64') return (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  if (type === 'bool') return (v) => (v ? 255 : 0);
  return (v) => Math.min(255, Math.max(0, v));
};

/** A buffer object of `type` holding the image in `layout`. */
export function imageToBuffer(img, type, layout) {
  const { width, height, rgba } = img;
  const [sx, sy, sc] = layout.strides;
  const data = new ARRAYS[type](layout.shape.reduce((a, b) => a * b, 1));
  const f = scaleIn(type);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = 4 * (y * width + x);
      if (layout.channels === 1) {
        data[x * sx + y * sy] = f(Math.round(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]));
      } else {
        for (let c = 0; c < layout.channels; c++) data[x * sx + y * sy + c * sc] = f(rgba[p + c]);
      }
    }
  }
  return { data, shape: layout.shape, strides: layout.strides };
}

/** An empty output buffer of `type` in `layout`. */
export function emptyBuffer(type, layout) {
  return { data: new ARRAYS[type](layout.shape.reduce((a, b) => a * b, 1)), shape: layout.shape, strides: layout.strides };
}

/** The image an output buffer holds (gray replicated, missing alpha opaque). */
export function bufferToImage(buf, type, layout) {
  const [width, height] = buf.shape;
  const [sx, sy, sc] = layout.strides;
  const rgba = new Uint8Array(4 * width * height);
  const f = scaleOut(type);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = 4 * (y * width + x);
      const at = x * sx + y * sy;
      for (let c = 0; c < 4; c++) {
        if (layout.channels === 1) rgba[p + c] = c === 3 ? 255 : f(buf.data[at]);
        else rgba[p + c] = c < layout.channels ? f(buf.data[at + c * sc]) : 255;
      }
    }
  }
  return { width, height, rgba };
}
