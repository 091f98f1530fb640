import { Pipeline, HalideError, init } from 'halide-wasm-executor';
import { check } from '../common/check.js';

const hwe = { Pipeline, HalideError, init };

// esbuild copies neither the executor's wasm nor the package's worker
// scripts: they are served from a copy of the package's lib/ and pkg/.
init({ baseUrl: '/halide-wasm-executor/' });

async function main() {
  const page = await check(hwe);
  const worker = await new Promise((resolve) => {
    const w = new Worker('./worker.js', { type: 'module' });
    w.onmessage = (e) => resolve(e.data);
    w.onerror = (e) => resolve({ error: e.message || 'the worker failed to load' });
  });
  return { page, worker };
}
window.result = main();
