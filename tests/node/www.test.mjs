// The in-browser demo (www/) served by scripts/serve.mjs, driven in Debian's
// Chromium with playwright-core. Every bundled demo pipeline must draw, on
// <canvas id="output">, exactly what the same pipeline computes in Node on
// the same input pixels; sliders re-run it (coalesced); bad files are
// messages on the page. A screenshot lands in tests/artifacts/demo.png.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import pngjs from 'pngjs';
import { Pipeline } from 'halide-wasm-executor';
import { startServer } from '../../scripts/serve.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'tests', 'artifacts');
const TIMEOUT = 20_000;

const manifest = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'manifest.json'), 'utf8'));
const DEMOS = Object.entries(manifest.modules)
  .filter(([, m]) => m.purpose === 'demo')
  .map(([name, m]) => ({ name, ...m }));

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
      runs: d.runs,
      pipeline: d.pipeline,
      select: document.getElementById('pipeline').value,
      error: document.getElementById('error').hidden ? null : document.getElementById('error').textContent,
    };
  });
  for (const k of ['outputCanvas', 'inputCanvas', 'input', 'output']) r[k] = new Uint8Array(Buffer.from(r[k], 'base64'));
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

test('the in-browser demo (www/)', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the demo page test`);
    return;
  }
  assert.ok(existsSync(join(ROOT, 'pkg', 'web', 'halide_wasm_executor_bg.wasm')), 'pkg/web is missing: run `node scripts/setup.mjs --build`');
  assert.ok(DEMOS.length >= 5, `the manifest lists ${DEMOS.length} demo pipelines`);

  const { chromium } = await import('playwright-core');
  const server = await startServer({ port: 0 });
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const pageErrors = [];
  page.on('pageerror', (e) => pageErrors.push(e.message));

  await t.test('serve.mjs: redirect, wasm MIME type, cross-origin isolation', async () => {
    const root = await fetch(`${server.url}/?pipeline=demo_blur`, { redirect: 'manual' });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get('location'), '/www/?pipeline=demo_blur');
    const wasm = await fetch(`${server.url}/fixtures/${DEMOS[0].wasm}`);
    assert.equal(wasm.status, 200);
    assert.equal(wasm.headers.get('content-type'), 'application/wasm');
    assert.equal(wasm.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.equal(wasm.headers.get('cross-origin-embedder-policy'), 'require-corp');
    await wasm.arrayBuffer();
    for (const path of ['/lib/web.mjs', '/pkg/web/halide_wasm_executor.js', '/www/', '/www/app.mjs', '/www/worker.mjs']) {
      const r = await fetch(server.url + path);
      assert.equal(r.status, 200, path);
      await r.arrayBuffer();
    }
    assert.equal((await fetch(`${server.url}/no/such/file`)).status, 404);
  });

  // The sample as Node decodes it, to report whether the browser's pixels are the file's.
  const sample = pngjs.PNG.sync.read(readFileSync(join(ROOT, 'www', 'assets', 'sample.png')));

  for (const demo of DEMOS) {
    await t.test(`${demo.name}: the page's output equals the pipeline run in Node`, async () => {
      await page.goto(`${server.url}/www/?pipeline=${demo.name}`);
      await waitState(page, 'done');
      const r = await readPage(page);
      assert.equal(r.pipeline, demo.name);
      assert.equal(r.select, demo.name);
      assert.equal(r.error, null);
      assert.ok(await page.evaluate(() => crossOriginIsolated), 'the page is cross-origin isolated');
      assert.equal(r.layout, 'interleaved');
      assert.deepEqual([r.width, r.height], [sample.width, sample.height]);
      assert.equal(maxAbsDiff(r.inputCanvas, r.input), 0, 'the input canvas shows the pixels the pipeline got');
      assert.equal(maxAbsDiff(r.outputCanvas, r.output), 0, 'the output canvas shows the pipeline output');
      const expected = await runInNode(demo.wasm, demo.entry, { width: r.width, height: r.height, input: r.input, values: r.values, layout: 'interleaved' });
      assert.equal(maxAbsDiff(r.outputCanvas, expected), 0, `${demo.name} output differs from Node`);
      if (demo === DEMOS[0]) {
        const d = maxAbsDiff(r.input, sample.data);
        t.diagnostic(`browser decode of sample.png vs pngjs: max abs diff ${d}`);
      }
    });
  }

  const scalarDemo = DEMOS.find((d) => d.name === 'demo_brighten_contrast') ?? DEMOS[0];
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
    await page.goto(`${server.url}/www/?pipeline=demo_local_contrast`);
    await waitState(page, 'done');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'demo.png') });
  });

  assert.deepEqual(pageErrors, [], 'no uncaught errors on the page');
});
