// Types of the ES module entry for Node (`import ... from 'halide-wasm-executor'`):
// node.mjs, whose default export is the CommonJS entry's `module.exports`.
// The declarations themselves are in types.d.ts.
import type { Pipeline, HalideError, toBuffer, toImageData } from './types.js';

export * from './types.js';
declare const executor: { Pipeline: typeof Pipeline; HalideError: typeof HalideError; toBuffer: typeof toBuffer; toImageData: typeof toImageData };
export default executor;
