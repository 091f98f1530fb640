// The in-browser demo (www/) served by scripts/serve.mjs, driven in Debian's
// Chromium with playwright-core. Every bundled demo pipeline (its threaded
// build on the cross-origin isolated page, its serial build on a page
// without COOP/COEP) must draw, on <canvas id="output">, exactly what the
// serial build computes in Node on the same input pixels, and report its
// median times on 1 and N threads and OpenCV.js's result and time; the
// threads control changes how many thread workers run it; download gives a
// PNG of the result; sliders re-run it (coalesced); bad files are messages
// on the page. A screenshot lands in tests/artifacts/demo.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import pngjs from 'pngjs';
import { Pipeline } from 'halide-wasm-executor';
import { startServer } from '../../scripts/serve.mjs';
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const TIMEOUT = 60_000;

const manifest = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'manifest.json'), 'utf8'));
// A demo is its serial module; `threaded` names its wasm_threads build.
const DEMOS = Object.entries(manifest.modules)
  .filter(([, m]) => m.purpose === 'demo' && !m.threads)
  .map(([name, m]) => ({ name, ...m }));
const OPENCV = { demo_bilateral: /bilateralFilter/, demo_local_laplacian: /CLAHE/, demo_gaussian_blur: /GaussianBlur/ };

// ------------------------------------------------------- Node reference ---

const pipelines = new Map();
async function nodePipeline(file, entry) {
  if (!pipelines.has(file)) pipelines.set(file, await Pipeline.load(readFileSync(join(ROOT, 'fixtures', file)), { entry, print: () => {}, error: () => {} }));
  return pipelines.get(file);
}

/** The pipeline run in Node on RGBA `pixels`, interleaved or planar, as RGBA. */
async function runInNode(file, entry, { width, height, input, values, layout }) {
  const p = await nodePipeline(file, entry);
  const inArg = p.arguments.find((a) => a.kind === 'input');
  const outArg = p.arguments.find((a) => a.kind === 'output');
  const args = { ...values };
  if (layout === 'interleaved') {
    const geom = { shape: [width, height, 4], strides: [4, 4 * width, 1] };
    const out = new Uint8Array(width * height * 4);
    args[inArg.name] = { data: new Uint8Array(input), ...geom };
    args[outArg.name] = { data: out, ...geom };
    p.run(args);
    return out;
  }
  assert.equal(layout, 'planar');
  const n = width * height;
  const planar = new Uint8Array(3 * n);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) planar[c * n + i] = input[4 * i + c];
  const out = new Uint8Array(3 * n);
  const geom = { shape: [width, height, 3], strides: [1, width, n] };
  args[inArg.name] = { data: planar, ...geom };
  args[outArg.name] = { data: out, ...geom };
  p.run(args);
  const rgba = new Uint8Array(4 * n);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < 3; c++) rgba[4 * i + c] = out[c * n + i];
    rgba[4 * i + 3] = 255;
  }
  return rgba;
}

function maxAbsDiff(a, b) {
  assert.equal(a.length, b.length, 'pixel counts differ');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

// ------------------------------------------------------------- the page ---

/** What the page shows and used: canvases read back with getImageData, plus window.__demo. */
async function readPage(page) {
  const r = await page.evaluate(() => {
    const b64 = (u8) => {
      let s = '';
      for (let i = 0; i < u8.length; i += 0x8000) s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
      return btoa(s);
    };
    const pixels = (id) => {
      const c = document.getElementById(id);
      return b64(c.getContext('2d').getImageData(0, 0, c.width, c.height).data);
    };
    const d = window.__demo;
    return {
      state: document.body.dataset.state,
      width: d.width,
      height: d.height,
      outputCanvas: pixels('output'),
      inputCanvas: pixels('input'),
      input: b64(d.inputPixels),
      output: b64(d.outputPixels),
      values: d.values,
      layout: d.layout,
      build: d.build,
      threads: d.threads,
      times: d.times,
      opencv: d.opencv && { op: d.opencv.op, ms: d.opencv.ms, width: d.opencv.width, height: d.opencv.height, pixels: b64(d.opencv.pixels) },
      opencvCanvas: pixels('opencv'),
      shown: { one: document.getElementById('stat-one').textContent, n: document.getElementById('stat-n').textContent, cv: document.getElementById('stat-cv').textContent },
      runs: d.runs,
      pipeline: d.pipeline,
      select: document.getElementById('pipeline').value,
      error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
    };
  });
  for (const k of ['outputCanvas', 'inputCanvas', 'input', 'output', 'opencvCanvas']) r[k] = new Uint8Array(Buffer.from(r[k], 'base64'));
  if (r.opencv) r.opencv.pixels = new Uint8Array(Buffer.from(r.opencv.pixels, 'base64'));
  return r;
}

const settled = (page) =>
  page.waitForFunction(() => ['done', 'error'].includes(document.body.dataset.state), null, { timeout: TIMEOUT });

async function waitState(page, want) {
  await settled(page);
  const state = await page.evaluate(() => document.body.dataset.state);
  if (state !== want) {
    const error = await page.evaluate(() => document.getElementById('error').textContent.trim());
    assert.fail(`page state is '${state}', expected '${want}'${error ? `; the page says: ${error}` : ''}`);
  }
}

test('the in-browser demo (www/)', { timeout: 400_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the demo page test`);
    return;
  }
  assert.ok(existsSync(join(ROOT, 'pkg', 'web', 'halide_wasm_executor_bg.wasm')), 'pkg/web is missing: run `node scripts/setup.mjs --build`');
  assert.ok(DEMOS.length >= 3, `the manifest lists ${DEMOS.length} demo pipelines`);
  for (const d of DEMOS) assert.ok(d.threaded && manifest.modules[d.threaded].threads, `${d.name} has a threaded build`);

  const server = await startServer({ port: 0 });
  const plain = await startServer({ port: 0, isolation: false });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await server.close();
    await plain.close();
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 1100 }, acceptDownloads: true });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await t.test('serve.mjs: redirect, wasm MIME type, cross-origin isolation', async () => {
    const root = await fetch(`${server.url}/?pipeline=demo_bilateral`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/www/?pipeline=demo_bilateral');
    const wasm = await fetch(`${server.url}/fixtures/${DEMOS[0].wasm}`);
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(wasm.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(wasm.headers.get('cross-origin-embedder-policy'), 'require-corp');
    await wasm.arrayBuffer();
    for (const path of ['/lib/web.mjs', '/pkg/web/halide_wasm_executor.js', '/www/', '/www/app.mjs', '/www/pixels.mjs', '/node_modules/@techstark/opencv-js/dist/opencv.js']) {
      const r = await fetch(server.url + path);
      assert.equal(r.status, 200, path);
      await r.arrayBuffer();
    }
    assert.equal((await fetch(`${server.url}/no/such/file`)).status, 404);
  });

  // The sample as Node decodes it, to report whether the browser's pixels are the file's.
  const sample = pngjs.PNG.sync.read(readFileSync(join(ROOT, 'www', 'assets', 'sample.png')));

  const hardwareConcurrency = await (async () => {
    await page.goto(`${server.url}/www/?pipeline=nothing`);
    return page.evaluate(() => navigator.hardwareConcurrency);
  })();
  const times = {};

  for (const demo of DEMOS) {
    await t.test(`${demo.name}: the threaded build renders what Node computes; its times and OpenCV.js's appear`, async () => {
      await page.goto(`${server.url}/www/?pipeline=${demo.name}`);
      await waitState(page, 'done');
      const r = await readPage(page);
      assert.equal(r.pipeline, demo.threaded, 'the cross-origin isolated page runs the threaded build');
      assert.equal(r.build, 'threaded');
      assert.equal(r.threads, hardwareConcurrency, 'threads default to navigator.hardwareConcurrency');
      assert.equal(r.select, demo.name);
      assert.equal(r.error, null);
      assert.ok(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated');
      assert.equal(r.layout, 'interleaved');
      assert.deepEqual([r.width, r.height], [sample.width, sample.height]);
      assert.equal(maxAbsDiff(r.inputCanvas, r.input), 0, 'the input canvas shows the pixels the pipeline got');
      assert.equal(maxAbsDiff(r.outputCanvas, r.output), 0, 'the output canvas shows the pipeline output');
      const expected = await runInNode(demo.wasm, demo.entry, { width: r.width, height: r.height, input: r.input, values: r.values, layout: 'interleaved' });
      assert.equal(maxAbsDiff(r.outputCanvas, expected), 0, `${demo.name} output differs from Node`);
      assert.ok(maxAbsDiff(r.outputCanvas, r.input) > 0, 'the pipeline changed the image');
      // Times: medians on 1 thread and (threaded, N > 1) on N threads, shown on the page.
      assert.ok(r.times && r.times.one > 0 && Number.isFinite(r.times.one), `1-thread time ${JSON.stringify(r.times)}`);
      assert.match(r.shown.one, /^[\d.]+ ms$/);
      if (hardwareConcurrency > 1) {
        assert.ok(r.times.n > 0 && Number.isFinite(r.times.n), `N-thread time ${JSON.stringify(r.times)}`);
        assert.equal(r.times.threads, hardwareConcurrency);
        assert.match(r.shown.n, /^[\d.]+ ms \([\d.]+× vs 1\)$/);
      }
      // OpenCV.js: its operation on the same pixels, its result drawn, its time shown.
      assert.ok(r.opencv, 'OpenCV.js ran');
      assert.match(r.opencv.op, OPENCV[demo.name] ?? /./);
      assert.ok(r.opencv.ms > 0 && Number.isFinite(r.opencv.ms));
      assert.match(r.shown.cv, /^[\d.]+ ms \((Halide|OpenCV\.js) [\d.]+× faster\)$/);
      assert.deepEqual([r.opencv.width, r.opencv.height], [r.width, r.height]);
      assert.equal(maxAbsDiff(r.opencvCanvas, r.opencv.pixels), 0, 'the OpenCV canvas shows its result');
      assert.ok(maxAbsDiff(r.opencv.pixels, r.input) > 0, 'OpenCV changed the image');
      if (demo.name === 'demo_gaussian_blur') {
        // The same operation in both: a Gaussian of the same sigma, edges repeated.
        let sum = 0;
        let max = 0;
        for (let i = 0; i < r.output.length; i++) {
          const d = Math.abs(r.output[i] - r.opencv.pixels[i]);
          sum += d;
          max = Math.max(max, d);
        }
        t.diagnostic(`Gaussian blur, Halide vs OpenCV.js: mean abs diff ${(sum / r.output.length).toFixed(3)}, max ${max}`);
        assert.ok(sum / r.output.length < 1, 'Halide and OpenCV.js blur alike');
      }
      times[demo.name] = { one: r.times.one, n: r.times.n, threads: r.times.threads, opencv: r.opencv.ms, op: r.opencv.op };
      t.diagnostic(`${demo.name} ${r.width}x${r.height}: runAsync median 1 thread ${r.times.one.toFixed(1)} ms, ${r.times.threads} threads ${r.times.n?.toFixed(1)} ms; OpenCV.js ${r.opencv.op} ${r.opencv.ms.toFixed(1)} ms`);
      if (demo === DEMOS[0]) {
        const d = maxAbsDiff(r.input, sample.data);
        t.diagnostic(`browser decode of sample.png vs pngjs: max abs diff ${d}`);
      }
    });
  }

  const threadDemo = DEMOS[0];
  const threadWorkers = () => page.workers().filter((w) => w.url().endsWith('/lib/thread-worker.mjs')).length;
  async function waitWorkers(n) {
    for (let i = 0; i < 100 && threadWorkers() !== n; i++) await new Promise((r) => setTimeout(r, 50));
    return threadWorkers();
  }

  await t.test(`${threadDemo.name}: the threads control sets how many threads run it`, async (tt) => {
    if (hardwareConcurrency < 2) return tt.skip('navigator.hardwareConcurrency is 1');
    await page.goto(`${server.url}/www/?pipeline=${threadDemo.name}`);
    await waitState(page, 'done');
    const control = await page.evaluate(() => {
      const s = document.getElementById('threads');
      return { min: Number(s.min), max: Number(s.max), value: Number(s.value), disabled: s.disabled };
    });
    assert.deepEqual(control, { min: 1, max: hardwareConcurrency, value: hardwareConcurrency, disabled: false });
    // The N-thread pipeline's pool (N - 1 workers; the 1-thread one used for timing has none).
    assert.equal(await waitWorkers(hardwareConcurrency - 1), hardwareConcurrency - 1, 'thread workers at N threads');
    const before = await readPage(page);
    const setThreads = (n) =>
      page.evaluate((v) => {
        const s = document.getElementById('threads');
        s.value = String(v);
        s.dispatchEvent(new Event('input', { bubbles: true }));
      }, n);
    await setThreads(1);
    await waitState(page, 'done');
    const one = await readPage(page);
    assert.equal(one.threads, 1);
    assert.equal(one.times.threads, 1);
    assert.equal(one.times.n, null, 'no N-thread time at 1 thread');
    assert.equal(one.runs, before.runs + 1);
    assert.equal(await waitWorkers(0), 0, 'no thread workers at 1 thread (the N-thread pipeline was disposed)');
    assert.equal(maxAbsDiff(one.outputCanvas, before.outputCanvas), 0, 'the same output on 1 thread');
    await setThreads(hardwareConcurrency);
    await waitState(page, 'done');
    const back = await readPage(page);
    assert.equal(back.threads, hardwareConcurrency);
    assert.equal(await waitWorkers(hardwareConcurrency - 1), hardwareConcurrency - 1);
    assert.equal(maxAbsDiff(back.outputCanvas, before.outputCanvas), 0);
  });

  await t.test(`${threadDemo.name}: split view, zoom and a PNG download of the result`, async () => {
    await page.goto(`${server.url}/www/?pipeline=${threadDemo.name}`);
    await waitState(page, 'done');
    const box = await page.locator('#split').boundingBox();
    await page.mouse.move(box.x + box.width * 0.25, box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.75, box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    const split = Number(await page.getAttribute('#divider', 'aria-valuenow'));
    assert.ok(Math.abs(split - 75) <= 2, `the divider follows the drag: ${split}%`);
    const clip = await page.evaluate(() => getComputedStyle(document.getElementById('output')).clipPath);
    assert.match(clip, /inset\(0(px)? 0(px)? 0(px)? 7[45]/);
    await page.selectOption('#zoom', '2');
    const width = await page.evaluate(() => document.getElementById('split').getBoundingClientRect().width);
    assert.equal(Math.round(width), 2 * sample.width, 'zoom 200% shows every pixel twice as wide');
    await page.selectOption('#compare', 'opencv');
    assert.deepEqual(await page.evaluate(() => [document.getElementById('output').hidden, document.getElementById('opencv').hidden]), [true, false]);
    await page.selectOption('#compare', 'halide');

    const r = await readPage(page);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    assert.equal(download.suggestedFilename(), `${r.pipeline}.png`);
    mkdirSync(ARTIFACTS, { recursive: true });
    const file = join(ARTIFACTS, 'demo-download.png');
    await download.saveAs(file);
    const bytes = readFileSync(file);
    assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], 'a PNG signature');
    const png = pngjs.PNG.sync.read(bytes);
    assert.deepEqual([png.width, png.height], [r.width, r.height]);
    assert.equal(maxAbsDiff(new Uint8Array(png.data), r.output), 0, 'the PNG holds the result');
  });

  await t.test(`${threadDemo.name}: a page without COOP/COEP runs the serial build`, async () => {
    await page.goto(`${plain.url}/www/?pipeline=${threadDemo.name}`);
    await waitState(page, 'done');
    const r = await readPage(page);
    assert.equal(await page.evaluate(() => crossOriginIsolated), false);
    assert.equal(r.pipeline, threadDemo.entry);
    assert.equal(r.build, 'serial');
    assert.equal(r.threads, 1);
    assert.equal(await page.evaluate(() => document.getElementById('threads').disabled), true);
    assert.match(await page.textContent('#threads-hint'), /not cross-origin isolated/);
    const expected = await runInNode(threadDemo.wasm, threadDemo.entry, { width: r.width, height: r.height, input: r.input, values: r.values, layout: 'interleaved' });
    assert.equal(maxAbsDiff(r.outputCanvas, expected), 0);
    assert.ok(r.opencv && r.opencv.ms > 0);
  });

  const scalarDemo = DEMOS.find((d) => d.name === 'demo_gaussian_blur') ?? DEMOS[0];
  await t.test(`${scalarDemo.name}: moving a slider re-runs; a burst of moves is coalesced`, async () => {
    await page.goto(`${server.url}/www/?pipeline=${scalarDemo.name}`);
    await waitState(page, 'done');
    const before = await readPage(page);
    const slider = await page.evaluate(() => {
      const s = document.querySelector('#controls input[type=range]');
      return { id: s.id, min: Number(s.min), max: Number(s.max), value: Number(s.value), name: s.dataset.arg };
    });
    const target = slider.min + 0.8 * (slider.max - slider.min);
    await page.evaluate(({ id, v }) => {
      const s = document.getElementById(id);
      s.value = String(v);
      s.dispatchEvent(new Event('input', { bubbles: true }));
    }, { id: slider.id, v: target });
    await waitState(page, 'done');
    const after = await readPage(page);
    assert.equal(after.runs, before.runs + 1);
    assert.ok(Math.abs(after.values[slider.name] - target) < 1e-9, `${slider.name} is ${after.values[slider.name]}`);
    assert.ok(maxAbsDiff(before.outputCanvas, after.outputCanvas) > 0, 'the output changed');
    const expected = await runInNode(scalarDemo.wasm, scalarDemo.entry, { width: after.width, height: after.height, input: after.input, values: after.values, layout: 'interleaved' });
    assert.equal(maxAbsDiff(after.outputCanvas, expected), 0);

    // Ten moves in one go: one run in flight plus the latest request.
    const last = await page.evaluate(({ id, min, max }) => {
      const s = document.getElementById(id);
      let v;
      for (let i = 0; i < 10; i++) {
        v = min + ((i + 1) / 20) * (max - min);
        s.value = String(v);
        s.dispatchEvent(new Event('input', { bubbles: true }));
      }
      return Number(s.value);
    }, slider);
    await waitState(page, 'done');
    const burst = await readPage(page);
    assert.equal(burst.runs, after.runs + 2, 'ten input events gave two runs');
    assert.ok(Math.abs(burst.values[slider.name] - last) < 1e-9, 'the last run used the last value');
    const expected2 = await runInNode(scalarDemo.wasm, scalarDemo.entry, { width: burst.width, height: burst.height, input: burst.input, values: burst.values, layout: 'interleaved' });
    assert.equal(maxAbsDiff(burst.outputCanvas, expected2), 0);
  });

  await t.test('a corrupt .wasm and an undecodable image are messages on the page', async () => {
    const garbage = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 37 + 11) & 255));
    await page.setInputFiles('#wasm-file', { name: 'corrupt.wasm', mimeType: 'application/wasm', buffer: garbage });
    await waitState(page, 'error');
    const err = await page.evaluate(() => ({
      visible: !document.getElementById('error').hidden && document.getElementById('error').offsetHeight > 0,
      title: document.getElementById('error-title').textContent,
      code: document.getElementById('error-code').textContent,
      message: document.getElementById('error-message').textContent,
    }));
    assert.ok(err.visible, '#error is shown');
    assert.match(err.title, /corrupt\.wasm/);
    assert.match(err.code, /HalideError.*bad-module/);
    assert.match(err.message, /not a usable Halide pipeline|WebAssembly/);

    await page.setInputFiles('#image-file', { name: 'broken.png', mimeType: 'image/png', buffer: garbage });
    await waitState(page, 'error');
    const imgErr = await page.evaluate(() => document.getElementById('error').textContent);
    assert.match(imgErr, /broken\.png/);
  });

  await t.test('a user .wasm that wants planar buffers runs planar (brighten_u8)', async () => {
    const mod = manifest.modules.brighten_u8;
    if (!mod) return t.skip('no brighten_u8 fixture');
    await page.setInputFiles('#wasm-file', { name: mod.wasm, mimeType: 'application/wasm', buffer: readFileSync(join(ROOT, 'fixtures', mod.wasm)) });
    await waitState(page, 'done');
    const r = await readPage(page);
    assert.equal(r.error, null, 'the error from before is gone');
    assert.equal(r.pipeline, mod.entry);
    assert.equal(r.layout, 'planar');
    const expected = await runInNode(mod.wasm, mod.entry, { width: r.width, height: r.height, input: r.input, values: r.values, layout: 'planar' });
    assert.equal(maxAbsDiff(r.outputCanvas, expected), 0);
  });

  await t.test('screenshot', async () => {
    await page.goto(`${server.url}/www/?pipeline=demo_local_laplacian`);
    await waitState(page, 'done');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png'), fullPage: true });
    t.diagnostic(`times: ${JSON.stringify(times)}`);
  });

  assert.deepEqual(pageErrors, [], 'no uncaught errors on the page');
});
