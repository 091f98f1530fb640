// Every fixture case through the npm package's Node entry points: the ESM
// import and the CommonJS require, with both `load` and `loadSync`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as esm from 'halide-wasm-executor';
import { manifest, wasmBytes, prepare, compare, optionsFor } from './fixtures.mjs';

const cjs = createRequire(import.meta.url)('halide-wasm-executor');
const quiet = { print: () => {} };

test('ESM and CommonJS entries export the same classes', () => {
  assert.equal(esm.Pipeline, cjs.Pipeline);
  assert.equal(esm.HalideError, cjs.HalideError);
  assert.ok(new esm.HalideError('x', { code: 'abort' }) instanceof Error);
});

function check(p, c) {
  const { args, outputs } = prepare(c);
  if (c.expect_error) {
    assert.throws(() => p.run(args), (e) => {
      assert.ok(e instanceof esm.HalideError, `${c.name}: ${e}`);
      assert.ok(e.message.includes(c.expect_error.message_contains), `${c.name}: ${e.message}`);
      return true;
    });
    for (const o of outputs) assert.ok(o.data.every((v) => v == 0), `${c.name}: output ${o.name} changed by a failed run`);
    return;
  }
  p.run(args);
  for (const o of outputs) {
    const msg = compare(o.type, o.data, o.expected, c.tolerance ?? 0);
    assert.equal(msg, null, `${c.name}/${o.name}: ${msg}`);
  }
}

const byModule = Map.groupBy ? Map.groupBy(manifest.cases, (c) => c.module) : null;
const groups = byModule ?? manifest.cases.reduce((m, c) => m.set(c.module, [...(m.get(c.module) ?? []), c]), new Map());

for (const [module, cases] of groups) {
  test(`${module}: every case matches native Halide (ESM, async load)`, async () => {
    const p = await esm.Pipeline.load(wasmBytes(module), optionsFor(cases[0], quiet));
    for (const c of cases) check(p, c);
  });
  test(`${module}: every case matches native Halide (CommonJS, loadSync)`, () => {
    const p = cjs.Pipeline.loadSync(wasmBytes(module), optionsFor(cases[0], quiet));
    for (const c of cases) check(p, c);
  });
}
