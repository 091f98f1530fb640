// One worker thread of a threaded pipeline, in a browser (started by
// web.mjs, which posts the thread's data right after, with the compiled
// executor): it initialises the executor from it (nothing is fetched) and
// spends its life in threadWorkerMain, which instantiates the pipeline's
// module on the shared memory and serves pthread_create until the pool
// ends. A failure to load is posted back as { failed }. Static imports
// only and no top-level await: a bundler may make this a classic script.
import initGlue, { threadWorkerMain } from '../pkg/web/halide_wasm_executor.js';

self.onmessage = async (e) => {
  self.onmessage = null;
  try {
    const { executor, scripts, ...data } = e.data;
    if (!(executor instanceof WebAssembly.Module)) throw new Error('no compiled executor came with the thread');
    await initGlue({ module_or_path: executor });
    threadWorkerMain(data);
  } catch (err) {
    self.postMessage({ failed: String(err && err.message ? err.message : err) });
  }
};
