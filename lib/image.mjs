// Images in and out of Halide buffers, for the package (toBuffer,
// toImageData) and its command-line tool (cli/image.mjs decodes and encodes
// files and uses these for the rest). No DOM needed: an image is anything
// with `{ data, width, height }` (an ImageData, or RGBA samples), or in a
// browser anything `drawImage` takes (ImageBitmap, canvas, OffscreenCanvas,
// a loaded HTMLImageElement, a video frame).

/** The typed array for each Halide element type (16-bit floats as their bits). */
export const ARRAYS = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
  int64: BigInt64Array, uint64: BigUint64Array, float16: Uint16Array, bfloat16: Uint16Array,
};

/** The element types an image can be converted to and from. */
export const IMAGE_TYPES = ['bool', 'uint8', 'int8', 'int16', 'uint16', 'int32', 'uint32', 'float32', 'float64'];

let ErrorClass = Error;
/** The entry points make the helpers throw their HalideError (code 'bad-argument'). */
export function useErrorClass(c) {
  ErrorClass = c;
}
function fail(message, cause) {
  return new ErrorClass(message, { code: 'bad-argument', cause });
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
    default: throw fail(`unknown layout '${kind}'; one of 'interleaved', 'planar', 'gray'`);
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

/**
 * A buffer object of `type` holding `img` (`{ width, height, depth, rgba }`,
 * `rgba` interleaved 8- or 16-bit samples) in layout `l`. An 8-bit image
 * already in the buffer's layout (uint8, interleaved RGBA) is not copied:
 * the buffer's data views its samples.
 */
export function imageToBuffer(img, type, l) {
  const { width, height, rgba, depth } = img;
  if ((type === 'uint8') && depth === 8 && l.kind === 'interleaved' && rgba.length === 4 * width * height) {
    return { data: rgba instanceof Uint8Array || rgba instanceof Uint8ClampedArray ? rgba : Uint8Array.from(rgba), shape: l.shape, strides: l.strides };
  }
  const [sx, sy, sc] = l.strides;
  const data = new ARRAYS[type](l.shape.reduce((a, b) => a * b, 1));
  const f = scaleIn(type, depth);
  const n = width * height;
  if (l.channels === 1) {
    // Rec. 601 luma.
    for (let i = 0, p = 0; i < n; i++, p += 4) {
      const x = i % width;
      data[x * sx + ((i - x) / width) * sy] = f(Math.round(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]));
    }
  } else {
    // Channel by channel, row by row.
    const same = depth === 8 && (type === 'uint8' || type === 'int16' || type === 'int32' || type === 'uint32');
    for (let c = 0; c < l.channels; c++) {
      let p = c;
      for (let y = 0; y < height; y++) {
        let at = c * sc + y * sy;
        if (same) for (let x = 0; x < width; x++, at += sx, p += 4) data[at] = rgba[p];
        else for (let x = 0; x < width; x++, at += sx, p += 4) data[at] = f(rgba[p]);
      }
    }
  }
  return { data, shape: l.shape, strides: l.strides };
}

/** An empty buffer object of `type` in layout `l`. */
export function emptyBuffer(type, l) {
  return { data: new ARRAYS[type](l.shape.reduce((a, b) => a * b, 1)), shape: l.shape, strides: l.strides };
}

/** The element type of a typed array, as an image output is read. */
function typeOfArray(data) {
  const name = data?.constructor?.name;
  const t = {
    Uint8Array: 'uint8', Uint8ClampedArray: 'uint8', Int8Array: 'int8', Int16Array: 'int16', Uint16Array: 'uint16',
    Int32Array: 'int32', Uint32Array: 'uint32', Float32Array: 'float32', Float64Array: 'float64', Float16Array: 'float32',
  }[name];
  if (!t || !ArrayBuffer.isView(data)) throw fail(`cannot make an image of ${name ?? typeof data} data`);
  return t;
}

/**
 * The interleaved RGBA samples of buffer `buf` (`{ data, shape, strides? }`,
 * x first): a 2-D buffer is gray, a 3-D one has 1 (gray), 2 (gray and
 * alpha), 3 (RGB) or 4 (RGBA) channels. `depth` 16 keeps `uint16` outputs
 * 16-bit; otherwise everything becomes 8-bit: integers clamped to 0..255
 * (uint16 scaled by 1/257), floats mapped from `range` (default [0, 1]) to
 * 0..255 (clamped, rounded; NaN is 0), bool 0 or 255. Missing alpha is
 * opaque. Returns `{ width, height, depth, channels, rgba }`.
 */
export function bufferToImage(buf, type = typeOfArray(buf?.data), { depth = 8, range } = {}) {
  if (!IMAGE_TYPES.includes(type)) throw fail(`cannot make an image of ${type} elements`);
  const shape = Array.isArray(buf?.shape) ? buf.shape : [];
  if (shape.length !== 2 && shape.length !== 3) {
    throw fail(`an image is a 2-D (gray) or 3-D (color) buffer; this one has shape [${shape.join(', ')}]`);
  }
  const [width, height, channels = 1] = shape;
  if (channels < 1 || channels > 4) throw fail(`an image has 1 to 4 channels; this buffer has ${channels} (shape [${shape.join(', ')}])`);
  const strides = buf.strides ?? [1, width, width * height];
  const [sx, sy, sc = 0] = strides;
  const data = buf.data;
  const span = width && height ? 1 + (width - 1) * sx + (height - 1) * sy + (channels - 1) * sc : 0;
  if (span > data.length) throw fail(`the buffer's shape [${shape.join(', ')}] reaches ${span} elements, but its data has ${data.length}`);
  const wide = depth === 16 && type === 'uint16';
  const opaque = wide ? 65535 : 255;
  let f;
  if (type === 'float32' || type === 'float64') {
    const [lo, hi] = range === 'auto' ? autoRange(data, width, height, channels, strides) : range ?? [0, 1];
    const scale = hi > lo ? 255 / (hi - lo) : 0;
    f = (v) => (v > lo ? (v < hi ? Math.round((v - lo) * scale) : 255) : 0);
  } else if (type === 'bool') f = (v) => (v ? 255 : 0);
  else if (type === 'uint16') f = wide ? (v) => v : (v) => Math.round(v / 257);
  else f = (v) => (v < 0 ? 0 : v > 255 ? 255 : v);
  // An 8-bit RGBA output in interleaved order is viewed, not copied.
  if (!wide && type === 'uint8' && channels === 4 && sx === 4 && sy === 4 * width && sc === 1) {
    return { width, height, depth: 8, channels, rgba: new Uint8ClampedArray(data.buffer, data.byteOffset, 4 * width * height) };
  }
  const rgba = wide ? new Uint16Array(4 * width * height) : new Uint8ClampedArray(4 * width * height);
  // Integers need no mapping into 8 bits: a Uint8ClampedArray clamps them.
  const map = !wide && type !== 'uint16' && type !== 'bool' && type !== 'float32' && type !== 'float64' ? null : f;
  // Channel by channel: gray goes to R and is copied to G and B; a gray
  // image's second channel is alpha.
  for (let c = 0; c < channels; c++) plane(rgba, channels === 2 && c === 1 ? 3 : c, data, c * sc, sx, sy, width, height, map);
  if (channels <= 2) {
    for (let p = 0; p < rgba.length; p += 4) rgba[p + 1] = rgba[p + 2] = rgba[p];
  }
  if (channels === 1 || channels === 3) {
    for (let p = 3; p < rgba.length; p += 4) rgba[p] = opaque;
  }
  return { width, height, depth: wide ? 16 : 8, channels, rgba };
}

/** Writes one channel of `data` (from `base`, strides `sx`, `sy`) into every 4th element of `rgba` from `t`. */
function plane(rgba, t, data, base, sx, sy, width, height, map) {
  let p = t;
  for (let y = 0; y < height; y++) {
    let at = base + y * sy;
    if (map === null) {
      for (let x = 0; x < width; x++, at += sx, p += 4) rgba[p] = data[at];
    } else {
      for (let x = 0; x < width; x++, at += sx, p += 4) rgba[p] = map(data[at]);
    }
  }
}

/** The lowest and highest finite color sample (alpha left out). */
function autoRange(data, width, height, channels, [sx, sy, sc = 0]) {
  let lo = Infinity;
  let hi = -Infinity;
  const colors = channels === 2 || channels === 4 ? channels - 1 : channels;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < colors; c++) {
        const v = data[x * sx + y * sy + c * sc];
        if (v < lo) lo = v;
        if (v > hi) hi = v;
      }
    }
  }
  return lo <= hi ? [lo, hi] : [0, 1];
}

/**
 * `{ width, height, depth, rgba }` of an image: `{ data, width, height }`
 * (an ImageData, or interleaved RGBA samples: 8-bit, or 16-bit in a
 * Uint16Array), or anything a 2-D canvas can draw (ImageBitmap, canvas,
 * OffscreenCanvas, a loaded HTMLImageElement, a video).
 */
export function pixelsOf(image) {
  if (image === null || typeof image !== 'object') throw fail(`expected an image (ImageData, ImageBitmap, canvas, HTMLImageElement or { data, width, height }), got ${image === null ? 'null' : typeof image}`);
  if ('data' in image && ArrayBuffer.isView(image.data)) {
    const { data, width, height } = image;
    if (!Number.isSafeInteger(width) || !Number.isSafeInteger(height) || width <= 0 || height <= 0) {
      throw fail(`the image's width and height must be positive integers, got ${width}x${height}`);
    }
    if (data.length !== 4 * width * height) {
      throw fail(`a ${width}x${height} image has ${4 * width * height} RGBA samples; its data has ${data.length}`);
    }
    if (!(data instanceof Uint8ClampedArray || data instanceof Uint8Array || data instanceof Uint16Array)) {
      throw fail(`the image's data must be a Uint8ClampedArray or Uint8Array (or a Uint16Array of 16-bit samples), got ${data.constructor.name}`);
    }
    return { width, height, depth: data instanceof Uint16Array ? 16 : 8, rgba: data };
  }
  return drawn(image);
}

/** The pixels of something a canvas can draw. */
function drawn(image) {
  const width = image.naturalWidth || image.videoWidth || image.displayWidth || image.width;
  const height = image.naturalHeight || image.videoHeight || image.displayHeight || image.height;
  if (!(width > 0 && height > 0)) {
    const loading = typeof HTMLImageElement === 'function' && image instanceof HTMLImageElement;
    throw fail(loading ? 'the HTMLImageElement has not loaded yet (await img.decode() first)' : `expected an image (ImageData, ImageBitmap, canvas, HTMLImageElement or { data, width, height }), got ${Object.prototype.toString.call(image)}`);
  }
  let canvas;
  if (typeof OffscreenCanvas === 'function') canvas = new OffscreenCanvas(width, height);
  else if (typeof document === 'object') {
    canvas = document.createElement('canvas');
    canvas.width = width;
    canvas.height = height;
  } else {
    throw fail('this host has no canvas to read the image with; pass an ImageData or { data, width, height }');
  }
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  try {
    ctx.drawImage(image, 0, 0, width, height);
    const d = ctx.getImageData(0, 0, width, height);
    return { width, height, depth: 8, rgba: d.data };
  } catch (e) {
    throw fail(`the image could not be read (${e && e.message}; a cross-origin image needs CORS)`, e);
  }
}

/** The input argument a pipeline (or an argument description) gives toBuffer. */
function inputOf(target, name) {
  if (target && typeof target === 'object' && 'type' in target && 'dimensions' in target && !('run' in target)) return target;
  let args;
  try {
    args = target.arguments;
  } catch (e) {
    throw fail('expected a Pipeline or one of its p.arguments as the second argument', e);
  }
  if (!Array.isArray(args)) throw fail('expected a Pipeline or one of its p.arguments as the second argument');
  const inputs = args.filter((a) => a.kind === 'input');
  const a = name === undefined ? inputs[0] : inputs.find((x) => x.name === name);
  if (!a) {
    throw fail(name === undefined ? `${target.name} takes no input buffer` : `${target.name} has no input buffer '${name}'; its inputs: ${inputs.map((x) => x.name).join(', ') || 'none'}`);
  }
  return a;
}

/**
 * The buffer object a pipeline's input expects, holding `image`.
 * `target`: a Pipeline (its first input buffer, or `options.input`) or one
 * of its `p.arguments`. The element type is the input's: uint8 takes the
 * samples as they are, uint16 scales them by 257, floats by 1/255 (to
 * [0, 1]). A 2-D input gets gray (Rec. 601 luma); a 3-D one interleaved
 * RGBA `[w, h, 4]` (channel fastest, as an ImageData is) unless
 * `options.layout` is 'planar' (RGB `[w, h, 3]`, x fastest: Halide's
 * default constraints on an ImageParam). A uint8 interleaved buffer views
 * an ImageData's own samples (nothing is copied).
 */
export function toBuffer(image, target, options = {}) {
  const a = inputOf(target, options.input);
  if (!IMAGE_TYPES.includes(a.type)) throw fail(`input '${a.name}' holds ${a.type} elements, which no image fits`);
  if (a.dimensions !== 2 && a.dimensions !== 3) throw fail(`input '${a.name}' is ${a.dimensions}-D; an image fits a 2-D (gray) or 3-D (color) buffer`);
  const img = pixelsOf(image);
  const kind = a.dimensions === 2 ? 'gray' : options.layout ?? 'interleaved';
  if (a.dimensions === 3 && kind === 'gray') throw fail(`input '${a.name}' is 3-D; layout 'gray' is for 2-D inputs`);
  return imageToBuffer(img, a.type, layout(kind, img.width, img.height));
}

/**
 * An ImageData (a plain `{ data, width, height, colorSpace }` where the
 * host has no ImageData, as in Node) of a pipeline's output buffer, mapped
 * to 8 bits as `bufferToImage` says (`options.range`: the float values
 * that become 0 and 255, default [0, 1]; 'auto': the output's own lowest
 * and highest). An 8-bit interleaved RGBA buffer is viewed, not copied.
 */
export function toImageData(buffer, options = {}) {
  if (buffer === null || typeof buffer !== 'object' || !ArrayBuffer.isView(buffer.data)) {
    throw fail('expected a buffer object { data, shape, strides? }, such as an output run() returned');
  }
  const range = options.range;
  if (range !== undefined && range !== 'auto' && !(Array.isArray(range) && range.length === 2 && range.every(Number.isFinite))) {
    throw fail(`options.range must be [low, high] or 'auto', got ${JSON.stringify(range)}`);
  }
  const { width, height, rgba } = bufferToImage(buffer, typeOfArray(buffer.data), { range });
  if (typeof ImageData === 'function') return new ImageData(rgba, width, height);
  return { data: rgba, width, height, colorSpace: 'srgb' };
}
