'use strict';
// The executor in Node: the package's one wasm-bindgen build (pkg/web, an
// ES module, require()d: Node >= 20.19), initialised synchronously, so that
// `require` stays synchronous and `loadSync` needs no await. The package's
// own worker_threads (thread-worker.cjs, runner-worker.cjs) are handed the
// compiled executor as `workerData.executor`, so none reads or compiles
// its wasm again; everywhere else it is read from the file beside the glue.
const { readFileSync } = require('node:fs');
const path = require('node:path');
const { workerData } = require('node:worker_threads');
const glue = require('../pkg/web/halide_wasm_executor.js');

const given = workerData !== null && typeof workerData === 'object' ? workerData.executor : undefined;
glue.initSync({
  module: given instanceof WebAssembly.Module ? given : readFileSync(path.join(__dirname, '..', 'pkg', 'web', 'halide_wasm_executor_bg.wasm')),
});

module.exports = glue;
