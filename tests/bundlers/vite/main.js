import { Pipeline, HalideError, init } from 'halide-wasm-executor';
import { check } from '../common/check.js';

const hwe = { Pipeline, HalideError, init };

async function main() {
  const page = await check(hwe);
  const worker = await new Promise((resolve) => {
    const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
    w.onmessage = (e) => resolve(e.data);
    w.onerror = (e) => resolve({ error: e.message || 'the worker failed to load' });
  });
  return { page, worker };
}
window.result = main();
