// runAsync's runner in a browser (a module Worker started by web.mjs): the
// whole package (so that a threaded pipeline starts its worker threads from
// here, where Atomics.wait is allowed), serving the runs its pipeline posts
// (runner-serve.mjs). Static imports only and no top-level await (a bundler
// may make this worker a classic script: Vite's default worker format), so
// onmessage is set before the first message can arrive. The first message,
// the pipeline, brings the compiled executor (and where the package's
// worker scripts are): the executor is initialised from it, never fetched.
import { loadForRunner, whenPoolReady } from '../pkg/web/halide_wasm_executor.js';
import { serveRunner } from './runner-serve.mjs';
import { initFromCreator } from './web.mjs';

let ready = null;
serveRunner({
  loadForRunner: async (module, memory, options) => {
    await ready;
    return loadForRunner(module, memory, options);
  },
  whenPoolReady,
  post: (m, transfer) => self.postMessage(m, transfer),
  listen: (f) => {
    self.onmessage = (e) => {
      const m = e.data;
      if (m && m.type === 'load') {
        ready = initFromCreator(m.executor, m.scripts);
        ready.catch(() => {}); // (the run that follows reports it)
      }
      f(m);
    };
  },
});
