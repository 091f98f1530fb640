// `halide-wasm-run types`: declarations generated from real fixture
// pipelines' metadata, then checked by tsc --strict (TypeScript 5.9): a
// correct call compiles with the values run() really takes and returns,
// and every misspelled argument or wrong type is an error (each marked
// `@ts-expect-error`, so a declaration that lets one through fails tsc).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pipeline } from 'halide-wasm-executor';
import { fixturesDir, wasmBytes, caseNamed, prepare, compare } from './fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// Inside the package, so that 'halide-wasm-executor' resolves to it by name.
const dir = join(root, 'tests', 'types', `.generated-${process.pid}`);
mkdirSync(dir, { recursive: true });
after(() => rmSync(dir, { recursive: true, force: true }));

function cli(...args) {
  const r = spawnSync(process.execPath, [join(root, 'bin', 'halide-wasm-run.mjs'), ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

function tsc(files) {
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, module: 'node16', moduleResolution: 'node16', target: 'es2022',
        lib: ['esnext'], types: [], skipLibCheck: false, exactOptionalPropertyTypes: true,
      },
      files,
    }),
  );
  const r = spawnSync(join(root, 'node_modules', '.bin', 'tsc'), ['-p', dir], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

const USE = `
import { Pipeline } from 'halide-wasm-executor';
import type { BrightenU8Args, BrightenU8Outputs, BrightenU8Pipeline } from './brighten_u8.js';
import type { DemoInvertPipeline } from './demo_invert.js';
import type { EveryScalarPipeline } from './every_scalar.js';
import type { ReductionsPipeline } from './reductions.js';

declare const bytes: Uint8Array;
const input = { data: new Uint8Array(12), shape: [2, 2, 3] };

const p: BrightenU8Pipeline = Pipeline.loadSync<BrightenU8Args, BrightenU8Outputs>(bytes);
const out = p.run({ input, gain: 1.5 });
const pixels: Uint8Array = out.brighten_u8.data;
p.run({ input });
p.run({ input, brighten_u8: { data: new Uint8ClampedArray(12), shape: [2, 2, 3] } });
// @ts-expect-error misspelled argument
p.run({ input, gian: 1.5 });
// @ts-expect-error a scalar of the wrong type
p.run({ input, gain: '1.5' });
// @ts-expect-error a buffer of the wrong element type
p.run({ input: { data: new Float32Array(12), shape: [2, 2, 3] } });
// @ts-expect-error the input is missing
p.run({ gain: 1 });
// @ts-expect-error no such output
void out.brighten;

const inv = Pipeline.loadSync(bytes) as DemoInvertPipeline;
inv.run({ input: { data: new Uint8ClampedArray(16), shape: [2, 2, 4] }, mix: 0.5, invert_alpha: true });
// @ts-expect-error bool takes a boolean
inv.run({ input: { data: new Uint8ClampedArray(16), shape: [2, 2, 4] }, invert_alpha: 1 });

const every = Pipeline.loadSync(bytes) as EveryScalarPipeline;
const all = every.run({
  input: { data: new BigInt64Array(4), shape: [4] },
  s_int8: 1, s_int16: 2, s_int32: 3, s_int64: 4n, s_uint8: 5, s_uint16: 6, s_uint32: 7, s_uint64: 8n,
  s_float32: 0.5, s_float64: 0.25, s_bool: false,
});
const ints: BigInt64Array = all.ints.data;
// @ts-expect-error 64-bit integers are bigints
every.run({ input: { data: new BigInt64Array(4), shape: [4] }, s_int8: 1, s_int16: 2, s_int32: 3, s_int64: 4, s_uint8: 5, s_uint16: 6, s_uint32: 7, s_uint64: 8n, s_float32: 0.5, s_float64: 0.25, s_bool: false });
// @ts-expect-error scalars without a default are required
every.run({ input: { data: new BigInt64Array(4), shape: [4] } });

const red = Pipeline.loadSync(bytes) as ReductionsPipeline;
const sums = red.run({ input: { data: new Uint8Array(4), shape: [2, 2] }, histogram: { data: new Int32Array(16), shape: [16] } });
const total: Uint32Array = sums.total.data;
// @ts-expect-error the histogram cannot be sized by run(): it is required
red.run({ input: { data: new Uint8Array(4), shape: [2, 2] } });

export { pixels, ints, total };
`;

test('types writes declarations that tsc --strict checks run() against, by name and type', () => {
  for (const m of ['brighten_u8', 'demo_invert', 'every_scalar', 'reductions']) {
    const r = cli('types', join(fixturesDir, `${m}.wasm`), '-o', join(dir, `${m}.d.ts`));
    assert.equal(r.code, 0, r.err);
  }
  const text = readFileSync(join(dir, 'brighten_u8.d.ts'), 'utf8');
  assert.match(text, /gain\?: number;/);
  assert.match(text, /Scalar: float32; default 1; range \[0, 4\]/);
  writeFileSync(join(dir, 'use.ts'), USE);
  const files = ['use.ts', 'brighten_u8.d.ts', 'demo_invert.d.ts', 'every_scalar.d.ts', 'reductions.d.ts'];
  const ok = tsc(files);
  assert.equal(ok.code, 0, ok.out);
  // Without the markers, each marked line is an error tsc reports.
  writeFileSync(join(dir, 'use.ts'), USE.replaceAll('// @ts-expect-error', '//'));
  const bad = tsc(files);
  assert.notEqual(bad.code, 0);
  const errors = bad.out.split('\n').filter((l) => /error TS/.test(l));
  assert.equal(errors.length, USE.split('@ts-expect-error').length - 1, bad.out);
  assert.match(bad.out, /'gian' does not exist in type 'BrightenU8Args'/);
});

test('the generated types describe what run() really takes and returns', () => {
  const c = caseNamed('brighten_u8');
  const p = Pipeline.loadSync(wasmBytes(c.module), { print: () => {} });
  const { args, outputs } = prepare(c);
  delete args.brighten_u8;
  const out = p.run(args);
  assert.ok(out.brighten_u8.data instanceof Uint8Array);
  assert.equal(compare('uint8', out.brighten_u8.data, outputs[0].expected), null);
});

test('types prints to stdout by default and refuses what it cannot describe', () => {
  const r = cli('types', join(fixturesDir, 'demo_invert.wasm'));
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /export type DemoInvertArgs = \{/);
  assert.match(r.out, /invert_alpha\?: boolean;/);
  assert.match(r.out, /export type DemoInvertPipeline = Pipeline<DemoInvertArgs, DemoInvertOutputs>;/);
  const missing = cli('types', join(fixturesDir, 'nope.wasm'));
  assert.equal(missing.code, 2);
  assert.match(missing.err, /cannot read pipeline .*nope\.wasm: no such file/);
  const extra = cli('types', join(fixturesDir, 'demo_invert.wasm'), 'more.wasm');
  assert.equal(extra.code, 2);
  const help = cli('types', '--help');
  assert.equal(help.code, 0);
  assert.match(help.out, /Usage: halide-wasm-run types PIPELINE.wasm/);
});
