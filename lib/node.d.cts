// Types of the CommonJS entry (`require('halide-wasm-executor')`): node.cjs.
// The declarations themselves are in types.d.ts.
export * from './types.js';
