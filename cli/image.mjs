// Images in and out of Halide buffers, for the command-line tool: decode a
// PNG, fit it to the pipeline's first input (type, gray/RGB planar/RGBA
// interleaved), and turn an output buffer back into a PNG.
import { readFileSync, writeFileSync } from 'node:fs';
import pngjs from 'pngjs';

const { PNG } = pngjs;

const ARRAYS = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
};

/** `{ width, height, rgba }` from a PNG file. */
export function decodeImage(path) {
  const png = PNG.sync.read(readFileSync(path));
  return { width: png.width, height: png.height, rgba: png.data };
}

export function encodePng(path, { width, height, rgba }) {
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

const scaleIn = (type) => {
  if (type === 'uint16') return (v) => v * 257;
  if (type === 'float32' || type === 'float64') return (v) => v / 255;
  if (ARRAYS[type]) return (v) => v;
  throw new Error(`cannot make an image of type ${type}`);
};

const scaleOut = (type) => {
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
