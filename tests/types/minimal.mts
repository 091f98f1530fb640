// With lib es2020 only (no DOM, no Node typings, no Float16Array): the
// declarations still compile, and the host types they cannot name are
// `never` rather than errors.
import { Pipeline, type ModuleBytes } from 'halide-wasm-executor';
import { Pipeline as WebPipeline } from 'halide-wasm-executor/web';

declare const bytes: ArrayBuffer;
const source: ModuleBytes = bytes;
const p = await Pipeline.load(source);
p.run({ x: { data: new Float32Array(1), shape: [1] } });
const q: Pipeline = await WebPipeline.load(Promise.resolve(new Uint8Array(bytes)));
export { q };
