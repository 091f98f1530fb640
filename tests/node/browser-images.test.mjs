// Images and module inputs in Debian's Chromium (playwright-core), on a page
// served by scripts/serve.mjs: a real canvas (the bundled photo drawn on
// it) → toBuffer → run (the executor allocates the output) → toImageData →
// putImageData on a second canvas, read back and compared with the same
// pipeline run in Node on the same pixels; toBuffer of an ImageBitmap and
// an HTMLImageElement; Pipeline.load of a relative URL string, a File, a
// Blob, and a missing URL.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { startServer } from '../../scripts/serve.mjs';
import { Pipeline, toBuffer, toImageData } from 'halide-wasm-executor';
import { wasmBytes } from './fixtures.mjs';
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const PAGE = '/tests/node/browser/blank.html';

test('images and module inputs in Chromium', { timeout: 120_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`);
    return;
  }
  assert.ok(existsSync(join(ROOT, 'pkg', 'web', 'halide_wasm_executor_bg.wasm')), 'pkg/web is missing: run `node scripts/setup.mjs --build`');
  const server = await startServer({ port: 0, isolation: false });
  const browser = await launchChromium();
  t.after(async () => {
    await browser.close();
    await server.close();
  });
  const pageErrors = [];
  const page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(e.message));
  await page.goto(server.url + PAGE);

  await t.test('Pipeline.load takes a relative URL string, a File and a Blob; a missing URL is a HalideError naming it', async () => {
    const r = await page.evaluate(async () => {
      const { Pipeline, HalideError } = await import('/lib/web.mjs');
      const out = {};
      const names = async (p) => p.arguments.map((a) => a.name).join(',');
      // Relative to the page: /tests/node/browser/ → /fixtures/.
      out.url = await names(await Pipeline.load('../../../fixtures/demo_invert.wasm'));
      const bytes = await (await fetch('/fixtures/demo_invert.wasm')).arrayBuffer();
      out.file = await names(await Pipeline.load(new File([bytes], 'dropped.wasm')));
      out.blob = await names(await Pipeline.load(new Blob([bytes])));
      out.dataView = await names(await Pipeline.load(new DataView(bytes)));
      try {
        await Pipeline.load('nothing-here.wasm');
        out.missing = 'loaded';
      } catch (e) {
        out.missing = { isHalideError: e instanceof HalideError, code: e.code, message: e.message };
      }
      return out;
    });
    for (const k of ['url', 'file', 'blob', 'dataView']) assert.equal(r[k], 'input,mix,invert_alpha,demo_invert', k);
    assert.equal(r.missing.isHalideError, true);
    assert.equal(r.missing.code, 'bad-argument');
    assert.match(r.missing.message, new RegExp(`404 Not Found from ${server.url}/tests/node/browser/nothing-here\\.wasm`));
  });

  await t.test('canvas → toBuffer → run → toImageData → canvas equals the same pipeline in Node', async () => {
    const r = await page.evaluate(async () => {
      const { Pipeline, toBuffer, toImageData } = await import('/lib/web.mjs');
      const img = new Image();
      img.src = '/www/assets/sample.png';
      await img.decode();
      const { naturalWidth: w, naturalHeight: h } = img;
      const canvas = document.createElement('canvas');
      canvas.width = w;
      canvas.height = h;
      const ctx = canvas.getContext('2d', { willReadFrequently: true });
      ctx.drawImage(img, 0, 0);
      const pixels = ctx.getImageData(0, 0, w, h);
      const out = { w, h, input: Array.from(pixels.data), results: {} };
      const same = (a, b) => a.data.length === b.data.length && a.data.every((v, i) => v === b.data[i]);
      for (const [name, scalars] of [['demo_invert', { mix: 0.75 }], ['demo_local_contrast', { strength: 2 }]]) {
        const p = await Pipeline.load(`/fixtures/${name}.wasm`);
        // The filter: load, run, put.
        const result = p.run({ input: toBuffer(canvas, p), ...scalars });
        const shown = document.createElement('canvas');
        shown.width = w;
        shown.height = h;
        const sctx = shown.getContext('2d', { willReadFrequently: true });
        const imageData = toImageData(result[name]);
        out.isImageData = imageData instanceof ImageData;
        sctx.putImageData(imageData, 0, 0);
        out.results[name] = Array.from(sctx.getImageData(0, 0, w, h).data);
      }
      const p = await Pipeline.load('/fixtures/demo_invert.wasm');
      const fromCanvas = toBuffer(canvas, p);
      out.bitmapSame = same(toBuffer(await createImageBitmap(img), p), fromCanvas);
      out.imageSame = same(toBuffer(img, p), fromCanvas);
      const offscreen = new OffscreenCanvas(w, h);
      offscreen.getContext('2d').drawImage(img, 0, 0);
      out.offscreenSame = same(toBuffer(offscreen, p), fromCanvas);
      out.imageDataSame = same(toBuffer(pixels, p), fromCanvas);
      try {
        toBuffer(new Image(), p);
      } catch (e) {
        out.notLoaded = { code: e.code, message: e.message };
      }
      return out;
    });
    assert.deepEqual(pageErrors, []);
    assert.equal(r.isImageData, true);
    assert.ok(r.bitmapSame && r.imageSame && r.offscreenSame && r.imageDataSame, JSON.stringify({ ...r, input: undefined, results: undefined }));
    assert.equal(r.notLoaded.code, 'bad-argument');
    assert.match(r.notLoaded.message, /has not loaded yet/);
    const image = { data: new Uint8ClampedArray(r.input), width: r.w, height: r.h };
    for (const [name, scalars] of [['demo_invert', { mix: 0.75 }], ['demo_local_contrast', { strength: 2 }]]) {
      const p = Pipeline.loadSync(wasmBytes(name), { print: () => {} });
      const out = p.run({ input: toBuffer(image, p), ...scalars });
      const want = toImageData(out[name]).data;
      const got = Uint8ClampedArray.from(r.results[name]);
      assert.equal(got.length, want.length);
      let diff = 0;
      for (let i = 0; i < got.length; i++) if (got[i] !== want[i]) diff++;
      assert.equal(diff, 0, `${name}: ${diff} samples differ from Node's run`);
      // And the filter did something.
      assert.ok(got.some((v, i) => v !== image.data[i]), `${name} changed the image`);
    }
  });
});
