// One worker thread of a threaded pipeline, in a browser (started by
// web.mjs, which posts the thread's data right after, with the compiled
// executor): it initialises the executor and spends its life in
// threadWorkerMain, which instantiates the pipeline's module on the shared
// memory and serves pthread_create until the pool ends. A failure to load
// is posted back as { failed }.
self.onmessage = async (e) => {
  self.onmessage = null;
  try {
    const glue = await import('../pkg/web/halide_wasm_executor.js');
    const { executor, ...data } = e.data;
    await glue.default({ module_or_path: executor ?? new URL('../pkg/web/halide_wasm_executor_bg.wasm', import.meta.url) });
    glue.threadWorkerMain(data);
  } catch (err) {
    self.postMessage({ failed: String(err && err.message ? err.message : err) });
  }
};
