'use strict';
// CommonJS entry for Node: the executor (initialised synchronously by
// executor-node.cjs) plus HalideError.
const wasm = require('./executor-node.cjs');

/** Every error the executor raises. `code` is Halide's negative error code or a string such as 'bad-argument', 'trap', 'abort'. */
class HalideError extends Error {
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HalideError';
    this.code = options.code;
  }
}
wasm.registerErrorClass(HalideError);
// Threaded pipelines run their parallel loops on worker_threads.
require('./threads-node.cjs').install(wasm);
// p.runAsync(args): the run in a worker_thread of the pipeline's own.
require('./run-async.mjs').installRunAsync({
  Pipeline: wasm.Pipeline,
  HalideError,
  runnerSource: wasm.runnerSource,
  createRunner: require('./runner-node.cjs').createRunner,
});
// `using p = ...` should end in dispose() (a HalideError on later use), not
// in wasm-bindgen's free() (a bare "null pointer" error).
if (typeof Symbol.dispose === 'symbol') wasm.Pipeline.prototype[Symbol.dispose] = wasm.Pipeline.prototype.dispose;

const { toBuffer, toImageData, useErrorClass } = require('./image.mjs'); // images in one line
useErrorClass(HalideError);
// The browser entry's init(), for code written for both: in Node the
// executor is ready as soon as the package is loaded.
const init = () => Promise.resolve();

module.exports = { Pipeline: wasm.Pipeline, HalideError, init, toBuffer, toImageData };
