// Types of the browser entry (the `browser` condition, `halide-wasm-executor/web`):
// web.mjs. The declarations themselves are in types.d.ts.
export * from './types.js';
