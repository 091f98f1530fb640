// A dedicated module Worker of browser-threads.test.mjs: loads a threaded
// pipeline here (where Atomics.wait is allowed, so its pool starts) and
// runs it synchronously: after load, after an abort, after loadSync.
// Replies { ok, ... } or { error }.
const ready = Promise.all([import('/lib/web.mjs'), import('./harness.mjs')]);
self.onmessage = async (e) => {
  const [{ Pipeline }, h] = await ready;
  try {
    const { name, threads } = e.data;
    const { args, outputs } = await h.prepare(name);
    const bytes = await (await fetch(await h.wasmUrl(name))).arrayBuffer();
    const t0 = performance.now();
    const p = await Pipeline.load(bytes, { threads });
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    p.run(args);
    const runMs = performance.now() - t1;
    // A failed run restarts the pool (a browser starts its workers from the
    // event loop): the run after it, in a later task, finds it ready.
    const { shape } = args.input;
    let failed = null;
    try {
      p.run({ ...args, input: { data: new Float32Array(2 * shape[0] * shape[1]), shape, strides: [2, 2 * shape[0]] } });
    } catch (err) {
      failed = h.describe(err);
    }
    await new Promise((r) => setTimeout(r, 500));
    const again = outputs.map((o) => new o.data.constructor(o.data.length));
    p.run({ ...args, [outputs[0].name]: { data: again[0], shape: args[outputs[0].name].shape } });
    p.dispose();
    // loadSync starts the pool, which runs once this thread got back to its event loop.
    const q = Pipeline.loadSync(bytes, { threads });
    let early = null;
    try {
      q.run(args);
    } catch (err) {
      early = h.describe(err);
    }
    await new Promise((r) => setTimeout(r, 500));
    const late = new outputs[0].data.constructor(outputs[0].data.length);
    q.run({ ...args, [outputs[0].name]: { data: late, shape: args[outputs[0].name].shape } });
    q.dispose();
    self.postMessage({ ok: true, loadMs, runMs, output: outputs[0].data, again: again[0], failed, early, late });
  } catch (err) {
    self.postMessage({ error: h.describe(err) });
  }
};
