// `p.runAsync(args)`: a run in a worker of the pipeline's own (its runner),
// so that the calling thread never blocks. Shared by both entries: node.cjs
// (through require) and web.mjs. This file is the calling side; the
// runner's side is runner-serve.mjs, which the runner's scripts
// (runner-worker.cjs in Node, runner-worker.mjs in browsers) call.
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
// A threaded pipeline's guest memory is a shared WebAssembly.Memory: there
// each array (a typed array, not a DataView, not empty) is copied once each
// way instead of twice. The runner allocates a region of the array's byte
// length in its guest (allocBuffer) and hands the caller the memory's
// SharedArrayBuffer; the caller copies its array straight into the region,
// the runner runs on views of the regions (zero-copy: they are allocBuffer
// blocks), and the caller copies the outputs straight out of their regions
// once the runner says done (on success only). Regions are kept per
// argument name and reused while byte lengths match. Only one call's data
// may be in the regions: calls are driven one at a time on the calling side
// (`s.tail`); a call made while another is in flight, or before regions of
// its sizes exist, first copies its arrays aside (so that the caller may
// reuse them at once, as always). A trap or abort gives the runner's
// pipeline a fresh memory: the runner's `generation` changes, every reply
// carries it, and the caller then asks for regions again. A dense output
// (no strides, or the default ones) is not copied in: the pipeline writes
// all of its elements, and only those are copied out.
//
// Messages to the runner:   { type: 'load', module, memory, options, print, error }
//                           { type: 'run', id, args, outputs: [names], placed?: { name: [array type, length] }, generation? }
//                           { type: 'regions', id, want: [[name, bytes]] }
//                           { type: 'stats', id }
// Messages from the runner: { type: 'print' | 'error-text', id, text }
//                           { type: 'done', id, outputs: [arrays], spare: [ArrayBuffers], generation }
//                           { type: 'failed', id, error: { message, code, halideCode?, cause? }, spare, generation }
//                           { type: 'regions', id, generation, buffer: SharedArrayBuffer, at: { name: address } }
//                           { type: 'stats', id, stats }

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

  /** Diagnostics (tests): the runner's pipeline's stats() and its regions, after the calls before it; null before its first run. */
  proto[Symbol.for('halide-wasm-executor.runnerStats')] = function () {
    try {
      if (disposed.has(this)) throw error(`${this.name}: this Pipeline was disposed`, 'disposed');
      const s = states.get(this);
      if (!s?.runner) return Promise.resolve(null);
      const id = s.nextId++;
      const promise = new Promise((resolve, reject) => s.pending.set(id, { resolve, reject, stats: true, waiter: null }));
      s.runner.ref?.();
      enqueue(s, () => {
        if (s.pending.has(id)) s.runner.post({ type: 'stats', id });
      });
      return promise;
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
    const { message, transfer, outputs, placed } = snapshot(s, id, args);
    if (!s.runner) open(s);
    if (!s.shared) {
      try {
        s.runner.post(message, transfer);
      } catch (e) {
        throw error(`${s.name}: an argument cannot be sent to the worker that runs the pipeline: ${describe(e)}`, 'bad-argument', e);
      }
    }
    const idle = s.pending.size === 0;
    const c = { resolve: null, reject: null, outputs, placed, thrown: undefined, waiter: null, inGuest: false };
    if (s.shared) {
      // Straight into the guest when nothing else is in flight and the
      // regions are there; else aside, for now (copies of our own).
      try {
        if (idle && fits(s, placed)) {
          copyIn(s, placed, false);
          c.inGuest = true;
        } else {
          for (const x of placed) if (x.copyIn) x.staged = new Uint8Array(x.data.buffer, x.data.byteOffset, x.bytes).slice();
        }
      } catch (e) {
        // (A getter read after it detached one of the arrays.)
        throw error(`${s.name}: an array of the arguments cannot be read (detached?): ${describe(e)}`, 'bad-argument', e);
      }
    }
    if (idle) s.runner.ref?.();
    const promise = new Promise((resolve, reject) => {
      c.resolve = resolve;
      c.reject = reject;
    });
    s.pending.set(id, c);
    if (s.shared) enqueue(s, () => drive(s, id, c, message, transfer));
    return promise;
  }

  /** Queues a step of a threaded pipeline's calls: it runs once those before it are done; what it throws stops nothing. */
  function enqueue(s, step) {
    s.tail = s.tail.then(step).then(undefined, () => {});
  }

  /** Posts to the runner; a message that cannot be sent is the argument's fault. */
  function post(s, message, transfer) {
    try {
      s.runner.post(message, transfer);
    } catch (e) {
      throw error(`${s.name}: an argument cannot be sent to the worker that runs the pipeline: ${describe(e)}`, 'bad-argument', e);
    }
  }

  /** Whether the regions the caller knows of take `placed` as they are. */
  function fits(s, placed) {
    return placed.every((x) => s.regions !== null && s.regions.bytes.get(x.key) === x.bytes);
  }

  /** Copies the placed arrays that go in (or their copies aside) into their regions. */
  function copyIn(s, placed, staged) {
    const { buffer, at } = s.regions;
    for (const x of placed) {
      if (!x.copyIn) continue;
      const from = staged ? x.staged : new Uint8Array(x.data.buffer, x.data.byteOffset, x.bytes);
      new Uint8Array(buffer, at.get(x.key), x.bytes).set(from);
      x.staged = undefined;
    }
  }

  /** A threaded pipeline's call, once those before it are done: regions (when needed), its data in, the run. */
  async function drive(s, id, c, message, transfer) {
    if (s.pending.get(id) !== c) return; // rejected meanwhile (dispose, the runner died)
    try {
      if (!c.inGuest && c.placed.length > 0) {
        if (!fits(s, c.placed)) {
          const m = await ask(s, c, { type: 'regions', id, want: c.placed.map((x) => [x.key, x.bytes]) });
          if (m.type !== 'regions') {
            // The runner may have freed some of the regions it had.
            s.regions = null;
            return void complete(s, id, c, m);
          }
          s.regions = {
            generation: m.generation,
            buffer: m.buffer,
            at: new Map(Object.entries(m.at)),
            bytes: new Map(c.placed.map((x) => [x.key, x.bytes])),
          };
        }
        copyIn(s, c.placed, true);
      }
      if (c.placed.length > 0) message.generation = s.regions.generation;
      complete(s, id, c, await ask(s, c, message, transfer));
    } catch (e) {
      if (s.pending.get(id) !== c) return;
      settle(s, id);
      c.reject(e);
    }
  }

  /** Posts a message of call `c` and waits for the runner's answer to it. */
  function ask(s, c, message, transfer) {
    return new Promise((resolve, reject) => {
      c.waiter = { resolve, reject };
      post(s, message, transfer);
    });
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
      // A threaded module's memory is shared: its arrays go through regions of it.
      shared: Array.isArray(source.memory) && typeof SharedArrayBuffer === 'function',
      regions: null, // { generation, buffer, at: Map(name → address), bytes: Map(name → byte length) }
      tail: Promise.resolve(), // the threaded calls, driven one at a time
    };
    states.set(p, s);
    collected?.register(p, s, s);
    return s;
  }

  const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get;

  /**
   * How many leading elements a dense output's pipeline writes (all it has,
   * in the default layout: no strides or the default ones), or null.
   */
  function denseElements(b, length) {
    const { shape, strides } = b;
    if (!Array.isArray(shape) || (strides !== undefined && (!Array.isArray(strides) || strides.length !== shape.length))) return null;
    let n = 1;
    for (let i = 0; i < shape.length; i++) {
      const e = shape[i];
      if (!Number.isSafeInteger(e) || e < 0 || (strides !== undefined && strides[i] !== n)) return null;
      n *= e;
    }
    return n <= length ? n : null;
  }

  /**
   * The run's message: its arguments read once, each array copied (the
   * copies are transferred), or for a threaded pipeline each typed array
   * placed (copied into the guest later, by `call` or `drive`; its other
   * fields are copied now).
   */
  function snapshot(s, id, args) {
    const transfer = [];
    const outputs = [];
    const placed = [];
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
      // What is posted later must be what the caller passed now.
      const now = (v, what) => {
        if (!s.shared || v === null || typeof v !== 'object') return v;
        try {
          return structuredClone(v);
        } catch (e) {
          throw error(`${s.name}: ${what} cannot be sent to the worker that runs the pipeline: ${describe(e)}`, 'bad-argument', e);
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
          out[key] = now(v, `argument '${key}'`);
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
          if (x !== undefined) b[f] = f === 'data' ? x : now(x, `argument '${key}'.${f}`);
        }
        const data = b.data;
        if (ArrayBuffer.isView(data) && !(data instanceof DataView)) {
          const output = s.outputNames.has(key);
          // (A detached array has no bytes: it takes the path below, whose slice() says so.)
          if (s.shared && data.byteLength > 0) {
            const dense = output ? denseElements(b, data.length) : null;
            placed.push({
              key,
              data,
              output,
              bytes: data.byteLength,
              type: typedArrayName.call(data),
              length: data.length,
              copyIn: dense === null,
              copyOut: dense === null ? data.byteLength : dense * data.BYTES_PER_ELEMENT,
              staged: undefined,
            });
            delete b.data;
            out[key] = b;
            continue;
          }
          try {
            b.data = copyOf(s, data);
          } catch (e) {
            throw error(`${s.name}: argument '${key}': its array cannot be read (detached?): ${describe(e)}`, 'bad-argument', e);
          }
          transfer.push(b.data.buffer);
          if (output) outputs.push({ key, data, length: data.length });
        } else if (data !== undefined) {
          b.data = now(data, `argument '${key}'.data`);
        }
        out[key] = b;
      }
    }
    const message = { type: 'run', id, args: out, outputs: outputs.map((o) => o.key) };
    if (placed.length > 0) message.placed = Object.fromEntries(placed.map((x) => [x.key, [x.type, x.length]]));
    return { message, transfer, outputs, placed };
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
      case 'stats':
        settle(s, m.id);
        call.resolve(m.stats);
        return;
      case 'regions':
      case 'done':
      case 'failed':
        if (call.waiter) {
          const w = call.waiter;
          call.waiter = null;
          w.resolve(m);
        } else if (m.type !== 'regions') {
          complete(s, m.id, call, m);
        }
        return;
    }
  }

  /** Ends a call with the runner's reply: the outputs written into the caller's arrays, or the error. */
  function complete(s, id, call, m) {
    settle(s, id);
    if (call.stats) return void call.reject(error(`${s.name}: ${m.error?.message}`, m.error?.code ?? 'trap'));
    keepSpare(s, m.type === 'done' ? [...m.outputs.map((a) => a.buffer), ...(m.spare ?? [])] : m.spare);
    // (The regions this call's outputs are in.)
    const regions = s.regions;
    // After a trap or abort the runner's pipeline has a fresh memory: its regions are gone.
    if (regions !== null && m.generation !== regions.generation) s.regions = null;
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
    const placedOut = call.placed ? call.placed.filter((x) => x.output) : [];
    for (const o of [...call.outputs, ...placedOut]) {
      if (o.data.length !== o.length) {
        call.reject(error(`${s.name}: output '${o.key}': its array was detached or transferred while runAsync ran; no output was written`, 'bad-argument'));
        return;
      }
    }
    call.outputs.forEach((o, i) => o.data.set(m.outputs[i]));
    if (placedOut.length > 0) {
      const { buffer, at } = regions;
      for (const x of placedOut) new Uint8Array(x.data.buffer, x.data.byteOffset, x.copyOut).set(new Uint8Array(buffer, at.get(x.key), x.copyOut));
    }
    // The outputs the worker allocated for those the caller omitted.
    call.resolve(m.allocated ?? {});
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
    s.regions = null;
    runner?.terminate();
    const calls = [...s.pending.values()];
    s.pending.clear();
    for (const c of calls) {
      c.reject(reason);
      // A call waiting for the runner's answer ends (and the calls queued after it go on).
      c.waiter?.reject(reason);
      c.waiter = null;
    }
  }
}
