// ES module entry for browsers (and bundlers' `browser` condition): the
// wasm-bindgen web build, initialised before this module finishes loading.
import init, { Pipeline, registerErrorClass } from '../pkg/web/halide_wasm_executor.js';

await init({ module_or_path: new URL('../pkg/web/halide_wasm_executor_bg.wasm', import.meta.url) });

/** Every error the executor raises. `code` is Halide's negative error code or a string such as 'bad-argument', 'trap', 'abort'. */
export class HalideError extends Error {
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HalideError';
    this.code = options.code;
  }
}
registerErrorClass(HalideError);
// `using p = ...` should end in dispose() (a HalideError on later use), not
// in wasm-bindgen's free() (a bare "null pointer" error).
if (typeof Symbol.dispose === 'symbol') Pipeline.prototype[Symbol.dispose] = Pipeline.prototype.dispose;

export { Pipeline };
