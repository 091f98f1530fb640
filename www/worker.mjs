// The demo's worker: owns the Pipeline, so a slow run never freezes the page.
//
// Messages in (each with an `id` the reply echoes):
//   { type: 'load',  id, url | bytes, label, entry? }   → 'loaded' { name, target, arguments }
//   { type: 'image', id, width, height, rgba }          → 'image-set'
//   { type: 'run',   id, values }                       → 'result' { width, height, rgba, ms, stats, layout }
// Any failure replies { type: 'error', id, message, code, name }.
// What the pipeline prints arrives as { type: 'print', text }.
//
// The library is imported dynamically, after `onmessage` is set: a static
// import would run web.mjs's top-level await (the wasm init) first, and
// Chromium may deliver the page's first messages before a module worker's
// body has run — they would be lost.
const lib = import('../lib/web.mjs');
let Pipeline, HalideError;

const ARRAYS = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
};

let pipeline = null;
let image = null; // { width, height, rgba: Uint8ClampedArray }
let preferPlanar = false; // learnt per pipeline: interleaved first, planar after a stride error
let inputCache = null; // { key, buffer }

// What the pipeline prints goes to the page's log, a run's worth at a time,
// so the complaint of an interleaved attempt that is retried planar can be dropped.
let printed = [];
const print = (text) => printed.push(text);
function flushPrints() {
  if (printed.length) self.postMessage({ type: 'print', text: printed.join('') });
  printed = [];
}

function describeError(e) {
  if ((HalideError && e instanceof HalideError) || e?.name === 'HalideError') {
    return { message: e.message, code: e.code === undefined ? null : e.code, name: 'HalideError' };
  }
  return { message: String(e?.message ?? e), code: null, name: e?.name ?? 'Error' };
}

/** Halide dimension order (x first) for an image of `channels`. */
function layoutFor(dimensions, width, height, planar) {
  if (dimensions === 2) return { kind: 'gray', shape: [width, height], strides: [1, width], channels: 1 };
  if (dimensions === 3 && !planar) return { kind: 'interleaved', shape: [width, height, 4], strides: [4, 4 * width, 1], channels: 4 };
  if (dimensions === 3) return { kind: 'planar', shape: [width, height, 3], strides: [1, width, width * height], channels: 3 };
  throw new HalideError(`the demo can only feed images to 2-D (gray) or 3-D (color) buffers, not ${dimensions}-D`, { code: 'bad-argument' });
}

const scaleIn = (type) => {
  if (type === 'uint16') return (v) => v * 257;
  if (type === 'float32' || type === 'float64') return (v) => v / 255;
  if (type === 'bool') return (v) => (v >= 128 ? 1 : 0);
  return (v) => v;
};

const scaleOut = (type) => {
  if (type === 'uint16') return (v) => v >> 8;
  if (type === 'float32' || type === 'float64') return (v) => Math.round(Math.min(1, Math.max(0, v)) * 255);
  if (type === 'bool') return (v) => (v ? 255 : 0);
  return (v) => v; // the Uint8ClampedArray clamps and rounds
};

function arrayFor(type) {
  const A = ARRAYS[type];
  if (!A) throw new HalideError(`the demo cannot turn an image into a ${type} buffer`, { code: 'bad-argument' });
  return A;
}

/**
 * Calls `f(p, at)` for every pixel of a `width` x `height` image: `p` is its
 * index in RGBA pixels, `at` its offset in a buffer with `layout.strides`.
 */
function eachPixel(width, height, layout, f) {
  const [sx, sy] = layout.strides;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) f(4 * (y * width + x), x * sx + y * sy);
  }
}

/** The image as a buffer of `type` in `layout` (zero-copy for interleaved uint8). */
function toBuffer(type, layout) {
  const { width, height, rgba } = image;
  if (layout.kind === 'interleaved' && (type === 'uint8')) {
    return { data: rgba, shape: layout.shape, strides: layout.strides };
  }
  const data = new (arrayFor(type))(layout.shape.reduce((a, b) => a * b, 1));
  const sc = layout.strides[2];
  const f = scaleIn(type);
  eachPixel(width, height, layout, (p, at) => {
    if (layout.channels === 1) data[at] = f(Math.round(0.299 * rgba[p] + 0.587 * rgba[p + 1] + 0.114 * rgba[p + 2]));
    else for (let c = 0; c < layout.channels; c++) data[at + c * sc] = f(rgba[p + c]);
  });
  return { data, shape: layout.shape, strides: layout.strides };
}

/** RGBA pixels for the canvas from an output buffer (gray replicated, missing alpha opaque). */
function toRgba(buf, type, layout) {
  const [width, height] = layout.shape;
  if (layout.kind === 'interleaved' && type === 'uint8') return new Uint8ClampedArray(buf.data.buffer, buf.data.byteOffset, buf.data.length);
  const rgba = new Uint8ClampedArray(4 * width * height);
  const sc = layout.strides[2];
  const f = scaleOut(type);
  eachPixel(width, height, layout, (p, at) => {
    for (let c = 0; c < 4; c++) {
      if (layout.channels === 1) rgba[p + c] = c === 3 ? 255 : f(buf.data[at]);
      else rgba[p + c] = c < layout.channels ? f(buf.data[at + c * sc]) : 255;
    }
  });
  return rgba;
}

function run(values) {
  if (!pipeline) throw new HalideError('no pipeline is loaded', { code: 'bad-argument' });
  if (!image) throw new HalideError('no image is loaded', { code: 'bad-argument' });
  const input = pipeline.arguments.find((a) => a.kind === 'input');
  const output = pipeline.arguments.find((a) => a.kind === 'output');
  if (!input || !output) {
    throw new HalideError(`${pipeline.name} needs an input and an output buffer to run on an image`, { code: 'bad-argument' });
  }
  const attempt = (planar) => {
    const inLayout = layoutFor(input.dimensions, image.width, image.height, planar);
    const outLayout = layoutFor(output.dimensions, image.width, image.height, planar);
    const key = `${input.type}/${inLayout.kind}`;
    if (inputCache?.key !== key) inputCache = { key, buffer: toBuffer(input.type, inLayout) };
    const out = { data: new (arrayFor(output.type))(outLayout.shape.reduce((a, b) => a * b, 1)), shape: outLayout.shape, strides: outLayout.strides };
    const args = { ...values, [input.name]: inputCache.buffer, [output.name]: out };
    const t0 = performance.now();
    pipeline.run(args);
    const ms = performance.now() - t0;
    return { ms, layout: outLayout.kind, rgba: toRgba(out, output.type, outLayout) };
  };
  if (preferPlanar || input.dimensions !== 3) return attempt(true);
  try {
    return attempt(false);
  } catch (e) {
    if (!(e instanceof HalideError) || !/stride/i.test(e.message)) throw e;
    preferPlanar = true; // this pipeline wants planar buffers; remember it
    printed = [];
    return attempt(true);
  }
}

async function load({ url, bytes, label, entry }) {
  if (pipeline) {
    pipeline.dispose();
    pipeline = null;
  }
  preferPlanar = false;
  inputCache = null;
  // Halide's error text also ends up in the HalideError's message, shown on the page.
  const options = { print, error: () => {} };
  if (entry) options.entry = entry;
  let source = bytes;
  if (url) {
    const response = await fetch(url);
    if (!response.ok) throw new HalideError(`cannot fetch ${label ?? url}: HTTP ${response.status}`, { code: 'bad-module' });
    source = response;
  }
  pipeline = await Pipeline.load(source, options);
  return { name: pipeline.name, target: pipeline.target, arguments: pipeline.arguments };
}

// One message at a time, in order: a run never overlaps a load that awaits.
let queue = Promise.resolve();
self.onmessage = ({ data: msg }) => {
  queue = queue.then(() => handle(msg));
};

async function handle(msg) {
  const { id } = msg;
  try {
    if (!Pipeline) {
      try {
        ({ Pipeline, HalideError } = await lib);
      } catch (e) {
        throw new Error(`cannot load /lib/web.mjs (${e.message}); is the browser build in pkg/web? Run \`node scripts/setup.mjs --build\``);
      }
    }
    switch (msg.type) {
      case 'load': {
        const info = await load(msg);
        self.postMessage({ type: 'loaded', id, ...info });
        break;
      }
      case 'image': {
        image = { width: msg.width, height: msg.height, rgba: new Uint8ClampedArray(msg.rgba) };
        inputCache = null;
        self.postMessage({ type: 'image-set', id });
        break;
      }
      case 'run': {
        const r = run(msg.values);
        const stats = pipeline.stats();
        flushPrints();
        self.postMessage(
          { type: 'result', id, width: image.width, height: image.height, rgba: r.rgba, ms: r.ms, layout: r.layout, stats },
          [r.rgba.buffer],
        );
        break;
      }
      default:
        throw new Error(`unknown message ${msg.type}`);
    }
  } catch (e) {
    flushPrints();
    self.postMessage({ type: 'error', id, op: msg.type, ...describeError(e) });
  }
  flushPrints();
}

lib.then(() => self.postMessage({ type: 'ready' }), () => {});
