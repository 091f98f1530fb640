import { Pipeline, HalideError, init } from 'halide-wasm-executor';
import { check, workerResult } from '../common/check.js';

const hwe = { Pipeline, HalideError, init };

async function main() {
  if (new URLSearchParams(location.search).has('missing-wasm')) {
    // The executor's wasm is not where init says: load rejects, naming the URL.
    hwe.init('/nowhere/executor.wasm').catch(() => {});
    try {
      await hwe.Pipeline.load(fetch('/fixtures/brighten_u8.wasm'));
      return { loaded: true };
    } catch (e) {
      return { name: e.name, code: e.code, message: e.message, isHalideError: e instanceof hwe.HalideError };
    }
  }
  const page = await check(hwe);
  // Module workers do not see the page's import map: the worker imports the file.
  const w = new Worker(new URL('./worker.js', import.meta.url), { type: 'module' });
  const worker = await workerResult(w);
  return { page, worker };
}
window.result = main();
