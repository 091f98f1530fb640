// ES module consumers: the "import" condition (lib/node.d.mts, whose default
// export is the CommonJS entry's module.exports) and the browser build
// (lib/web.d.mts), top-level await included.
import executor, { Pipeline, HalideError, type PipelineOptions } from 'halide-wasm-executor';
import * as web from 'halide-wasm-executor/web';

declare const bytes: Uint8Array;

const p: Pipeline = await Pipeline.load(bytes, { print() {} });
p.run({ input: { data: new Uint8Array(3), shape: [3] } });
const same: typeof Pipeline = executor.Pipeline;
const sameError: typeof HalideError = executor.HalideError;

const options: PipelineOptions = { env: {} };
const q: web.Pipeline = await web.Pipeline.load(fetch('brighten.wasm'), options);
q.run({ gain: 2 });
const e: Error = new web.HalideError('q: gone', { code: 'disposed' });
// The browser build's declarations are the same types as Node's.
const r: Pipeline = q;

export { same, sameError, e, r };

// init: where the executor's wasm is, or the wasm itself.
await web.init();
await web.init('/static/halide_wasm_executor_bg.wasm');
await web.init(new URL('https://example.com/x.wasm'));
await web.init(fetch('/x.wasm'));
await web.init(new Uint8Array(8));
await web.init({ baseUrl: '/halide-wasm-executor/' });
await web.init({ wasm: new URL('https://example.com/x.wasm'), baseUrl: new URL('https://example.com/') });
const initCode: web.HalideErrorCode = 'init';
export { initCode };
