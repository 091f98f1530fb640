// `p.runAsync(args)`: a run in a worker of the pipeline's own (its runner),
// so that the calling thread never blocks. Shared by both entries: node.cjs
// (through require) and web.mjs. The runner's scripts (runner-worker.cjs in
// Node, runner-worker.mjs in browsers) call `serveRunner`.
//
// The runner loads the same compiled WebAssembly.Module with the options
// that can cross to a worker (entry, the JIT flavour's arguments, env,
// maxMemoryBytes, threads). A threaded pipeline starts its pool there,
// where Atomics.wait is allowed. A run's arrays are copied to the runner
// and its outputs copied back into the caller's arrays, on success only.
// The copies' ArrayBuffers travel by transfer and come back with the reply
// (inputs and outputs alike); the pipeline keeps the last reply's and
// copies the next call's arrays into those of the same byte length, instead
// of allocating fresh ones (a fresh multi-megabyte buffer per call cost more
// than the copy itself: ~5 ms for 12 MiB in Chromium).
// One runner per pipeline, made on the first runAsync and ended by
// dispose() (or when the pipeline is garbage collected); its runs go one at
// a time, in call order.
//
// Messages to the runner:   { type: 'load', module, memory, options, print, error }
//                           { type: 'run', id, args, outputs: [names] }
// Messages from the runner: { type: 'print' | 'error-text', id, text }
//                           { type: 'done', id, outputs: [arrays], spare: [ArrayBuffers] }
//                           { type: 'failed', id, error: { message, code, halideCode?, cause? }, spare }

/** Installs `runAsync` on `Pipeline.prototype` (and wraps `dispose` and `allocBuffer`, which it needs to know about). */
export function installRunAsync({ Pipeline, HalideError, runnerSource, createRunner }) {
  const proto = Pipeline.prototype;
  const { dispose, allocBuffer } = proto;
  const states = new WeakMap(); // Pipeline → its runner's state
  const disposed = new WeakSet();
  const allocated = new WeakSet(); // what allocBuffer returned
  // A pipeline dropped without dispose() ends its runner too.
  const collected = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry((s) => stop(s)) : null;

  const error = (message, code, cause) => new HalideError(message, cause === undefined ? { code } : { code, cause });
  const describe = (e) => String(e instanceof Error ? e.message : e);

  // run() returns the outputs it allocated. The executor's run returns how
  // many (a number crosses from Rust on the hot path, not an object) and
  // takeAllocated() gives them; none is one shared, frozen empty object.
  const { run } = proto;
  const NO_OUTPUTS = Object.freeze({});
  proto.run = function (args) {
    return run.call(this, args) === 0 ? NO_OUTPUTS : this.takeAllocated();
  };

  proto.allocBuffer = function (...a) {
    const b = allocBuffer.apply(this, a);
    allocated.add(b);
    return b;
  };

  proto.dispose = function () {
    const r = dispose.call(this);
    disposed.add(this);
    const s = states.get(this);
    if (s) {
      states.delete(this);
      collected?.unregister(s);
      stop(s, error(`${s.name}: this Pipeline was disposed`, 'disposed'));
    }
    return r;
  };

  /** Runs the pipeline in its runner; resolves once the outputs are in the caller's arrays. */
  proto.runAsync = function runAsync(args) {
    try {
      return call(this, args);
    } catch (e) {
      return Promise.reject(e);
    }
  };

  // No closure made here may see the pipeline: the runner's listeners and
  // the registry's held state would keep it from the garbage collector.
  function call(p, args) {
    if (disposed.has(p)) throw error(`${p.name}: this Pipeline was disposed`, 'disposed');
    const s = states.get(p) ?? start(p);
    const id = s.nextId++;
    const { message, transfer, outputs } = snapshot(s, id, args);
    if (!s.runner) open(s);
    try {
      s.runner.post(message, transfer);
    } catch (e) {
      throw error(`${s.name}: an argument cannot be sent to the worker that runs the pipeline: ${describe(e)}`, 'bad-argument', e);
    }
    if (s.pending.size === 0) s.runner.ref?.();
    return new Promise((resolve, reject) => s.pending.set(id, { resolve, reject, outputs, thrown: undefined }));
  }

  /** Starts the pipeline's runner and hands it the pipeline. */
  function open(s) {
    if (typeof createRunner !== 'function') throw error(`${s.name}: runAsync needs Worker, which this host lacks`, 'bad-argument');
    s.runner = createRunner({ onMessage: (m) => received(s, m), onError: (e) => failed(s, e) });
    const { module, memory, options, print, error: onError } = s.source;
    s.runner.post({ type: 'load', module, memory, options, print: !!print, error: !!onError });
  }

  /** The state of a pipeline's runner, made on its first runAsync. */
  function start(p) {
    const source = runnerSource(p);
    const name = p.name;
    if (source.callbacks) {
      throw error(
        `${name}: runAsync cannot run a pipeline loaded with options.${source.callbacks}: they are functions of this thread, which the worker that runs it cannot call; use run()`,
        'bad-argument',
      );
    }
    const s = {
      name,
      source,
      outputNames: new Set(p.arguments.filter((a) => a.kind === 'output').map((a) => a.name)),
      runner: null,
      pending: new Map(),
      nextId: 1,
      spare: [], // ArrayBuffers back from the runner, for the next call's copies
    };
    states.set(p, s);
    collected?.register(p, s, s);
    return s;
  }

  /** The run's message: its arguments read once, each array copied (the copies are transferred). */
  function snapshot(s, id, args) {
    const transfer = [];
    const outputs = [];
    let out = args;
    if (args !== null && typeof args === 'object') {
      out = {};
      const read = (o, key, what) => {
        try {
          return o[key];
        } catch (e) {
          throw error(`${s.name}: ${what} could not be read: ${describe(e)}`, 'bad-argument', e);
        }
      };
      let keys;
      try {
        keys = Object.keys(args);
      } catch (e) {
        throw error(`${s.name}: the arguments could not be read: ${describe(e)}`, 'bad-argument', e);
      }
      for (const key of keys) {
        const v = read(args, key, `argument '${key}'`);
        if (v === null || typeof v !== 'object' || ArrayBuffer.isView(v)) {
          out[key] = v;
          continue;
        }
        if (allocated.has(v)) {
          throw error(
            `${s.name}: argument '${key}' is a buffer from allocBuffer, which lives in this thread's instance of the pipeline; runAsync runs it in a worker: pass a buffer with a typed array instead`,
            'bad-argument',
          );
        }
        const b = {};
        for (const f of ['data', 'shape', 'strides', 'mins']) {
          const x = read(v, f, `argument '${key}'.${f}`);
          if (x !== undefined) b[f] = x;
        }
        if (ArrayBuffer.isView(b.data) && !(b.data instanceof DataView)) {
          const data = b.data;
          try {
            b.data = copyOf(s, data);
          } catch (e) {
            throw error(`${s.name}: argument '${key}': its array cannot be read (detached?): ${describe(e)}`, 'bad-argument', e);
          }
          transfer.push(b.data.buffer);
          if (s.outputNames.has(key)) outputs.push({ key, data, length: data.length });
        }
        out[key] = b;
      }
    }
    return { message: { type: 'run', id, args: out, outputs: outputs.map((o) => o.key) }, transfer, outputs };
  }

  /** A copy of a typed array in a spare buffer of its byte length when there is one, else in a new one (`slice`). */
  function copyOf(s, data) {
    const i = s.spare.findIndex((b) => b.byteLength === data.byteLength);
    // A detached array reads as empty: slice() says it is detached.
    if (i < 0 || data.byteLength === 0) return data.slice();
    const copy = new data.constructor(s.spare[i], 0, data.length);
    copy.set(data);
    s.spare.splice(i, 1);
    return copy;
  }

  /** Keeps the buffers a reply brought back (those of the last reply only). */
  function keepSpare(s, buffers) {
    if (Array.isArray(buffers)) s.spare = buffers.filter((b) => b instanceof ArrayBuffer && b.byteLength > 0);
  }

  function received(s, m) {
    const call = s.pending.get(m.id);
    if (!call) return;
    switch (m.type) {
      case 'print':
        if (call.thrown === undefined) {
          try {
            s.source.print(m.text);
          } catch (e) {
            call.thrown = e;
          }
        }
        return;
      case 'error-text':
        try {
          s.source.error(m.text);
        } catch {
          // As with run: what the error callback throws is dropped.
        }
        return;
      case 'done':
      case 'failed':
        settle(s, m.id);
        keepSpare(s, m.type === 'done' ? [...m.outputs.map((a) => a.buffer), ...(m.spare ?? [])] : m.spare);
        // As with run: a print that threw fails the call.
        if (call.thrown !== undefined) {
          call.reject(error(`${s.name}: options.print threw: ${describe(call.thrown)}`, 'callback', call.thrown));
          return;
        }
        if (m.type === 'failed') {
          // A failure to load there is worded without the pipeline's name.
          const message = m.error.loading ? `${s.name}: its worker could not load it: ${m.error.message}` : m.error.message;
          const e = error(message, m.error.code, m.error.cause);
          if (m.error.halideCode !== undefined) e.halideCode = m.error.halideCode;
          call.reject(e);
          return;
        }
        // Every output array must still take its result before any is written.
        for (const o of call.outputs) {
          if (o.data.length !== o.length) {
            call.reject(error(`${s.name}: output '${o.key}': its array was detached or transferred while runAsync ran; no output was written`, 'bad-argument'));
            return;
          }
        }
        call.outputs.forEach((o, i) => o.data.set(m.outputs[i]));
        // The outputs the worker allocated for those the caller omitted.
        call.resolve(m.allocated ?? {});
        return;
    }
  }

  function settle(s, id) {
    s.pending.delete(id);
    if (s.pending.size === 0) s.runner?.unref?.();
  }

  /** The runner died (its script failed to load, it ran out of memory): every call in flight fails; the next makes a new runner. */
  function failed(s, cause) {
    if (!s.runner) return;
    stop(s, error(`${s.name}: the worker that runs the pipeline failed: ${describe(cause)}`, 'trap', cause));
  }

  function stop(s, reason) {
    const runner = s.runner;
    s.runner = null;
    s.spare = [];
    runner?.terminate();
    const calls = [...s.pending.values()];
    s.pending.clear();
    for (const c of calls) c.reject(reason);
  }
}

/**
 * The runner's side: loads the pipeline on the first run (and after a
 * run whose failure took its worker threads, waits for new ones), runs
 * one message at a time, replies.
 */
export function serveRunner({ loadForRunner, whenPoolReady, post, listen }) {
  let source = null;
  let pipeline = null;
  let current = 0; // the run in progress: prints belong to it
  let chain = Promise.resolve();
  listen((m) => {
    if (m.type === 'load') source = m;
    else if (m.type === 'run') chain = chain.then(() => run(m));
  });

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

  async function run({ id, args, outputs }) {
    current = id;
    let loading = false;
    try {
      if (!pipeline) {
        loading = true;
        const o = { ...source.options };
        if (source.print) o.print = (text) => post({ type: 'print', id: current, text });
        if (source.error) o.error = (text) => post({ type: 'error-text', id: current, text });
        pipeline = await loadForRunner(source.module, source.memory, o);
        loading = false;
      }
      const starting = whenPoolReady(pipeline);
      if (starting) await starting;
      const allocated = { ...pipeline.run(args) };
      const arrays = outputs.map((k) => args[k].data);
      const spare = spareOf(args, outputs);
      const moved = Object.values(allocated).map((b) => b.data.buffer);
      post({ type: 'done', id, outputs: arrays, allocated, spare }, [...arrays.map((a) => a.buffer), ...moved, ...spare]);
    } catch (e) {
      const spare = spareOf(args, []);
      post({ type: 'failed', id, error: { ...serialise(e), loading }, spare }, spare);
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
