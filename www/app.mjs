// The in-browser demo: Halide's own apps (bilateral grid, local Laplacian, a
// fast Gaussian blur) on a photo, next to the same operation in OpenCV.js.
//
// Each bundled pipeline has a threaded build (wasm_threads) and a serial one:
// `Pipeline.load([threaded, serial], { threads })` takes the threaded build
// when the page is cross-origin isolated, the serial one elsewhere. Every run
// is `p.runAsync(args)`: it runs in the pipeline's own worker (which starts
// the thread pool), so the page never blocks. After a run the page times
// REPS more runs on 1 thread and on N threads (medians), then OpenCV.js.
//
// For tests, `window.__demo` exposes what the last run used and produced:
// { pipeline, build, threads, values, width, height, inputPixels,
//   outputPixels, layout, runs, times: { one, n, threads }, opencv }.

import { layoutFor, toBuffer, toRgba, arrayFor } from './pixels.mjs';

const MAX_SIDE = 2048; // larger images are scaled down to keep the demo interactive
const REPS = 5; // runs per median
const SAMPLE = new URL('./assets/sample.png', import.meta.url);
const MANIFEST = new URL('../fixtures/manifest.json', import.meta.url);
const OPENCV = new URL('../node_modules/@techstark/opencv-js/dist/opencv.js', import.meta.url);
// Imported dynamically, so that a missing build is a message on the page.
const lib = import('../lib/web.mjs');
let Pipeline;
let HalideError = class extends Error {};

const $ = (id) => document.getElementById(id);
const els = {
  select: $('pipeline'), signature: $('signature'), controls: $('controls'), reset: $('reset'),
  wasmFile: $('wasm-file'), imageFile: $('image-file'), input: $('input'), output: $('output'), opencv: $('opencv'),
  inputCaption: $('input-caption'), outputCaption: $('output-caption'), error: $('error'),
  errorTitle: $('error-title'), errorCode: $('error-code'), errorMessage: $('error-message'),
  status: $('status-text'), log: $('log'), logText: $('log-text'), dropzone: $('dropzone'),
  threads: $('threads'), threadsValue: $('threads-value'), threadsMax: $('threads-max'), threadsHint: $('threads-hint'),
  build: $('build'), compare: $('compare'), zoom: $('zoom'), scale: $('scale'), download: $('download'),
  viewport: $('viewport'), split: $('split'), divider: $('divider'), rightLabel: $('right-label'), opencvNote: $('opencv-note'),
  stat: {
    one: $('stat-one'), n: $('stat-n'), nLabel: $('stat-n-label'), cv: $('stat-cv'), cvLabel: $('stat-cv-label'),
    size: $('stat-size'), layout: $('stat-layout'),
  },
};
$('reps').textContent = String(REPS);

const demo = (window.__demo = { pipeline: null, build: null, threads: 0, values: null, width: 0, height: 0, inputPixels: null, outputPixels: null, runs: 0, times: null, opencv: null });

// ---------------------------------------------------------------- state ---

const CORES = Math.max(1, navigator.hardwareConcurrency || 1);
let bundled = []; // [{ name, label, serial, threaded }]
let current = null; // { label, opencv, sources: [ArrayBuffer...] } of the chosen pipeline
let pipelines = new Map(); // threads → Promise<Pipeline> of the current pipeline
let info = null; // { name, target, arguments, threaded } of the loaded pipeline
let values = {}; // scalar name → value passed to the run
let original = null; // the image as opened: { width, height, rgba, label, scaled }
let image = null; // the image the pipelines get (original, maybe upscaled)
let threads = CORES;
let epoch = 0; // bumps when the pipeline, the image or the threads change; older results are dropped
let pipelineEpoch = 0;
let outstanding = 0;
let failed = false;
let preferPlanar = false; // learnt per pipeline: interleaved first, planar after a stride error
let inputCache = null; // { key, buffer }
let lastResult = null; // { rgba, width, height } shown on the right (Halide)

els.threads.max = String(CORES);
els.threadsMax.textContent = String(CORES);
els.threads.value = String(threads);
els.threadsValue.textContent = String(threads);

function setState(s) {
  document.body.dataset.state = s;
  if (s === 'busy') els.status.textContent = 'Running…';
}
function begin() {
  outstanding++;
  setState('busy');
}
function end() {
  outstanding--;
  if (outstanding === 0) {
    setState(failed ? 'error' : 'done');
    els.status.textContent = failed ? 'Failed' : info ? `Ready · ${info.name}` : 'Ready';
  }
}

// ------------------------------------------------------------------ ui ---

function showError(e, context) {
  const isHalide = e?.name === 'HalideError';
  els.errorTitle.textContent = context ?? (isHalide ? 'The pipeline failed' : 'Something went wrong');
  const code = e?.code ?? null;
  els.errorCode.textContent = isHalide ? `HalideError · code ${code === null ? '—' : String(code)}` : '';
  els.errorCode.hidden = !isHalide;
  els.errorMessage.textContent = String(e?.message ?? e);
  els.error.hidden = false;
  els.output.closest('.frame').classList.add('stale');
  if (demo.pipeline) els.outputCaption.textContent = `${demo.pipeline} · previous result`;
}
function clearError() {
  els.error.hidden = true;
  els.output.closest('.frame').classList.remove('stale');
}
function appendLog(text) {
  els.log.hidden = false;
  const t = els.logText.textContent + text;
  els.logText.textContent = t.length > 20000 ? t.slice(-20000) : t;
}
const prettyName = (name) => {
  const words = name.replace(/^demo_/, '').split('_');
  return words.map((w, i) => (i === 0 ? w[0].toUpperCase() + w.slice(1) : w)).join(' ');
};
const formatMs = (ms) => (ms < 10 ? `${ms.toFixed(2)} ms` : ms < 100 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function signatureOf(p) {
  const arg = (a) => {
    if (a.kind === 'scalar') return `<span class="sig-scalar">${a.type} ${a.name}</span>`;
    const dims = a.dimensions ? `, ${a.dimensions}D` : '';
    return `<span class="sig-${a.kind}">${a.kind === 'output' ? 'out ' : ''}Buffer&lt;${a.type}${dims}&gt; ${a.name}</span>`;
  };
  const esc = (s) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
  return `<span class="sig-name">${esc(p.name)}</span>(${p.arguments.map((a) => arg({ ...a, name: esc(a.name) })).join(', ')})<span class="sig-target">${esc(p.target ?? '')}</span>`;
}

// ------------------------------------------------------------- controls ---

const INT_RANGES = { bool: [0, 1], uint8: [0, 255], int8: [-128, 127], uint16: [0, 65535], int16: [-32768, 32767] };
const isFloat = (t) => /^(b?float)/.test(t);
const is64 = (t) => t === 'int64' || t === 'uint64';

/** min, max, step and default for a scalar's slider. */
function sliderSpec(a) {
  const num = (v) => (v === undefined || v === null ? undefined : Number(v));
  let def = num(a.default);
  let min = num(a.min);
  let max = num(a.max);
  if (isFloat(a.type)) {
    def ??= min ?? 0;
    min ??= Math.min(0, def);
    max ??= Math.max(min + 1, def > 0 ? def * 4 : def + 1);
    const span = max - min;
    const step = span > 0 ? 10 ** Math.floor(Math.log10(span / 100)) : 0.01;
    const decimals = Math.max(0, -Math.floor(Math.log10(step)));
    return { min, max, step, def, decimals };
  }
  const [tmin, tmax] = INT_RANGES[a.type] ?? [undefined, undefined];
  def ??= min ?? 0;
  min ??= tmin ?? Math.min(0, def);
  max ??= tmax ?? Math.max(min + 100, def * 2);
  return { min, max, step: 1, def, decimals: 0 };
}

function toValue(a, text) {
  if (a.type === 'bool') return Boolean(text);
  if (is64(a.type)) return BigInt(Math.round(Number(text)));
  return Number(text);
}

function emptyControls(text) {
  const p = document.createElement('p');
  p.className = 'hint';
  p.textContent = text;
  els.controls.replaceChildren(p);
  els.reset.disabled = true;
}

function buildControls(p) {
  els.controls.replaceChildren();
  values = {};
  const scalars = p.arguments.filter((a) => a.kind === 'scalar');
  els.reset.disabled = scalars.length === 0;
  if (scalars.length === 0) {
    const none = document.createElement('p');
    none.className = 'hint';
    none.textContent = `${p.name} takes no scalar parameters.`;
    els.controls.append(none);
    return;
  }
  for (const a of scalars) {
    const row = document.createElement('div');
    row.className = 'control';
    const id = `arg-${a.name}`;
    const label = document.createElement('label');
    label.htmlFor = id;
    label.innerHTML = `<span class="control-name"></span><span class="control-type">${a.type}</span>`;
    label.firstChild.textContent = a.name;
    const input = document.createElement('input');
    input.id = id;
    input.name = a.name;
    input.dataset.arg = a.name;
    if (a.type === 'bool') {
      input.type = 'checkbox';
      input.className = 'toggle';
      const def = Boolean(a.default);
      input.checked = def;
      input.dataset.default = def ? '1' : '';
      values[a.name] = def;
      input.addEventListener('change', () => {
        values[a.name] = input.checked;
        scheduleRun();
      });
      row.classList.add('control-bool');
      row.append(label, input);
    } else {
      const spec = sliderSpec(a);
      input.type = 'range';
      Object.assign(input, { min: spec.min, max: spec.max, step: spec.step });
      input.value = spec.def;
      input.dataset.default = String(spec.def);
      const out = document.createElement('output');
      out.htmlFor = id;
      const show = (v) => (out.textContent = Number(v).toFixed(spec.decimals));
      show(spec.def);
      // The metadata's default itself, not the slider's rounding of it.
      values[a.name] = a.default !== undefined ? (is64(a.type) ? BigInt(a.default) : a.default) : toValue(a, spec.def);
      input.addEventListener('input', () => {
        values[a.name] = toValue(a, input.value);
        show(input.value);
        scheduleRun();
      });
      const scale = document.createElement('div');
      scale.className = 'scale';
      scale.innerHTML = `<span></span><span></span>`;
      scale.children[0].textContent = Number(spec.min).toFixed(spec.decimals);
      scale.children[1].textContent = Number(spec.max).toFixed(spec.decimals);
      label.append(out);
      row.append(label, input, scale);
    }
    els.controls.append(row);
  }
}

els.reset.addEventListener('click', () => {
  if (!info) return;
  buildControls(info);
  scheduleRun();
});
els.controls.addEventListener('submit', (e) => e.preventDefault());

// -------------------------------------------------------------- OpenCV ---

// The same operation in OpenCV.js, on the same pixels, on the page's thread.
// Each takes an RGBA cv.Mat and returns an RGBA cv.Mat (the caller deletes both).
const OPENCV_OPS = {
  demo_bilateral: {
    label: 'cv.bilateralFilter',
    note: (v) => `OpenCV.js: cv.bilateralFilter on RGB, sigmaSpace 8 (the grid's cell), sigmaColor ${(v.r_sigma * 255).toFixed(1)} (r_sigma × 255), window from sigmaSpace (25×25). It is the exact filter over colour distance; the bilateral grid approximates it per channel.`,
    run(cv, src, v) {
      const rgb = new cv.Mat();
      const out = new cv.Mat();
      try {
        cv.cvtColor(src, rgb, cv.COLOR_RGBA2RGB);
        cv.bilateralFilter(rgb, out, -1, v.r_sigma * 255, 8, cv.BORDER_REPLICATE);
        cv.cvtColor(out, rgb, cv.COLOR_RGB2RGBA);
        return rgb;
      } catch (e) {
        rgb.delete();
        throw e;
      } finally {
        out.delete();
      }
    },
  },
  demo_gaussian_blur: {
    label: 'cv.GaussianBlur',
    note: (v) => `OpenCV.js: cv.GaussianBlur on RGBA, sigma ${v.sigma.toFixed(2)}, kernel size from sigma, BORDER_REPLICATE (Halide's repeat_edge).`,
    run(cv, src, v) {
      const out = new cv.Mat();
      const size = new cv.Size(0, 0);
      cv.GaussianBlur(src, out, size, v.sigma, v.sigma, cv.BORDER_REPLICATE);
      return out;
    },
  },
  demo_local_laplacian: {
    label: 'CLAHE on L (cv.CLAHE)',
    note: () => 'OpenCV.js has no local Laplacian filter (and this build has no detailEnhance: no photo module). The closest local-contrast tool it offers is CLAHE: here on the L channel of Lab, clip limit 2, 8×8 tiles. A different algorithm, shown for its time and look.',
    run(cv, src) {
      const rgb = new cv.Mat();
      const lab = new cv.Mat();
      const planes = new cv.MatVector();
      const clahe = new cv.CLAHE(2.0, new cv.Size(8, 8));
      try {
        cv.cvtColor(src, rgb, cv.COLOR_RGBA2RGB);
        cv.cvtColor(rgb, lab, cv.COLOR_RGB2Lab);
        cv.split(lab, planes);
        const l = planes.get(0);
        clahe.apply(l, l);
        planes.set(0, l);
        l.delete();
        cv.merge(planes, lab);
        cv.cvtColor(lab, rgb, cv.COLOR_Lab2RGB);
        const out = new cv.Mat();
        cv.cvtColor(rgb, out, cv.COLOR_RGB2RGBA);
        return out;
      } finally {
        rgb.delete();
        lab.delete();
        planes.delete();
        clahe.delete();
      }
    },
  },
};

let opencvReady = null;
/** Loads OpenCV.js (served from node_modules) once; resolves to `{ cv }`. */
function loadOpenCV() {
  opencvReady ??= new Promise((resolve, reject) => {
    const s = document.createElement('script');
    s.src = OPENCV.href;
    s.async = true;
    s.onerror = () => reject(new Error(`could not load ${OPENCV.pathname} (npm ci installs @techstark/opencv-js)`));
    s.onload = () => {
      const cv = window.cv;
      if (!cv) return reject(new Error('OpenCV.js defined no cv'));
      // cv is a thenable Emscripten module: wait for its runtime, never await it itself.
      if (cv.Mat) resolve({ cv });
      else cv.onRuntimeInitialized = () => resolve({ cv });
    };
    document.head.append(s);
  });
  return opencvReady; // { cv }: a promise must never resolve to the thenable cv itself
}

/** Runs the OpenCV counterpart REPS times on the image; draws the last result; the median time. */
async function runOpenCV(op, used) {
  const { cv } = await loadOpenCV();
  const src = cv.matFromImageData(new ImageData(new Uint8ClampedArray(image.rgba), image.width, image.height));
  try {
    const times = [];
    let out = null;
    // Fewer runs when one is slow: OpenCV.js blocks the page while it runs.
    for (let i = 0, spent = 0; i < REPS && (i === 0 || spent < 1500); i++) {
      out?.delete();
      const t0 = performance.now();
      out = op.run(cv, src, used);
      times.push(performance.now() - t0);
      spent += times[i];
      await new Promise((r) => setTimeout(r, 0)); // let the page breathe between runs
    }
    const pixels = new Uint8ClampedArray(out.data);
    out.delete();
    return { ms: median(times), runs: times.length, pixels };
  } finally {
    src.delete();
  }
}

// ----------------------------------------------------------- pipelines ---

const printLog = (text) => appendLog(text);

/** The current pipeline loaded with `n` threads (one Pipeline per thread count in use). */
function pipelineFor(n) {
  const key = info && !info.threaded ? 1 : n;
  if (!pipelines.has(key)) {
    const sources = current.sources.map((b) => new Uint8Array(b));
    const p = Pipeline.load(sources.length === 1 ? sources[0] : sources, { threads: key, print: printLog, error: () => {} });
    p.catch(() => pipelines.get(key) === p && pipelines.delete(key));
    pipelines.set(key, p);
  }
  return pipelines.get(key);
}

/** Disposes the pipelines of thread counts other than `keep`. */
function disposePipelines(keep = []) {
  for (const [k, p] of pipelines) {
    if (keep.includes(k)) continue;
    pipelines.delete(k);
    p.then((q) => q.dispose(), () => {});
  }
}

function describeThreads() {
  const on = info?.threaded;
  els.threads.disabled = !on;
  els.build.textContent = !info ? '—' : on ? 'wasm_threads build' : 'serial build';
  els.threadsValue.textContent = on ? String(threads) : '1';
  els.threadsHint.textContent = !info
    ? ''
    : on
      ? `Runs the pipeline's parallel loops on ${threads} thread${threads > 1 ? 's' : ''} (the pipeline's worker and ${threads - 1} more); this browser reports ${CORES} core${CORES > 1 ? 's' : ''}.`
      : crossOriginIsolated
        ? 'This module was built without wasm_threads: its parallel loops run on one thread.'
        : 'This page is not cross-origin isolated (no COOP/COEP headers), so it has no shared memory: the serial build runs. `npm run serve` sends both headers.';
  els.stat.nLabel.textContent = `Halide, ${threads} threads`;
}

els.threads.addEventListener('input', () => {
  threads = Number(els.threads.value);
  epoch++;
  disposePipelines([1, threads]);
  describeThreads();
  scheduleRun();
});

/** Runs `p` on the image: interleaved first, planar after a stride error. Resolves to the result. */
async function runOn(p, used) {
  const input = info.arguments.find((a) => a.kind === 'input');
  const output = info.arguments.find((a) => a.kind === 'output');
  if (!input || !output) throw new HalideError(`${info.name} needs an input and an output buffer to run on an image`, { code: 'bad-argument' });
  const attempt = async (planar) => {
    const inLayout = layoutFor(input.dimensions, image.width, image.height, planar, HalideError);
    const outLayout = layoutFor(output.dimensions, image.width, image.height, planar, HalideError);
    const key = `${input.type}/${inLayout.kind}`;
    if (inputCache?.key !== key) inputCache = { key, buffer: toBuffer(image, input.type, inLayout, HalideError) };
    const out = { data: new (arrayFor(output.type, HalideError))(outLayout.shape.reduce((a, b) => a * b, 1)), shape: outLayout.shape, strides: outLayout.strides };
    const args = { ...used, [input.name]: inputCache.buffer, [output.name]: out };
    const t0 = performance.now();
    await p.runAsync(args);
    const ms = performance.now() - t0;
    return { ms, args, layout: outLayout, out, type: output.type };
  };
  if (preferPlanar || input.dimensions !== 3) return attempt(true);
  try {
    return await attempt(false);
  } catch (e) {
    if (!(e instanceof HalideError) || !/stride/i.test(e.message)) throw e;
    preferPlanar = true; // this pipeline wants planar buffers; remember it
    return attempt(true);
  }
}

/** Median time of REPS runs of `p` on `args` (null when a newer request came in). */
async function timeRuns(p, args, req) {
  const times = [];
  for (let i = 0; i < REPS; i++) {
    if (pending || req.epoch !== epoch) return null;
    const t0 = performance.now();
    await p.runAsync(args);
    times.push(performance.now() - t0);
  }
  return median(times);
}

// ----------------------------------------------------------------- runs ---

let running = false;
let pending = null; // the newest run request not started yet: at most one waits

/** Asks for a run with the current values; coalesces while one is in flight. */
function scheduleRun() {
  if (!info || !image) return;
  if (!pending) begin();
  pending = { values: { ...values }, epoch };
  if (!running) pump();
}

function dropPending() {
  if (!pending) return;
  pending = null;
  end();
}

async function pump() {
  running = true;
  while (pending) {
    const req = pending;
    pending = null;
    try {
      const p = await pipelineFor(threads);
      if (req.epoch !== epoch) continue;
      const r = await runOn(p, req.values);
      if (req.epoch !== epoch) continue;
      failed = false;
      clearError();
      drawResult(r, req.values);
      // Times: REPS runs on 1 thread and on N, then OpenCV.js.
      const times = { threads, one: null, n: null };
      els.stat.one.textContent = els.stat.n.textContent = '…';
      if (info.threaded && threads > 1) {
        times.n = await timeRuns(p, r.args, req);
        const one = await pipelineFor(1);
        if (req.epoch === epoch && !pending) times.one = await timeRuns(one, r.args, req);
      } else {
        times.one = await timeRuns(p, r.args, req);
      }
      if (req.epoch !== epoch || pending) continue;
      demo.times = times;
      els.stat.one.textContent = times.one === null ? '—' : formatMs(times.one);
      els.stat.n.textContent = times.n === null ? (info.threaded ? '(set threads above 1)' : '—') : `${formatMs(times.n)} (${(times.one / times.n).toFixed(2)}× vs 1)`;
      const op = current.opencv && OPENCV_OPS[current.opencv];
      if (op) {
        els.stat.cv.textContent = 'loading…';
        const cvr = await runOpenCV(op, req.values);
        if (req.epoch !== epoch || pending) continue;
        const ctx = els.opencv.getContext('2d');
        Object.assign(els.opencv, { width: image.width, height: image.height });
        ctx.putImageData(new ImageData(cvr.pixels, image.width, image.height), 0, 0);
        els.stat.cvLabel.textContent = `OpenCV.js ${op.label}${cvr.runs < REPS ? ` (${cvr.runs} run${cvr.runs > 1 ? 's' : ''})` : ''}`;
        const best = Math.min(...[times.one, times.n].filter((t) => t !== null));
        const ratio = cvr.ms / best;
        els.stat.cv.textContent = `${formatMs(cvr.ms)} (${ratio >= 1 ? `Halide ${ratio.toFixed(1)}× faster` : `OpenCV.js ${(1 / ratio).toFixed(1)}× faster`})`;
        els.opencvNote.textContent = op.note(req.values);
        demo.opencv = { op: op.label, ms: cvr.ms, pixels: cvr.pixels, width: image.width, height: image.height, values: { ...req.values } };
      }
    } catch (e) {
      if (req.epoch === epoch) {
        failed = true;
        showError(e);
      }
    } finally {
      end();
    }
  }
  running = false;
}

function drawResult(r, used) {
  const { width, height } = image;
  const { rgba, range } = toRgba(r.out, r.type, r.layout);
  const pixels = new Uint8ClampedArray(rgba);
  if (els.output.width !== width || els.output.height !== height) Object.assign(els.output, { width, height });
  els.output.getContext('2d').putImageData(new ImageData(pixels, width, height), 0, 0);
  lastResult = { width, height };
  els.download.disabled = false;
  els.outputCaption.textContent = `${info.name}${range ? ` · float shown from ${range.lo.toPrecision(3)} to ${range.hi.toPrecision(3)}` : ''}`;
  els.stat.layout.textContent = { interleaved: 'RGBA [w,h,4]', planar: 'RGB planar', gray: 'gray [w,h]' }[r.layout.kind] ?? r.layout.kind;
  els.stat.size.textContent = `${width} × ${height}`;
  Object.assign(demo, {
    pipeline: info.name,
    build: info.threaded ? 'threaded' : 'serial',
    threads: info.threaded ? threads : 1,
    values: Object.fromEntries(Object.entries(used).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v])),
    width,
    height,
    inputPixels: new Uint8ClampedArray(image.rgba),
    outputPixels: pixels,
    runs: demo.runs + 1,
    ms: r.ms,
    layout: r.layout.kind,
    range: range ?? null,
  });
}

async function loadPipeline(source) {
  const my = ++pipelineEpoch;
  epoch++;
  begin();
  dropPending();
  disposePipelines();
  info = null;
  demo.opencv = null;
  demo.times = null;
  els.opencv.getContext('2d').clearRect(0, 0, els.opencv.width, els.opencv.height);
  els.stat.cv.textContent = source.opencv ? '—' : 'no counterpart';
  els.stat.cvLabel.textContent = 'OpenCV.js';
  els.opencvNote.textContent = '';
  els.compare.querySelector('[value=opencv]').disabled = !source.opencv;
  if (!source.opencv && els.compare.value === 'opencv') setCompare('halide');
  try {
    if (!Pipeline) {
      try {
        ({ Pipeline, HalideError } = await lib);
      } catch (e) {
        throw new Error(`cannot load /lib/web.mjs (${e.message}); is the browser build in pkg/web? Run \`npm run build\``);
      }
    }
    let sources;
    if (source.bytes) sources = [source.bytes];
    else {
      sources = await Promise.all(
        source.urls.map(async (u) => {
          const r = await fetch(u);
          if (!r.ok) throw new HalideError(`cannot fetch ${u}: HTTP ${r.status}`, { code: 'bad-module' });
          return r.arrayBuffer();
        }),
      );
    }
    if (my !== pipelineEpoch) return;
    current = { label: source.label, opencv: source.opencv, sources };
    preferPlanar = false;
    inputCache = null;
    const p = await pipelineFor(threads);
    if (my !== pipelineEpoch) return;
    let threaded;
    if (source.threadedName) threaded = p.name === source.threadedName;
    else threaded = WebAssembly.Module.imports(await WebAssembly.compile(sources[0])).some((i) => i.kind === 'memory');
    info = { name: p.name, target: p.target, arguments: p.arguments, threaded };
    if (!threaded && threads !== 1) {
      // Keyed by 1 from now on.
      pipelines.set(1, pipelines.get(threads));
      pipelines.delete(threads);
    }
    els.logText.textContent = '';
    els.log.hidden = true;
    failed = false;
    clearError();
    els.signature.innerHTML = signatureOf(info);
    describeThreads();
    buildControls(info);
    scheduleRun();
  } catch (e) {
    if (my !== pipelineEpoch) return;
    info = null;
    failed = true;
    describeThreads();
    els.signature.textContent = '';
    emptyControls('No pipeline is loaded.');
    els.reset.disabled = true;
    showError(e, `Could not load ${source.label}`);
  } finally {
    end();
  }
}

function selectPipeline(value, { updateUrl = true } = {}) {
  if (updateUrl) {
    const url = new URL(location.href);
    if (value.startsWith('file:')) url.searchParams.delete('pipeline');
    else url.searchParams.set('pipeline', value);
    history.replaceState(null, '', url);
  }
  if (value.startsWith('file:')) {
    if (custom) loadPipeline({ bytes: custom.bytes, label: custom.label });
    return;
  }
  const m = bundled.find((b) => b.name === value);
  if (!m) return;
  const url = (wasm) => new URL(`../fixtures/${wasm}`, import.meta.url).href;
  // [threaded, serial]: Pipeline.load takes the first this page can run.
  const urls = m.threaded ? [url(m.threaded.wasm), url(m.serial.wasm)] : [url(m.serial.wasm)];
  loadPipeline({ urls, label: m.name, opencv: OPENCV_OPS[m.name] ? m.name : null, threadedName: m.threaded?.entry });
}

els.select.addEventListener('change', () => selectPipeline(els.select.value));

let custom = null; // { label, bytes } — the last .wasm the user opened
async function openWasm(file) {
  begin();
  try {
    const bytes = await file.arrayBuffer();
    custom = { label: file.name, bytes };
    let opt = els.select.querySelector('option[data-custom]');
    if (!opt) {
      opt = document.createElement('option');
      opt.dataset.custom = '1';
      const group = document.createElement('optgroup');
      group.label = 'Your pipeline';
      group.append(opt);
      els.select.append(group);
    }
    opt.value = `file:${file.name}`;
    opt.textContent = file.name;
    els.select.value = opt.value;
    selectPipeline(opt.value);
  } catch (e) {
    failed = true;
    showError(e, `Could not read ${file.name}`);
  } finally {
    end();
  }
}

els.wasmFile.addEventListener('change', () => {
  const f = els.wasmFile.files[0];
  els.wasmFile.value = '';
  if (f) openWasm(f);
});

// --------------------------------------------------------------- images ---

/** Decodes any image the browser can, as raw RGBA (no color management, so the pixels are the file's). */
async function decode(blob) {
  const bitmap = await createImageBitmap(blob, { colorSpaceConversion: 'none', premultiplyAlpha: 'none' });
  try {
    const k = Math.min(1, MAX_SIDE / Math.max(bitmap.width, bitmap.height));
    const width = Math.max(1, Math.round(bitmap.width * k));
    const height = Math.max(1, Math.round(bitmap.height * k));
    const c = document.createElement('canvas');
    Object.assign(c, { width, height });
    const ctx = c.getContext('2d', { willReadFrequently: true });
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, width, height);
    const { data } = ctx.getImageData(0, 0, width, height);
    return { width, height, rgba: data, scaled: k < 1 ? { from: [bitmap.width, bitmap.height] } : null };
  } finally {
    bitmap.close();
  }
}

/** The opened image upscaled by the "Image size" control (within MAX_SIDE × 2). */
function scaledImage() {
  const k = Number(els.scale.value) || 1;
  if (k === 1 || !original) return original;
  const src = document.createElement('canvas');
  Object.assign(src, { width: original.width, height: original.height });
  src.getContext('2d').putImageData(new ImageData(original.rgba, original.width, original.height), 0, 0);
  const width = Math.round(original.width * k);
  const height = Math.round(original.height * k);
  const c = document.createElement('canvas');
  Object.assign(c, { width, height });
  const ctx = c.getContext('2d', { willReadFrequently: true });
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(src, 0, 0, width, height);
  return { ...original, width, height, rgba: ctx.getImageData(0, 0, width, height).data };
}

function useImage() {
  image = scaledImage();
  inputCache = null;
  Object.assign(els.input, { width: image.width, height: image.height });
  els.input.getContext('2d').putImageData(new ImageData(image.rgba, image.width, image.height), 0, 0);
  const o = original;
  els.inputCaption.textContent = `${o.label} · ${o.width} × ${o.height}${o.scaled ? ` (scaled from ${o.scaled.from.join(' × ')})` : ''}${image !== o ? ` · run at ${image.width} × ${image.height}` : ''}`;
  els.stat.size.textContent = `${image.width} × ${image.height}`;
  Object.assign(demo, { inputPixels: new Uint8ClampedArray(image.rgba), inputWidth: image.width, inputHeight: image.height });
  applyZoom();
}

let imageEpoch = 0;
async function setImage(blob, label) {
  const my = ++imageEpoch;
  epoch++;
  begin();
  dropPending();
  try {
    let img;
    try {
      img = await decode(blob);
    } catch (e) {
      throw { name: 'Error', code: null, message: `${label} is not an image this browser can decode (${e.message}).` };
    }
    if (my !== imageEpoch) return;
    original = { ...img, label };
    useImage();
    if (info) {
      failed = false;
      clearError();
      scheduleRun();
    }
  } catch (e) {
    if (my !== imageEpoch) return;
    failed = true;
    showError(e, `Could not open ${label}`);
  } finally {
    end();
  }
}

els.imageFile.addEventListener('change', () => {
  const f = els.imageFile.files[0];
  els.imageFile.value = '';
  if (f) setImage(f, f.name);
});

els.scale.addEventListener('change', () => {
  if (!original) return;
  epoch++;
  useImage();
  scheduleRun();
});

// ------------------------------------------- split view, zoom, download ---

let splitAt = 50; // percent of the width shown as "before"
function setSplit(pct) {
  splitAt = Math.min(100, Math.max(0, pct));
  els.split.style.setProperty('--split', `${splitAt}%`);
  els.divider.setAttribute('aria-valuenow', String(Math.round(splitAt)));
}
setSplit(50);

let dragging = false;
const splitFromEvent = (e) => {
  const r = els.split.getBoundingClientRect();
  setSplit(((e.clientX - r.left) / r.width) * 100);
};
els.split.addEventListener('pointerdown', (e) => {
  dragging = true;
  els.split.setPointerCapture(e.pointerId);
  splitFromEvent(e);
});
els.split.addEventListener('pointermove', (e) => dragging && splitFromEvent(e));
els.split.addEventListener('pointerup', () => (dragging = false));
els.split.addEventListener('pointercancel', () => (dragging = false));
els.divider.addEventListener('keydown', (e) => {
  if (e.key === 'ArrowLeft') setSplit(splitAt - 5);
  else if (e.key === 'ArrowRight') setSplit(splitAt + 5);
});

function applyZoom() {
  const z = els.zoom.value;
  els.split.classList.toggle('fit', z === 'fit');
  els.split.classList.toggle('pixelated', z !== 'fit' && Number(z) >= 2);
  els.split.style.width = z === 'fit' || !image ? '' : `${image.width * Number(z)}px`;
}
els.zoom.addEventListener('change', applyZoom);

function setCompare(which) {
  els.compare.value = which;
  els.opencv.hidden = which !== 'opencv';
  els.output.hidden = which === 'opencv';
  els.rightLabel.textContent = which === 'opencv' ? 'after (OpenCV.js)' : 'after (Halide)';
}
els.compare.addEventListener('change', () => setCompare(els.compare.value));

els.download.addEventListener('click', () => {
  if (!lastResult) return;
  els.output.toBlob((blob) => {
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = `${demo.pipeline ?? 'result'}.png`;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
  }, 'image/png');
});

// --------------------------------------------------------- drag & drop ---

let dragDepth = 0;
const isWasm = (f) => /\.wasm$/i.test(f.name) || f.type === 'application/wasm';
window.addEventListener('dragenter', (e) => {
  if (!e.dataTransfer?.types?.includes('Files')) return;
  dragDepth++;
  els.dropzone.hidden = false;
});
window.addEventListener('dragleave', () => {
  if (--dragDepth <= 0) {
    dragDepth = 0;
    els.dropzone.hidden = true;
  }
});
window.addEventListener('dragover', (e) => e.preventDefault());
window.addEventListener('drop', (e) => {
  e.preventDefault();
  dragDepth = 0;
  els.dropzone.hidden = true;
  for (const f of e.dataTransfer?.files ?? []) {
    if (isWasm(f)) openWasm(f);
    else setImage(f, f.name);
  }
});

// ---------------------------------------------------------------- start ---

async function start() {
  begin();
  describeThreads();
  const imageDone = fetch(SAMPLE)
    .then((r) => {
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      return r.blob();
    })
    .then((b) => setImage(b, 'sample.png'))
    .catch((e) => {
      failed = true;
      showError(e, 'Could not load the sample photo');
    });
  try {
    let manifest;
    try {
      const r = await fetch(MANIFEST);
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      manifest = await r.json();
    } catch (e) {
      emptyControls('No pipeline is loaded.');
      throw { name: 'Error', code: null, message: `Could not read /fixtures/manifest.json (${e.message}). You can still open your own .wasm pipeline.` };
    }
    const mods = manifest.modules ?? {};
    // A demo is its serial module; its threaded build is named in "threaded".
    bundled = Object.entries(mods)
      .filter(([, m]) => m.purpose === 'demo' && !m.threads)
      .map(([name, m]) => ({ name, label: prettyName(name), serial: m, threaded: m.threaded ? mods[m.threaded] : null }));
    const group = document.createElement('optgroup');
    group.label = 'Bundled demos';
    for (const b of bundled) group.append(new Option(b.label, b.name));
    els.select.replaceChildren(group);
    const wanted = new URLSearchParams(location.search).get('pipeline');
    if (wanted && !bundled.some((b) => b.name === wanted)) {
      const placeholder = new Option('Choose a pipeline…', '', true, true);
      placeholder.disabled = true;
      els.select.prepend(placeholder);
      els.select.value = '';
      emptyControls('No pipeline is loaded.');
      await imageDone;
      failed = true;
      showError({ message: `There is no bundled pipeline named "${wanted}". Try one of: ${bundled.map((b) => b.name).join(', ')}.` }, 'Unknown pipeline');
      return;
    }
    const first = wanted ?? bundled[0]?.name;
    if (!first) throw { name: 'Error', code: null, message: 'The manifest lists no demo pipelines.' };
    els.select.value = first;
    await imageDone;
    selectPipeline(first, { updateUrl: false });
  } catch (e) {
    await imageDone;
    failed = true;
    showError(e);
  } finally {
    end();
  }
}

start();
