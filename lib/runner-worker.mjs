// runAsync's runner in a browser (a module Worker started by web.mjs): the
// whole package (so that a threaded pipeline starts its worker threads from
// here, where Atomics.wait is allowed), serving the runs its pipeline posts
// (run-async.mjs). onmessage is set before anything is imported (an import
// waits, and messages would go by meanwhile); the first message, the
// pipeline, brings the compiled executor, which initialises the executor
// before web.mjs (whose own initialisation is then a no-op).
const early = [];
let deliver = (m) => early.push(m);
self.onmessage = (e) => deliver(e.data);

const first = await new Promise((resolve) => {
  deliver = (m) => {
    early.push(m);
    resolve(m);
  };
});
const glue = await import('../pkg/web/halide_wasm_executor.js');
await glue.default({ module_or_path: first.executor ?? new URL('../pkg/web/halide_wasm_executor_bg.wasm', import.meta.url) });
const [{ serveRunner }] = await Promise.all([import('./run-async.mjs'), import('./web.mjs')]);
serveRunner({
  loadForRunner: glue.loadForRunner,
  whenPoolReady: glue.whenPoolReady,
  post: (m, transfer) => self.postMessage(m, transfer),
  listen: (f) => {
    deliver = f;
    for (const m of early.splice(0)) f(m);
  },
});
