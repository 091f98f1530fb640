// ES module entry for browsers (and bundlers' `browser` condition): the
// wasm-bindgen web build, initialised before this module finishes loading.
import init, {
  Pipeline,
  executorModule,
  registerErrorClass,
  registerThreads,
  runnerSource,
  threadFailed,
} from '../pkg/web/halide_wasm_executor.js';
import { installRunAsync } from './run-async.mjs';
import { useErrorClass } from './image.mjs';

// (A no-op in the package's own workers, which initialise it first with
// the compiled executor their creator posted them.)
await init({ module_or_path: new URL('../pkg/web/halide_wasm_executor_bg.wasm', import.meta.url) });
// Posted to the package's workers: none downloads and compiles it again.
const executor = executorModule();

/** Every error the executor raises. `code` is Halide's negative error code or a string such as 'bad-argument', 'trap', 'abort'. */
export class HalideError extends Error {
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HalideError';
    this.code = options.code;
  }
}
registerErrorClass(HalideError);
useErrorClass(HalideError);

if (typeof Worker === 'function') {
  // Threaded pipelines run their parallel loops on module Workers running
  // thread-worker.mjs (each loads the executor and joins the pipeline's
  // shared memory). A browser starts a worker only once the thread that
  // made it returns to its event loop: the executor waits for them
  // without blocking. A page's main thread starts none (it may not block
  // in Atomics.wait, which a run of a threaded pipeline does).
  const spawn = (data) => {
    const w = new Worker(new URL('./thread-worker.mjs', import.meta.url), { type: 'module' });
    const failed = (why) => threadFailed(data.control, `a worker thread failed: ${why}`);
    w.onerror = (e) => {
      e.preventDefault?.();
      failed(e.message || 'its script could not be loaded');
    };
    w.onmessage = (e) => failed(e.data && e.data.failed);
    data.executor = executor;
    w.postMessage(data);
    return w;
  };
  registerThreads(spawn, globalThis.navigator?.hardwareConcurrency || 1, false);
}

// p.runAsync(args): the run in a module Worker of the pipeline's own.
installRunAsync({
  Pipeline,
  HalideError,
  runnerSource,
  createRunner:
    typeof Worker === 'function'
      ? ({ onMessage, onError }) => {
          const w = new Worker(new URL('./runner-worker.mjs', import.meta.url), { type: 'module' });
          w.onmessage = (e) => onMessage(e.data);
          w.onmessageerror = () => onError(new Error('a message from it could not be read'));
          w.onerror = (e) => {
            e.preventDefault?.();
            onError(new Error(e.message || 'its script could not be loaded'));
          };
          return {
            // The first message (the pipeline) also brings the compiled executor.
            post: (m, transfer) => w.postMessage(m.type === 'load' ? { ...m, executor } : m, transfer),
            terminate: () => w.terminate(),
          };
        }
      : undefined,
});

// `using p = ...` should end in dispose() (a HalideError on later use), not
// in wasm-bindgen's free() (a bare "null pointer" error).
if (typeof Symbol.dispose === 'symbol') Pipeline.prototype[Symbol.dispose] = Pipeline.prototype.dispose;

export { Pipeline };
export { toBuffer, toImageData } from './image.mjs'; // images in one line
