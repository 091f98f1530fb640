import { Pipeline, HalideError, init } from 'halide-wasm-executor';
import { check, workerResult } from '../common/check.js';

const hwe = { Pipeline, HalideError, init };

async function main() {
  const page = await check(hwe);
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const worker = await workerResult(w);
  return { page, worker };
}
window.result = main();
