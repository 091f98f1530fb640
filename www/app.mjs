// The in-browser demo: pick a Halide pipeline (bundled or your own .wasm),
// pick an image, move the sliders built from the pipeline's metadata. The
// pipeline itself runs in ./worker.mjs so the page never freezes.
//
// For tests, `window.__demo` exposes what the last run used and produced:
// { pipeline, values, width, height, inputPixels, outputPixels, runs }.

const MAX_SIDE = 2048; // larger images are scaled down to keep the demo interactive
const SAMPLE = new URL('./assets/sample.png', import.meta.url);
const MANIFEST = new URL('../fixtures/manifest.json', import.meta.url);

const $ = (id) => document.getElementById(id);
const els = {
  select: $('pipeline'), signature: $('signature'), controls: $('controls'), reset: $('reset'),
  wasmFile: $('wasm-file'), imageFile: $('image-file'), input: $('input'), output: $('output'),
  inputCaption: $('input-caption'), outputCaption: $('output-caption'), error: $('error'),
  errorTitle: $('error-title'), errorCode: $('error-code'), errorMessage: $('error-message'),
  status: $('status-text'), log: $('log'), logText: $('log-text'), dropzone: $('dropzone'),
  stat: {
    time: $('stat-time'), roundtrip: $('stat-roundtrip'), runs: $('stat-runs'), layout: $('stat-layout'),
    memory: $('stat-memory'), heap: $('stat-heap'), allocs: $('stat-allocs'), size: $('stat-size'),
  },
};

const demo = (window.__demo = { pipeline: null, values: null, width: 0, height: 0, inputPixels: null, outputPixels: null, runs: 0 });

// ---------------------------------------------------------------- state ---

let bundled = []; // [{ name, wasm, entry, label }]
let custom = null; // { label, bytes } — the last .wasm the user opened
let info = null; // { name, target, arguments } of the loaded pipeline
let values = {}; // scalar name → value passed to p.run
let image = null; // { width, height, rgba, label }
let epoch = 0; // bumps when the pipeline or the image changes; replies to older runs are dropped
let pipelineEpoch = 0; // the newest pipeline load
let imageEpoch = 0; // the newest image load
let outstanding = 0; // worker requests not answered yet
let failed = false; // the newest finished operation failed

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

// --------------------------------------------------------------- worker ---

const worker = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
const waiting = new Map();
let nextId = 1;

/** Sends a request to the worker; resolves with its reply, rejects with a HalideError-like object. */
function call(msg, transfer = []) {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    worker.postMessage({ ...msg, id }, transfer);
  });
}

worker.onmessage = ({ data }) => {
  if (data.type === 'print') return appendLog(data.text);
  if (data.type === 'ready') return;
  const w = waiting.get(data.id);
  if (!w) return;
  waiting.delete(data.id);
  if (data.type === 'error') w.reject(data);
  else w.resolve(data);
};

worker.onerror = (e) => {
  e.preventDefault?.();
  const err = { name: 'Error', code: null, message: `The worker could not start: ${e.message || 'see the console'}. Is the browser build (pkg/web) built?` };
  for (const w of waiting.values()) w.reject(err);
  waiting.clear();
  failed = true;
  showError(err);
  setState('error');
};

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

function formatBytes(n) {
  if (typeof n !== 'number') return String(n);
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

const formatMs = (ms) => (ms < 10 ? `${ms.toFixed(2)} ms` : ms < 100 ? `${ms.toFixed(1)} ms` : `${Math.round(ms)} ms`);

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

// ----------------------------------------------------------------- runs ---

let running = false;
let pending = null; // the newest run request not sent yet: at most one waits

/** Asks for a run with the current values; coalesces while one is in flight. */
function scheduleRun() {
  if (!info || !image) return;
  if (!pending) begin(); // one busy mark per waiting request
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
    const t0 = performance.now();
    try {
      const r = await call({ type: 'run', values: req.values });
      if (req.epoch === epoch) {
        failed = false;
        clearError();
        drawResult(r, req.values, performance.now() - t0);
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

function drawResult(r, used, roundtrip) {
  const { width, height } = r;
  const ctx = els.output.getContext('2d');
  if (els.output.width !== width || els.output.height !== height) Object.assign(els.output, { width, height });
  const pixels = new ImageData(new Uint8ClampedArray(r.rgba), width, height);
  ctx.putImageData(pixels, 0, 0);
  els.outputCaption.textContent = `${info.name}`;
  const s = r.stats ?? {};
  els.stat.time.textContent = formatMs(r.ms);
  els.stat.roundtrip.textContent = formatMs(roundtrip);
  els.stat.runs.textContent = String(s.runs ?? '—');
  els.stat.layout.textContent = { interleaved: 'RGBA [w,h,4]', planar: 'RGB planar', gray: 'gray [w,h]' }[r.layout] ?? r.layout;
  els.stat.layout.title = { interleaved: 'interleaved RGBA: shape [w, h, 4], strides [4, 4w, 1]', planar: 'planar RGB: shape [w, h, 3], strides [1, w, wh]', gray: 'gray: shape [w, h]' }[r.layout] ?? '';
  els.stat.memory.textContent = formatBytes(s.memoryBytes);
  els.stat.heap.textContent = formatBytes(s.heapInUseBytes);
  els.stat.allocs.textContent = String(s.liveAllocations ?? '—');
  els.stat.size.textContent = `${width} × ${height}`;
  Object.assign(demo, {
    pipeline: info.name,
    values: Object.fromEntries(Object.entries(used).map(([k, v]) => [k, typeof v === 'bigint' ? v.toString() : v])),
    width,
    height,
    outputPixels: new Uint8ClampedArray(r.rgba),
    runs: demo.runs + 1,
    stats: s,
    ms: r.ms,
    layout: r.layout,
  });
}

// ------------------------------------------------------------ pipelines ---

async function loadPipeline(source) {
  const my = ++pipelineEpoch;
  epoch++;
  begin();
  dropPending(); // a run for the old pipeline is moot
  try {
    const msg = source.bytes
      ? { type: 'load', bytes: source.bytes, label: source.label }
      : { type: 'load', url: source.url, label: source.label, entry: source.entry };
    const loaded = await call(msg, source.bytes ? [source.bytes] : []);
    if (my !== pipelineEpoch) return;
    info = { name: loaded.name, target: loaded.target, arguments: loaded.arguments };
    els.logText.textContent = '';
    els.log.hidden = true;
    failed = false;
    clearError();
    els.signature.innerHTML = signatureOf(info);
    buildControls(info);
    scheduleRun();
  } catch (e) {
    if (my !== pipelineEpoch) return;
    info = null;
    failed = true;
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
    if (custom) loadPipeline({ bytes: custom.bytes.slice(0), label: custom.label });
    return;
  }
  const m = bundled.find((b) => b.name === value);
  if (m) loadPipeline({ url: new URL(`../fixtures/${m.wasm}`, import.meta.url).href, entry: m.entry, label: m.name });
}

els.select.addEventListener('change', () => selectPipeline(els.select.value));

async function openWasm(file) {
  begin(); // busy from the moment the file is chosen
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
    selectPipeline(opt.value); // marks itself busy before this one ends
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
    const copy = img.rgba.slice().buffer;
    await call({ type: 'image', width: img.width, height: img.height, rgba: copy }, [copy]);
    if (my !== imageEpoch) return;
    image = { ...img, label };
    Object.assign(els.input, { width: img.width, height: img.height });
    els.input.getContext('2d').putImageData(new ImageData(img.rgba, img.width, img.height), 0, 0);
    els.inputCaption.textContent = `${label} · ${img.width} × ${img.height}${img.scaled ? ` (scaled from ${img.scaled.from.join(' × ')})` : ''}`;
    els.stat.size.textContent = `${img.width} × ${img.height}`;
    Object.assign(demo, { inputPixels: new Uint8ClampedArray(img.rgba), inputWidth: img.width, inputHeight: img.height });
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
    bundled = Object.entries(manifest.modules ?? {})
      .filter(([, m]) => m.purpose === 'demo')
      .map(([name, m]) => ({ name, wasm: m.wasm ?? `${name}.wasm`, entry: m.entry, label: prettyName(name) }));
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
    await imageDone; // so its success cannot hide this error
    failed = true;
    showError(e);
  } finally {
    end();
  }
}

start();
