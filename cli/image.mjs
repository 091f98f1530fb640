// Image files for the command-line tool: decode a PNG or JPEG (told apart
// by content) and encode one; laying an image out as the pipeline's first
// input asks (gray 2-D, planar RGB [w, h, 3] or interleaved RGBA [w, h, 4];
// 8/16-bit integers or floats in [0, 1]) and turning an output buffer back
// into an image is the package's own lib/image.mjs.
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';

const { PNG } = pngjs;
const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

// The layouts and conversions themselves are the package's (lib/image.mjs,
// behind toBuffer and toImageData).
export { ARRAYS, IMAGE_TYPES, layout, layoutKinds, imageToBuffer, emptyBuffer, bufferToImage } from '../lib/image.mjs';

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
