// The Chromium row of `npm run bench` (bench/run.mjs opens
// bench/browser/index.html, served cross-origin isolated by
// scripts/serve.mjs, and calls `benchThreads` in it): each threaded fixture
// through `runAsync` on 1 and 2 threads, side by side (alternating, the
// order flipping every round), medians per call; and, for what runAsync
// adds, `run` of the 1-thread pipeline on the page's main thread (allowed on
// one thread) in the same rounds.
import { Pipeline } from '/lib/web.mjs';
import { threadedArgs, fnv1a } from '../data.mjs';

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/**
 * `specs`: `[{ name, module, shape }]` (`name` the fixture case, `module`
 * its threaded module). Returns `[{ name, t1, t2, main, sum1, sum2 }]`:
 * medians in ms (`main`: `run` on this thread) and the outputs' checksums,
 * or `{ name, error }`.
 */
export async function benchThreads({ specs, rounds }) {
  if (!crossOriginIsolated) throw new Error('the bench page is not cross-origin isolated');
  const manifest = await (await fetch('/fixtures/manifest.json')).json();
  const out = [];
  for (const { name, module, shape } of specs) {
    const c = manifest.cases.find((x) => x.name === name);
    const outKey = Object.keys(c.args).find((k) => c.args[k].kind === 'output');
    const bytes = await (await fetch(`/fixtures/${manifest.modules[module].wasm}`)).arrayBuffer();
    const pipelines = {};
    try {
      pipelines.t1 = await Pipeline.load(bytes, { threads: 1, print: () => {} });
      pipelines.t2 = await Pipeline.load(bytes, { threads: 2, print: () => {} });
      const args = threadedArgs(c, shape);
      const sums = {};
      // Warm-up: starts each runner (and its pool), compiles, and gives the checksums.
      for (const k of ['t1', 't2']) {
        args[outKey].data.fill(0);
        await pipelines[k].runAsync(args);
        await pipelines[k].runAsync(args);
        sums[k] = fnv1a(args[outKey].data);
      }
      pipelines.t1.run(args);
      const samples = { t1: [], t2: [], main: [] };
      const order = ['t1', 't2', 'main'];
      for (let r = 0; r < rounds; r++) {
        for (let i = 0; i < order.length; i++) {
          const k = order[(i + r) % order.length];
          const t = performance.now();
          if (k === 'main') pipelines.t1.run(args);
          else await pipelines[k].runAsync(args);
          samples[k].push(performance.now() - t);
          // Let the page's event loop turn between runs, as a page's would.
          await new Promise((res) => setTimeout(res, 0));
        }
      }
      out.push({ name, t1: median(samples.t1), t2: median(samples.t2), main: median(samples.main), sum1: sums.t1, sum2: sums.t2 });
    } catch (e) {
      out.push({ name, error: `${e?.name}: ${e?.message ?? e}` });
    } finally {
      for (const p of Object.values(pipelines)) p.dispose();
    }
  }
  return out;
}
