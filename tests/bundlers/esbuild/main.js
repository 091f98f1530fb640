import { Pipeline, HalideError, init } from 'halide-wasm-executor';
import { check, workerResult } from '../common/check.js';

const hwe = { Pipeline, HalideError, init };

// esbuild copies neither the executor's wasm nor the package's worker
// scripts: they are served from a copy of the package's lib/ and pkg/.
init({ baseUrl: '/halide-wasm-executor/' });

async function main() {
  const page = await check(hwe);
  const w = new Worker('./worker.js', { type: 'module' });
  const worker = await workerResult(w);
  return { page, worker };
}
window.result = main();
