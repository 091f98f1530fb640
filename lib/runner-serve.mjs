// The runner's side of `p.runAsync(args)`: what runs in the pipeline's own
// worker (runner-worker.cjs in Node, runner-worker.mjs in browsers). The
// calling side, and the messages the two exchange, are in run-async.mjs.

/**
 * The runner's side: loads the pipeline on the first run (and after a
 * run whose failure took its worker threads, waits for new ones), runs
 * one message at a time, replies. For a threaded pipeline it also keeps
 * the regions of its guest memory that the caller copies arrays into.
 */
export function serveRunner({ loadForRunner, whenPoolReady, post, listen }) {
  let source = null;
  let pipeline = null;
  let current = 0; // the run in progress: prints belong to it
  let chain = Promise.resolve();
  // Regions by argument name: { block (from allocBuffer), bytes, at }. A
  // trap or abort gives the pipeline a fresh memory, which frees them: then
  // the generation changes.
  let regions = new Map();
  let generation = 0;
  listen((m) => {
    if (m.type === 'load') source = m;
    else if (m.type === 'run') chain = chain.then(() => run(m));
    else if (m.type === 'regions') chain = chain.then(() => place(m));
    else if (m.type === 'stats') chain = chain.then(() => stats(m));
  });

  /** Forgets the regions when the pipeline's memory they were in is gone (a freed block's data reads null). */
  const checkRegions = () => {
    for (const r of regions.values()) {
      if (r.block.data === null) {
        regions = new Map();
        generation++;
      }
      return;
    }
  };

  /** The run's other copies (not its outputs), handed back for the caller's next run. */
  const spareOf = (args, outputs) => {
    const out = [];
    if (args === null || typeof args !== 'object') return out;
    for (const [k, v] of Object.entries(args)) {
      const b = v?.data?.buffer;
      if (!outputs.includes(k) && b instanceof ArrayBuffer && b.byteLength > 0 && !out.includes(b)) out.push(b);
    }
    return out;
  };

  const state = { loading: false };
  async function ensureLoaded() {
    if (pipeline) return;
    state.loading = true;
    const o = { ...source.options };
    if (source.print) o.print = (text) => post({ type: 'print', id: current, text });
    if (source.error) o.error = (text) => post({ type: 'error-text', id: current, text });
    pipeline = await loadForRunner(source.module, source.memory, o);
    state.loading = false;
  }

  /** Regions of these byte lengths for these arguments: those of the same length kept, the others freed first. */
  async function place({ id, want }) {
    current = id;
    try {
      await ensureLoaded();
      checkRegions();
      const kept = new Map();
      for (const [key, bytes] of want) {
        const r = regions.get(key);
        if (r && r.bytes === bytes) kept.set(key, r);
      }
      for (const [key, r] of regions) if (kept.get(key) !== r) pipeline.freeBuffer(r.block);
      regions = kept;
      for (const [key, bytes] of want) {
        if (regions.has(key)) continue;
        let block;
        try {
          block = pipeline.allocBuffer('uint8', [bytes]);
        } catch (e) {
          if (e !== null && typeof e === 'object' && typeof e.message === 'string') {
            const why = e.message.startsWith(`${pipeline.name}: `) ? e.message.slice(pipeline.name.length + 2) : e.message;
            e.message = `${pipeline.name}: runAsync: argument '${key}' (${bytes} bytes) cannot be placed in the pipeline's memory: ${why}`;
          }
          throw e;
        }
        regions.set(key, { block, bytes, at: block.data.byteOffset });
      }
      // The memory as it is now: it takes every region.
      const buffer = regions.values().next().value.block.data.buffer;
      post({ type: 'regions', id, generation, buffer, at: Object.fromEntries([...regions].map(([k, r]) => [k, r.at])) });
    } catch (e) {
      post({ type: 'failed', id, error: { ...serialise(e), loading: state.loading }, generation });
    }
  }

  async function stats({ id }) {
    let out = null;
    if (pipeline) {
      checkRegions();
      try {
        out = { ...pipeline.stats(), regions: regions.size, regionBytes: [...regions.values()].reduce((n, r) => n + r.bytes, 0), generation };
      } catch {
        out = null;
      }
    }
    post({ type: 'stats', id, stats: out });
  }

  async function run({ id, args, outputs, placed, generation: theirs }) {
    current = id;
    try {
      await ensureLoaded();
      const starting = whenPoolReady(pipeline);
      if (starting) await starting;
      if (placed) {
        checkRegions();
        if (theirs !== generation) throw Object.assign(new Error(`${pipeline.name}: runAsync: the arguments' regions of the pipeline's memory are gone`), { code: 'trap' });
        let buffer = null;
        for (const [key, [type, length]] of Object.entries(placed)) {
          const r = regions.get(key);
          if (buffer === null) buffer = r.block.data.buffer; // the memory's current buffer, as run() sees it
          args[key].data = new globalThis[type](buffer, r.at, length);
        }
      }
      const allocated = { ...pipeline.run(args) };
      const arrays = outputs.map((k) => args[k].data);
      const spare = spareOf(args, outputs);
      const moved = Object.values(allocated).map((b) => b.data.buffer);
      post({ type: 'done', id, outputs: arrays, allocated, spare, generation }, [...arrays.map((a) => a.buffer), ...moved, ...spare]);
    } catch (e) {
      if (pipeline) checkRegions();
      const spare = spareOf(args, []);
      post({ type: 'failed', id, error: { ...serialise(e), loading: state.loading }, spare, generation }, spare);
    }
  }
}

/** A HalideError as plain data for postMessage: its cause as itself when it can be cloned, else as text. */
function serialise(e) {
  const isObject = e !== null && typeof e === 'object';
  const out = {
    message: String(isObject && 'message' in e ? e.message : e),
    code: isObject && e.code !== undefined ? e.code : 'trap',
  };
  if (isObject && e.halideCode !== undefined) out.halideCode = e.halideCode;
  if (isObject && e.cause !== undefined) {
    try {
      out.cause = structuredClone(e.cause);
    } catch {
      out.cause = String(e.cause instanceof Error ? e.cause.message : e.cause);
    }
  }
  return out;
}
