// A dedicated module Worker of browser-threads.test.mjs: loads a threaded
// pipeline here (where Atomics.wait is allowed, so its pool starts) and
// runs it synchronously. `{ name, threads }`: after load, after an abort,
// after loadSync; `{ name, threads, once: true }`: after load only.
// Replies { ok, ... } or { error }.
const ready = Promise.all([import('/lib/web.mjs'), import('./harness.mjs')]);
self.onmessage = async (e) => {
  const [{ Pipeline }, h] = await ready;
  try {
    const { name, threads, once } = e.data;
    const { args, outputs } = await h.prepare(name);
    const bytes = await (await fetch(await h.wasmUrl(name))).arrayBuffer();
    const t0 = performance.now();
    const p = await Pipeline.load(bytes, { threads });
    const loadMs = performance.now() - t0;
    const t1 = performance.now();
    p.run(args);
    const runMs = performance.now() - t1;
    if (once) {
      p.dispose();
      self.postMessage({ ok: true, loadMs, runMs, output: outputs[0].data });
      return;
    }
    // A failed run restarts the pool (a browser starts its workers from the
    // event loop): the run after it, in a later task, finds it ready.
    let failed = null;
    try {
      p.run(h.withStridedInput(args));
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
