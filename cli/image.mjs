// Images in and out of Halide buffers, for the command-line tool: decode a
// PNG or JPEG (told apart by content), lay it out as the pipeline's first
// input asks (gray 2-D, planar RGB [w, h, 3] or interleaved RGBA [w, h, 4];
// 8/16-bit integers or floats in [0, 1]) and turn an output buffer back into
// an image.
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';

const { PNG } = pngjs;
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

/** The typed array for each Halide element type (16-bit floats as their bits). */
export const ARRAYS = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
  int64: BigInt64Array, uint64: BigUint64Array, float16: Uint16Array, bfloat16: Uint16Array,
};

/** The element types an image can be converted to and from. */
export const IMAGE_TYPES = ['bool', 'uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];

const starts = (bytes, magic) => bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
const message = (e) => (e instanceof Error ? e.message : String(e));

/**
 * `{ width, height, depth, rgba, format }` from the bytes of a PNG or JPEG:
 * `rgba` is interleaved RGBA, a `Uint8Array` (depth 8) or, for a 16-bit
 * PNG, a `Uint16Array` (depth 16). Throws an Error saying what is wrong.
 */
export function decodeImage(bytes) {
  let img;
  try {
    if (starts(bytes, PNG_MAGIC)) {
      // IHDR comes first: bit depth at byte 24, colour type at 25. Keep all
      // 16 bits of a 16-bit non-palette image; pngjs scales the rest to 8.
      const sixteen = bytes.length > 25 && bytes[24] === 16 && bytes[25] !== 3;
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: sixteen });
      img = { format: 'PNG', width: png.width, height: png.height, depth: sixteen ? 16 : 8, rgba: png.data };
    } else if (starts(bytes, JPEG_MAGIC)) {
      const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
      img = { format: 'JPEG', width: j.width, height: j.height, depth: 8, rgba: j.data };
    }
  } catch (e) {
    throw new Error(`not a valid ${starts(bytes, PNG_MAGIC) ? 'PNG' : 'JPEG'} image (${message(e)})`);
  }
  if (!img) throw new Error('not a PNG or JPEG image');
  if (!img.width || !img.height) throw new Error(`the image is empty (${img.width}x${img.height})`);
  return img;
}

/** The bytes of a PNG, or of a JPEG (quality 92) when `format` is 'jpeg'. */
export function encodeImage(format, { width, height, depth, channels, rgba }) {
  if (format === 'jpeg') {
    let data = rgba;
    if (depth === 16) data = Uint8Array.from(rgba, (v) => (v + 128) / 257);
    return jpeg.encode({ width, height, data }, 92).data;
  }
  // Gray outputs as gray PNGs, RGB without alpha, RGBA with it.
  const colorType = channels === 1 ? 0 : channels === 3 ? 2 : 6;
  const bytes = Buffer.from(rgba.buffer, rgba.byteOffset, rgba.byteLength);
  return PNG.sync.write({ width, height, data: bytes }, { colorType, inputColorType: 6, inputHasAlpha: true, bitDepth: depth });
}

/**
 * The layouts an image can take in a buffer: gray `[w, h]`, planar RGB
 * `[w, h, 3]` (x fastest) or interleaved RGBA `[w, h, 4]` (channel fastest).
 */
export function layout(kind, width, height) {
  switch (kind) {
    case 'gray': return { kind, label: 'gray [w, h]', shape: [width, height], strides: [1, width], channels: 1 };
    case 'planar': return { kind, label: 'planar RGB [w, h, 3]', shape: [width, height, 3], strides: [1, width, width * height], channels: 3 };
    case 'interleaved': return { kind, label: 'interleaved RGBA [w, h, 4]', shape: [width, height, 4], strides: [4, 4 * width, 1], channels: 4 };
    default: throw new Error(`no layout ${kind}`);
  }
}

/** The layout kinds to try, in order, for a buffer of `dimensions` (none: not an image). */
export const layoutKinds = (dimensions) => (dimensions === 2 ? ['gray'] : dimensions === 3 ? ['planar', 'interleaved'] : []);

/** Maps an image sample (0..max) to an element of `type`. */
function scaleIn(type, depth) {
  const max = depth === 16 ? 65535 : 255;
  if (type === 'float32' || type === 'float64') return (v) => v / max;
  if (type === 'uint16') return depth === 16 ? (v) => v : (v) => v * 257;
  if (type === 'bool') return (v) => (v >= (max + 1) / 2 ? 1 : 0);
  // Other integers take 8-bit values (clamped to int8's range).
  const to8 = depth === 16 ? (v) => Math.round(v / 257) : (v) => v;
  if (type === 'int8') return (v) => Math.min(127, to8(v));
  return to8;
}

/** A buffer object of `type` holding the image in layout `l`. */
export function imageToBuffer(img, type, l) {
  const { width, height, rgba, depth } = img;
  const [sx, sy, sc] = l.strides;
  const data = new ARRAYS[type](l.shape.reduce((a, b) => a * b, 1));
  const f = scaleIn(type, depth);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = 4 * (y * width + x);
      const at = x * sx + y * sy;
      if (l.channels === 1) {
        // Rec. 601 luma.
        data[at] = f(Math.round(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]));
      } else {
        for (let c = 0; c < l.channels; c++) data[at + c * sc] = f(rgba[p + c]);
      }
    }
  }
  return { data, shape: l.shape, strides: l.strides };
}

/** An empty buffer object of `type` in layout `l`. */
export function emptyBuffer(type, l) {
  return { data: new ARRAYS[type](l.shape.reduce((a, b) => a * b, 1)), shape: l.shape, strides: l.strides };
}

/**
 * The image an output buffer in layout `l` holds: `uint16` outputs stay
 * 16-bit, the rest become 8-bit (floats clamped from [0, 1], integers
 * clamped to 0..255); gray is replicated, missing alpha is opaque.
 */
export function bufferToImage(buf, type, l) {
  if (!IMAGE_TYPES.includes(type)) throw new Error(`cannot make an image of ${type} elements`);
  const [width, height] = buf.shape;
  const [sx, sy, sc] = l.strides;
  const depth = type === 'uint16' ? 16 : 8;
  const opaque = depth === 16 ? 65535 : 255;
  const rgba = depth === 16 ? new Uint16Array(4 * width * height) : new Uint8Array(4 * width * height);
  let f;
  if (type === 'float32' || type === 'float64') f = (v) => Math.round(Math.min(1, Math.max(0, v || 0)) * 255);
  else if (type === 'bool') f = (v) => (v ? 255 : 0);
  else if (type === 'uint16') f = (v) => v;
  else f = (v) => Math.min(255, Math.max(0, v));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const p = 4 * (y * width + x);
      const at = x * sx + y * sy;
      for (let c = 0; c < 4; c++) {
        if (l.channels === 1) rgba[p + c] = c === 3 ? opaque : f(buf.data[at]);
        else rgba[p + c] = c < l.channels ? f(buf.data[at + c * sc]) : opaque;
      }
    }
  }
  return { width, height, depth, channels: l.channels, rgba };
}
