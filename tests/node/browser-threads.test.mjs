// Threaded pipelines and runAsync in Debian's Chromium (playwright-core),
// on pages served by scripts/serve.mjs from the repository root:
// - cross-origin isolated (COOP/COEP): bilateral_grid_threads through
//   runAsync with threads: 2 (the pool starts in the runner worker) equals
//   native Halide's output; run on the page's main thread is refused, naming
//   runAsync, and on one thread it runs there; a dedicated worker loads and
//   runs it synchronously (after load, after an abort, after loadSync); an
//   abort in the runner, then a good run;
// - every threaded fixture (par_blur_u16_threads, bilateral_grid_threads,
//   local_laplacian_threads) on 1, 2 and 4 threads, through runAsync from
//   the page and run synchronously in a dedicated worker, equals native
//   Halide's output;
// - a threaded pipeline's runAsync copies through regions of the runner's
//   shared memory: successive calls, other shapes and concurrent calls each
//   see their own input (against the serial build run on the page), an
//   abort writes nothing and the next call gets fresh regions, the runner's
//   heap stays the same over rounds of calls, dispose rejects calls in flight;
// - without those headers: the threaded module alone is refused, naming
//   them, and Pipeline.load([threaded, serial]) loads the serial build.
// The page is tests/node/browser/blank.html; what runs in it is
// tests/node/browser/harness.mjs (and worker.mjs in a worker).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';
import { caseNamed, prepare, compare, arrayType, manifest } from './fixtures.mjs';
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE = '/tests/node/browser/blank.html';

/** Native Halide's output of a fixture case, and the case's tolerance. */
function expected(name) {
  const c = caseNamed(name);
  const { outputs } = prepare(c);
  return { type: outputs[0].type, want: outputs[0].expected, tolerance: c.tolerance };
}

/** Every threaded fixture case (manifest modules built with wasm_threads). */
const THREADED = manifest.cases.filter((c) => manifest.modules[c.module].threads && !c.expect_error).map((c) => c.name);

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

test('threaded pipelines and runAsync in Chromium', { timeout: 180_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`);
    return;
  }
  assert.ok(existsSync(join(ROOT, 'pkg', 'web', 'halide_wasm_executor_bg.wasm')), 'pkg/web is missing: run `node scripts/setup.mjs --build`');
  const isolated = await startServer({ port: 0 });
  const plain = await startServer({ port: 0, isolation: false });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await isolated.close();
    await plain.close();
  });
  const pageErrors = [];
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));

  const grid = expected('bilateral_grid_threads');
  const checkGrid = (output, what) => {
    const got = Float32Array.from(output);
    assert.equal(compare(grid.type, got, grid.want, grid.tolerance), null, what);
  };

  await t.test('isolated page: runAsync runs bilateral_grid_threads on 2 threads; run on the main thread names runAsync', async () => {
    await page.goto(isolated.url + PAGE);
    const r = await page.evaluate(async () => {
      const { Pipeline, HalideError } = await import('/lib/web.mjs');
      const h = await import('./harness.mjs');
      const out = { isolated: crossOriginIsolated };
      const { args, outputs } = await h.prepare('bilateral_grid_threads');
      const p = await Pipeline.load(fetch(await h.wasmUrl('bilateral_grid_threads')), { threads: 2 });
      try {
        p.run(args);
        out.run = 'ran';
      } catch (e) {
        out.run = { ...h.describe(e), isHalideError: e instanceof HalideError };
      }
      out.untouched = outputs[0].data.every((v) => v === 0);
      let t0 = performance.now();
      const pending = p.runAsync(args);
      out.isPromise = pending instanceof Promise;
      await pending;
      out.firstMs = performance.now() - t0;
      out.output = Array.from(outputs[0].data);
      const times = [];
      for (let i = 0; i < 7; i++) {
        t0 = performance.now();
        await p.runAsync(args);
        times.push(performance.now() - t0);
      }
      out.times = times;
      // An abort in the runner (a constraint), then a good run: the runner's pool is started again.
      outputs[0].data.fill(-1);
      try {
        await p.runAsync(h.withStridedInput(args));
        out.abort = 'ran';
      } catch (e) {
        out.abort = { ...h.describe(e), isHalideError: e instanceof HalideError };
      }
      out.untouchedAfterAbort = outputs[0].data.every((v) => v === -1);
      await p.runAsync(args);
      out.afterAbort = Array.from(outputs[0].data);
      p.dispose();
      try {
        await p.runAsync(args);
      } catch (e) {
        out.disposed = h.describe(e);
      }
      // On one thread it runs on the main thread too (nothing waits there).
      const one = await Pipeline.load(fetch(await h.wasmUrl('bilateral_grid_threads')), { threads: 1 });
      outputs[0].data.fill(0);
      one.run(args);
      out.oneThread = Array.from(outputs[0].data);
      one.dispose();
      return out;
    });
    assert.equal(r.isolated, true, 'the page is cross-origin isolated');
    assert.equal(r.run.isHalideError, true, `run threw ${JSON.stringify(r.run)}`);
    assert.equal(r.run.code, 'bad-argument');
    assert.match(r.run.message, /bilateral_grid_threads: a threaded pipeline \(threads: 2\) cannot run on a page's main thread.*p\.runAsync\(args\)/);
    assert.ok(r.untouched, 'the refused run wrote nothing');
    assert.ok(r.isPromise);
    checkGrid(r.output, 'runAsync output');
    assert.equal(r.abort.isHalideError, true);
    assert.equal(r.abort.code, 'abort');
    assert.equal(r.abort.halideCode, -8);
    assert.match(r.abort.message, /Constraint violated: input\.stride\.0/);
    assert.ok(r.untouchedAfterAbort, 'a failed runAsync wrote nothing');
    checkGrid(r.afterAbort, 'runAsync output after an abort');
    assert.equal(r.disposed.code, 'disposed');
    checkGrid(r.oneThread, 'run on the main thread with threads: 1');
    t.diagnostic(`bilateral_grid_threads 256x192, threads 2: first runAsync (runner start, load, pool start, run) ${r.firstMs.toFixed(1)} ms; later runAsync median ${median(r.times).toFixed(2)} ms`);
  });

  await t.test('isolated page: a dedicated worker loads bilateral_grid_threads and runs it synchronously', async () => {
    await page.goto(isolated.url + PAGE);
    const results = await page.evaluate(async () => {
      const { inWorker } = await import('./harness.mjs');
      const out = [];
      for (const threads of [1, 2, 1, 2, 1, 2]) out.push({ threads, ...(await inWorker({ name: 'bilateral_grid_threads', threads })) });
      return out.map((r) => ({ ...r, output: r.output && Array.from(r.output), again: r.again && Array.from(r.again), late: r.late && Array.from(r.late) }));
    });
    for (const r of results) {
      assert.ok(r.ok, `threads ${r.threads}: ${JSON.stringify(r.error)}`);
      checkGrid(r.output, `threads ${r.threads}`);
      assert.equal(r.failed?.code, 'abort');
      checkGrid(r.again, `threads ${r.threads}, the run after an abort`);
      if (r.threads === 1) {
        assert.equal(r.early, null, 'on one thread, loadSync then run works at once');
      } else {
        assert.equal(r.early?.code, 'bad-module', JSON.stringify(r.early));
        assert.match(r.early.message, /its worker threads did not start: they are still starting/);
      }
      checkGrid(r.late, `threads ${r.threads}, loadSync, a run in a later task`);
    }
    const load = (n) => median(results.filter((r) => r.threads === n).map((r) => r.loadMs));
    const run = (n) => median(results.filter((r) => r.threads === n).map((r) => r.runMs));
    t.diagnostic(
      `in a worker, Pipeline.load of bilateral_grid_threads: threads 1 ${load(1).toFixed(1)} ms, threads 2 ${load(2).toFixed(1)} ms (the pool's start: ~${(load(2) - load(1)).toFixed(1)} ms); first run ${run(1).toFixed(2)} / ${run(2).toFixed(2)} ms`,
    );
  });

  await t.test('isolated page: every threaded fixture on 1, 2 and 4 threads, through runAsync and in a dedicated worker, equals native Halide', async () => {
    await page.goto(isolated.url + PAGE);
    const r = await page.evaluate(
      async ({ names, counts }) => {
        const { Pipeline } = await import('/lib/web.mjs');
        const h = await import('./harness.mjs');
        const out = [];
        for (const name of names) {
          const { args, outputs } = await h.prepare(name);
          for (const threads of counts) {
            const row = { name, threads };
            try {
              const p = await Pipeline.load(fetch(await h.wasmUrl(name)), { threads });
              outputs[0].data.fill(0);
              const t0 = performance.now();
              await p.runAsync(args);
              row.asyncMs = performance.now() - t0;
              row.runAsync = Array.from(outputs[0].data);
              p.dispose();
            } catch (e) {
              row.asyncError = h.describe(e);
            }
            const w = await h.inWorker({ name, threads, once: true });
            row.worker = w.ok ? Array.from(w.output) : null;
            row.workerError = w.error;
            row.loadMs = w.loadMs;
            out.push(row);
          }
        }
        return out;
      },
      { names: THREADED, counts: [1, 2, 4] },
    );
    assert.equal(r.length, THREADED.length * 3);
    for (const row of r) {
      const what = `${row.name} on ${row.threads} thread${row.threads === 1 ? '' : 's'}`;
      const { type, want, tolerance } = expected(row.name);
      const A = arrayType(type);
      assert.equal(row.asyncError, undefined, `${what}, runAsync: ${JSON.stringify(row.asyncError)}`);
      assert.equal(compare(type, A.from(row.runAsync), want, tolerance), null, `${what}, runAsync`);
      assert.equal(row.workerError, undefined, `${what}, in a worker: ${JSON.stringify(row.workerError)}`);
      assert.equal(compare(type, A.from(row.worker), want, tolerance), null, `${what}, run in a worker`);
    }
    t.diagnostic(r.map((x) => `${x.name} threads ${x.threads}: first runAsync ${x.asyncMs.toFixed(1)} ms, Pipeline.load in a worker ${x.loadMs.toFixed(1)} ms`).join('; '));
  });

  await t.test('isolated page: runAsync of a threaded pipeline copies straight into regions of the runner\'s shared memory: successive calls, other shapes, concurrent calls, an abort, no leak, dispose', async () => {
    await page.goto(isolated.url + PAGE);
    const r = await page.evaluate(async () => {
      const { Pipeline } = await import('/lib/web.mjs');
      const h = await import('./harness.mjs');
      const stats = (p) => p[Symbol.for('halide-wasm-executor.runnerStats')]();
      const p = await Pipeline.load(fetch(await h.wasmUrl('par_blur_u16_threads')), { threads: 2 });
      // The serial build run on this thread gives each call's expected output.
      const serial = await Pipeline.load(fetch(await h.wasmUrl('par_blur_u16')));
      const blur = (w, h, k) => {
        const input = new Uint16Array(w * h).map((_, j) => (j * 37 + k * 1009) & 0xffff);
        const ref = new Uint16Array(w * h);
        serial.run({ input: { data: input.slice(), shape: [w, h] }, par_blur_u16: { data: ref, shape: [w, h] } });
        return { args: { input: { data: input, shape: [w, h] }, par_blur_u16: { data: new Uint16Array(w * h).fill(9), shape: [w, h] } }, ref };
      };
      const same = (a, b) => a.length === b.length && a.every((v, i) => v === b[i]);
      const out = { mismatches: [], heaps: [] };
      const shapes = [[256, 192], [256, 192], [100, 37], [256, 192], [64, 300], [64, 300], [72, 16]];
      for (let round = 0; round < 4; round++) {
        for (const [i, [w, hh]] of shapes.entries()) {
          const c = blur(w, hh, round * 10 + i);
          await p.runAsync(c.args);
          if (!same(c.args.par_blur_u16.data, c.ref)) out.mismatches.push(`successive: round ${round}, call ${i}`);
        }
        out.heaps.push((await stats(p)).heapInUseBytes);
      }
      // Concurrent calls, their inputs zeroed right after the call.
      const calls = [[256, 192], [64, 40], [256, 192], [64, 40]].map(([w, hh], i) => blur(w, hh, 500 + i));
      const all = calls.map((c) => p.runAsync(c.args));
      for (const c of calls) c.args.input.data.fill(0);
      await Promise.all(all);
      calls.forEach((c, i) => same(c.args.par_blur_u16.data, c.ref) || out.mismatches.push(`concurrent ${i}`));
      // An abort (a strided input), then good calls in fresh regions.
      const before = await stats(p);
      const bad = blur(256, 192, 7);
      bad.args.input = { data: new Uint16Array(256 * 192), shape: [128, 192], strides: [2, 256] };
      try {
        await p.runAsync(bad.args);
        out.abort = 'ran';
      } catch (e) {
        out.abort = h.describe(e);
      }
      out.untouched = bad.args.par_blur_u16.data.every((v) => v === 9);
      const good = blur(256, 192, 8);
      await p.runAsync(good.args);
      if (!same(good.args.par_blur_u16.data, good.ref)) out.mismatches.push('after the abort');
      const after = await stats(p);
      out.generations = [before.generation, after.generation];
      out.regions = [after.regions, after.regionBytes];
      // Dispose while calls are in flight.
      const inFlight = [blur(256, 192, 1), blur(64, 40, 2)].map((c) => p.runAsync(c.args).then(() => 'resolved', (e) => e.code));
      p.dispose();
      out.inFlight = await Promise.all(inFlight);
      serial.dispose();
      return out;
    });
    assert.deepEqual(r.mismatches, []);
    assert.equal(r.heaps[3], r.heaps[1], `no guest memory leaked over the rounds: ${r.heaps}`);
    assert.equal(r.heaps[2], r.heaps[1]);
    assert.equal(r.abort.code, 'abort', JSON.stringify(r.abort));
    assert.ok(r.untouched, 'the failed call wrote nothing');
    assert.equal(r.generations[1], r.generations[0] + 1, 'the abort gave the runner a fresh memory');
    assert.deepEqual(r.regions, [2, 2 * 256 * 192 * 2], 'the regions of the last call: input and output');
    assert.deepEqual(r.inFlight, ['disposed', 'disposed']);
  });

  await t.test('isolated page: runAsync on a tiny pipeline costs a round trip to the runner', async () => {
    await page.goto(isolated.url + PAGE);
    const r = await page.evaluate(async () => {
      const { Pipeline } = await import('/lib/web.mjs');
      const h = await import('./harness.mjs');
      const { args } = await h.prepare('bench_tiny');
      const p = await Pipeline.load(fetch(await h.wasmUrl('bench_tiny')));
      let t0 = performance.now();
      await p.runAsync(args);
      const first = performance.now() - t0;
      const N = 200;
      for (let i = 0; i < N; i++) await p.runAsync(args);
      t0 = performance.now();
      for (let i = 0; i < N; i++) await p.runAsync(args);
      const asyncUs = ((performance.now() - t0) / N) * 1000;
      for (let i = 0; i < 10 * N; i++) p.run(args);
      t0 = performance.now();
      for (let i = 0; i < 10 * N; i++) p.run(args);
      const runUs = ((performance.now() - t0) / (10 * N)) * 1000;
      p.dispose();
      return { first, asyncUs, runUs };
    });
    t.diagnostic(`bench_tiny (4x4 int32): run ${r.runUs.toFixed(2)} µs, runAsync ${r.asyncUs.toFixed(0)} µs a call; the first runAsync (starts the runner) ${r.first.toFixed(1)} ms`);
    assert.ok(r.asyncUs > 0 && r.runUs > 0);
  });

  await t.test('page without COOP/COEP: the threaded module alone is refused naming the headers; [threaded, serial] loads the serial one', async () => {
    await page.goto(plain.url + PAGE);
    const r = await page.evaluate(async () => {
      const { Pipeline, HalideError } = await import('/lib/web.mjs');
      const h = await import('./harness.mjs');
      const out = { isolated: crossOriginIsolated };
      try {
        await Pipeline.load(fetch(await h.wasmUrl('bilateral_grid_threads')));
        out.alone = 'loaded';
      } catch (e) {
        out.alone = { ...h.describe(e), isHalideError: e instanceof HalideError };
      }
      const p = await Pipeline.load([fetch(await h.wasmUrl('bilateral_grid_threads')), fetch(await h.wasmUrl('bilateral_grid'))]);
      out.name = p.name;
      const { args, outputs } = await h.prepare('bilateral_grid_threads');
      p.run(args);
      out.run = Array.from(outputs[0].data);
      outputs[0].data.fill(0);
      await p.runAsync(args);
      out.runAsync = Array.from(outputs[0].data);
      p.dispose();
      return out;
    });
    assert.equal(r.isolated, false);
    assert.equal(r.alone.isHalideError, true, JSON.stringify(r.alone));
    assert.equal(r.alone.code, 'bad-module');
    assert.match(r.alone.message, /not cross-origin isolated/);
    assert.match(r.alone.message, /`Cross-Origin-Opener-Policy: same-origin`/);
    assert.match(r.alone.message, /`Cross-Origin-Embedder-Policy: require-corp`/);
    assert.match(r.alone.message, /Pipeline\.load\(\[threaded, serial\]\)/);
    assert.equal(r.name, 'bilateral_grid', 'the serial build was loaded');
    checkGrid(r.run, 'the serial build, run');
    checkGrid(r.runAsync, 'the serial build, runAsync');
  });

  assert.deepEqual(pageErrors, [], 'no uncaught errors on the page');
});
