// ES module entry for browsers (and bundlers' `browser` condition): the
// package's wasm-bindgen build. Importing it does nothing but define things
// (no top-level await, nothing fetched): the executor's own wasm is loaded
// on first use, by `Pipeline.load` (or `init`), from where `init` says or,
// by default, from beside the glue (`new URL(…, import.meta.url)`, which
// Vite and webpack 5 see and emit as an asset).
import initGlue, {
  Pipeline,
  executorModule,
  registerErrorClass,
  registerThreads,
  runnerSource,
  threadFailed,
} from '../pkg/web/halide_wasm_executor.js';
import { installRunAsync } from './run-async.mjs';
import { useErrorClass } from './image.mjs';

/** Every error the executor raises. `code` is Halide's negative error code or a string such as 'bad-argument', 'trap', 'abort'. */
export class HalideError extends Error {
  constructor(message, options = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'HalideError';
    this.code = options.code;
  }
}
useErrorClass(HalideError);

// Where the package's worker scripts are: beside this file, or under the
// `baseUrl` given to init (a copy of the package served as files).
let scripts = null; // { runner, thread } as strings, or null: beside this file
let executor = null; // the compiled executor, once initialised; posted to the package's workers
let initialising = null; // the promise of the initialisation under way

const describe = (e) => String(e instanceof Error ? e.message : e);
const isPlainObject = (x) => x !== null && typeof x === 'object' && Object.getPrototypeOf(x) === Object.prototype;

/**
 * Loads the executor's own wasm (once; later calls resolve at once, and a
 * call after a failure tries again). `Pipeline.load` calls it by itself;
 * call it first to say where that wasm is or to hand it over, or before
 * `Pipeline.loadSync`. `source`: a URL or URL string, a `Response` or a
 * promise of one, the bytes (`ArrayBuffer` or a view), a compiled
 * `WebAssembly.Module`, or `{ wasm?, baseUrl? }`, where `baseUrl` is the
 * URL of a copy of the package's `lib/` and `pkg/` directories served as
 * files (the wasm, when `wasm` is not given, and the scripts of the
 * package's workers are taken from there).
 */
export function init(source) {
  if (executor) return Promise.resolve();
  initialising ??= start(source).finally(() => {
    initialising = null;
  });
  return initialising;
}

async function start(source) {
  let wasm = source;
  let where = 'the wasm given to init()';
  try {
    if (isPlainObject(source)) {
      const { baseUrl } = source;
      wasm = source.wasm;
      if (baseUrl !== undefined) {
        const given = new URL(String(baseUrl), globalThis.location?.href);
        const dir = given.href.endsWith('/') ? given : new URL(`${given.href}/`);
        scripts = { runner: new URL('lib/runner-worker.mjs', dir).href, thread: new URL('lib/thread-worker.mjs', dir).href };
        wasm ??= new URL('pkg/web/halide_wasm_executor_bg.wasm', dir);
      }
    }
    if (wasm === undefined) wasm = new URL('../pkg/web/halide_wasm_executor_bg.wasm', import.meta.url);
    if (typeof wasm === 'string' || wasm instanceof URL) {
      const url = new URL(String(wasm), globalThis.location?.href);
      where = url.href;
      // In Node (`halide-wasm-executor/web` imported there), which cannot fetch a file: URL.
      const fs = url.protocol === 'file:' ? globalThis.process?.getBuiltinModule?.('node:fs') : undefined;
      wasm = fs ? fs.promises.readFile(url) : fetch(url).then((r) => {
        if (!r.ok) throw new Error(`HTTP ${r.status} ${r.statusText}`.trim());
        return r;
      });
    } else if (typeof Response === 'function' && wasm instanceof Response) {
      where = wasm.url || where;
    }
  } catch (e) {
    // new URL(…, import.meta.url) where a bundler left no import.meta.url (esbuild's iife).
    throw new HalideError(
      `halide-wasm-executor: the executor's wasm could not be located (${describe(e)}); say where it is with init(url) or init({ baseUrl })`,
      { code: 'init', cause: e },
    );
  }
  try {
    await initGlue({ module_or_path: wasm });
  } catch (e) {
    throw new HalideError(
      `halide-wasm-executor: the executor's wasm could not be loaded from ${where}: ${describe(e)}; say where it is with init(url), or hand it over (bytes, a Response or a WebAssembly.Module)`,
      { code: 'init', cause: e },
    );
  }
  executor = executorModule();
  registerErrorClass(HalideError);
  if (typeof Worker === 'function') {
    // Threaded pipelines run their parallel loops on module Workers running
    // thread-worker.mjs (each loads the executor and joins the pipeline's
    // shared memory). A browser starts a worker only once the thread that
    // made it returns to its event loop: the executor waits for them
    // without blocking. A page's main thread starts none (it may not block
    // in Atomics.wait, which a run of a threaded pipeline does).
    const spawn = (data) => {
      // Written out in full each time: the pattern bundlers recognise.
      const w = scripts
        ? new Worker(scripts.thread, { type: 'module' })
        : new Worker(new URL('./thread-worker.mjs', import.meta.url), { type: 'module' });
      const failed = (why) => threadFailed(data.control, `a worker thread failed: ${why}`);
      w.onerror = (e) => {
        e.preventDefault?.();
        failed(e.message || 'its script could not be loaded');
      };
      w.onmessage = (e) => failed(e.data && e.data.failed);
      // The compiled executor goes with the thread's data: the worker fetches and compiles nothing.
      data.executor = executor;
      data.scripts = scripts;
      w.postMessage(data);
      return w;
    };
    registerThreads(spawn, globalThis.navigator?.hardwareConcurrency || 1, false);
  }
}

const notReady = () =>
  new HalideError(
    "halide-wasm-executor: the executor is not initialised yet: `await init()` before Pipeline.loadSync (Pipeline.load does it by itself)",
    { code: 'init' },
  );

// Pipeline.load initialises the executor on first use; loadSync needs it done.
const { load, loadSync } = Pipeline;
Pipeline.load = async function (bytes, options) {
  await init();
  return load.call(this, bytes, options);
};
Pipeline.loadSync = function (bytes, options) {
  if (!executor) throw notReady();
  return loadSync.call(this, bytes, options);
};

// p.runAsync(args): the run in a module Worker of the pipeline's own.
installRunAsync({
  Pipeline,
  HalideError,
  runnerSource,
  createRunner:
    typeof Worker === 'function'
      ? ({ onMessage, onError }) => {
          const w = scripts
            ? new Worker(scripts.runner, { type: 'module' })
            : new Worker(new URL('./runner-worker.mjs', import.meta.url), { type: 'module' });
          w.onmessage = (e) => onMessage(e.data);
          w.onmessageerror = () => onError(new Error('a message from it could not be read'));
          w.onerror = (e) => {
            e.preventDefault?.();
            onError(new Error(e.message || 'its script could not be loaded'));
          };
          return {
            // The first message (the pipeline) also brings the compiled executor.
            post: (m, transfer) => w.postMessage(m.type === 'load' ? { ...m, executor, scripts } : m, transfer),
            terminate: () => w.terminate(),
          };
        }
      : undefined,
});

// `using p = ...` should end in dispose() (a HalideError on later use), not
// in wasm-bindgen's free() (a bare "null pointer" error).
if (typeof Symbol.dispose === 'symbol') Pipeline.prototype[Symbol.dispose] = Pipeline.prototype.dispose;

/** @internal For the package's own workers: initialises from the compiled executor their creator posted, with its script locations. */
export function initFromCreator(module, where) {
  if (where) scripts = where;
  return init(module);
}

export { Pipeline };
export { toBuffer, toImageData } from './image.mjs'; // images in one line
