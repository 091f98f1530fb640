// The demo's own pixel conversion: RGBA pixels of a canvas to the buffer a
// pipeline's input expects (interleaved RGBA or planar RGB or gray; 8/16-bit
// or float), and an output buffer back to RGBA for a canvas. Float outputs
// are mapped to a visible range: [0, 1] as is when every value lies in it,
// else the finite values' [min, max] stretched to [0, 255].

const ARRAYS = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
};

export const isFloat = (type) => type === 'float32' || type === 'float64';

export function arrayFor(type, HalideError) {
  const A = ARRAYS[type];
  if (!A) throw new HalideError(`the demo cannot turn an image into a ${type} buffer`, { code: 'bad-argument' });
  return A;
}

/** Halide dimension order (x first) for an image laid out as `kind`. */
export function layoutFor(dimensions, width, height, planar, HalideError) {
  if (dimensions === 2) return { kind: 'gray', shape: [width, height], strides: [1, width], channels: 1 };
  if (dimensions === 3 && !planar) return { kind: 'interleaved', shape: [width, height, 4], strides: [4, 4 * width, 1], channels: 4 };
  if (dimensions === 3) return { kind: 'planar', shape: [width, height, 3], strides: [1, width, width * height], channels: 3 };
  throw new HalideError(`the demo can only feed images to 2-D (gray) or 3-D (color) buffers, not ${dimensions}-D`, { code: 'bad-argument' });
}

const scaleIn = (type) => {
  if (type === 'uint16') return (v) => v * 257;
  if (isFloat(type)) return (v) => v / 255;
  if (type === 'bool') return (v) => (v >= 128 ? 1 : 0);
  return (v) => v;
};

function eachPixel(width, height, layout, f) {
  const [sx, sy] = layout.strides;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f(4 * (y * width + x), x * sx + y * sy);
  }
}

/** The image ({ width, height, rgba }) as a buffer of `type` in `layout` (zero-copy for interleaved uint8). */
export function toBuffer(image, type, layout, HalideError) {
  const { width, height, rgba } = image;
  if (layout.kind === 'interleaved' && type === 'uint8') return { data: rgba, shape: layout.shape, strides: layout.strides };
  const data = new (arrayFor(type, HalideError))(layout.shape.reduce((a, b) => a * b, 1));
  const sc = layout.strides[2];
  const f = scaleIn(type);
  eachPixel(width, height, layout, (p, at) => {
    if (layout.channels === 1) data[at] = f(Math.round(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]));
    else for (let c = 0; c < layout.channels; c++) data[at + c * sc] = f(rgba[p + c]);
  });
  return { data, shape: layout.shape, strides: layout.strides };
}

/** How a float output is shown: `{ lo, hi }`, mapped to 0..255. */
export function visibleRange(data) {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) {
    lo = Infinity;
    hi = -Infinity;
    for (const v of data) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  }
  if (!(lo <= hi)) return { lo: 0, hi: 1 };
  if (lo >= 0 && hi <= 1) return { lo: 0, hi: 1 };
  return { lo, hi: hi > lo ? hi : lo + 1 };
}

const scaleOut = (type, data) => {
  if (type === 'uint16') return { f: (v) => v >> 8 };
  if (isFloat(type)) {
    const range = visibleRange(data);
    const k = 255 / (range.hi - range.lo);
    return { f: (v) => (Number.isNaN(v) ? 0 : Math.round((Math.min(range.hi, Math.max(range.lo, v)) - range.lo) * k)), range };
  }
  if (type === 'bool') return { f: (v) => (v ? 255 : 0) };
  return { f: (v) => v }; // the Uint8ClampedArray clamps and rounds
};

/** RGBA pixels for a canvas from an output buffer (gray replicated, missing alpha opaque), and the float range shown. */
export function toRgba(buf, type, layout) {
  const [width, height] = layout.shape;
  if (layout.kind === 'interleaved' && type === 'uint8') return { rgba: new Uint8ClampedArray(buf.data.buffer, buf.data.byteOffset, buf.data.length) };
  const rgba = new Uint8ClampedArray(4 * width * height);
  const sc = layout.strides[2];
  const { f, range } = scaleOut(type, buf.data);
  eachPixel(width, height, layout, (p, at) => {
    for (let c = 0; c < 4; c++) {
      if (layout.channels === 1) rgba[p + c] = c === 3 ? 255 : f(buf.data[at]);
      else rgba[p + c] = c < layout.channels ? f(buf.data[at + c * sc]) : 255;
    }
  });
  return { rgba, range };
}
