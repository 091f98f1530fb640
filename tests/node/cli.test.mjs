// The halide-wasm-run command, run as users run it (a child process), on
// real fixture pipelines; its outputs are checked against the same pipeline
// run in-process.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { Pipeline } from 'halide-wasm-executor';
import { fixturesDir, wasmBytes, readArray, compare, caseNamed } from './fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'halide-wasm-run.mjs');
const sample = join(root, 'www', 'assets', 'sample.png');
const wasm = (m) => join(fixturesDir, `${m}.wasm`);
const tmp = mkdtempSync(join(tmpdir(), 'hwe-cli-'));

function cli(...args) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const readPng = (path) => pngjs.PNG.sync.read(readFileSync(path));

test('info describes the arguments, as text and as JSON', () => {
  const t = cli('info', wasm('brighten_u8'));
  assert.equal(t.code, 0, t.err);
  assert.match(t.out, /^brighten_u8 \(wasm-32-wasmrt\)/);
  assert.match(t.out, /gain\s+scalar float32 {2}\(default 1, min 0, max 4\)/);
  const j = cli('info', wasm('every_scalar'), '--json');
  assert.equal(j.code, 0, j.err);
  const d = JSON.parse(j.out);
  assert.equal(d.name, 'every_scalar');
  assert.equal(d.arguments.find((a) => a.name === 's_uint64').type, 'uint64');
});

test('run fits a PNG to a planar RGB pipeline and writes what the pipeline computes', () => {
  const out = join(tmp, 'bright.png');
  const r = cli('run', wasm('brighten_u8'), '--input', sample, '--output', out, '--arg', 'gain=1.5');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /brighten_u8: .*sample.png \(451x300\) -> .*bright.png in [\d.]+ ms/);
  const src = readPng(sample);
  const got = readPng(out);
  const [w, h] = [src.width, src.height];
  const planar = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < 3; c++) planar[c * w * h + y * w + x] = src.data[4 * (y * w + x) + c];
  const expected = new Uint8Array(w * h * 3);
  Pipeline.loadSync(wasmBytes('brighten_u8')).run({ input: { data: planar, shape: [w, h, 3] }, gain: 1.5, brighten_u8: { data: expected, shape: [w, h, 3] } });
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) assert.equal(got.data[4 * i + c], expected[c * w * h + i], `pixel ${i} channel ${c}`);
});

test('run gives an RGBA pipeline interleaved buffers, and reads JPEG', () => {
  const src = readPng(sample);
  const jpg = join(tmp, 'in.jpg');
  writeFileSync(jpg, jpeg.encode({ width: src.width, height: src.height, data: src.data }, 95).data);
  const out = join(tmp, 'inv.png');
  const r = cli('run', wasm('invert_rgba'), '--input', jpg, '--output', out);
  assert.equal(r.code, 0, r.err);
  const decoded = jpeg.decode(readFileSync(jpg), { useTArray: true, formatAsRGBA: true });
  const expected = new Uint8Array(decoded.data.length);
  const shape = [decoded.width, decoded.height, 4];
  const strides = [4, 4 * decoded.width, 1];
  Pipeline.loadSync(wasmBytes('invert_rgba')).run({ input: { data: decoded.data, shape, strides }, invert_rgba: { data: expected, shape, strides } });
  assert.deepEqual(Buffer.from(readPng(out).data), Buffer.from(expected));
});

test('run on a raw buffer writes the raw output', () => {
  const c = caseNamed('blur3x3_u16');
  const out = join(tmp, 'blur.bin');
  const [w, h] = c.args.input.shape;
  const r = cli('run', wasm('blur3x3_u16'), '--input-raw', join(fixturesDir, c.args.input.file), '--shape', `${w},${h}`, '--type', 'uint16', '--output', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /uint16, shape 37x23/);
  const got = new Uint16Array(new Uint8Array(readFileSync(out)).buffer);
  assert.equal(compare('uint16', got, readArray('uint16', c.args.blur3x3_u16.file)), null);
});

test('a batch goes on past a bad image, names it, and exits 1', () => {
  const bad = join(tmp, 'bad.png');
  writeFileSync(bad, 'not an image');
  const dir = join(tmp, 'batch');
  const r = cli('run', wasm('demo_sharpen'), '--output-dir', dir, sample, bad, join(tmp, 'in.jpg'));
  assert.equal(r.code, 1);
  assert.match(r.out, /2 of 3 images done/);
  assert.match(r.err, /bad.png: cannot decode .*not a PNG or JPEG image/);
  assert.ok(existsSync(join(dir, 'sample.png')) && existsSync(join(dir, 'in.png')));
  assert.ok(!existsSync(join(dir, 'bad.png')));
});

test('user errors are clear messages with exit code 2', () => {
  const cases = [
    [['run', wasm('brighten_u8'), '--input', sample, '--output', join(tmp, 'x.png'), '--arg', 'gain=9'], /argument 'gain': 9 is above the pipeline's maximum 4/],
    [['run', wasm('brighten_u8'), '--input', sample, '--output', join(tmp, 'x.png'), '--arg', 'gane=1'], /unknown scalar argument 'gane'; brighten_u8 takes: gain/],
    [['run', wasm('brighten_u8'), '--input', sample, '--output', join(tmp, 'x.png'), '--arg', 'gain=abc'], /--arg gain: expected a number, got 'abc'/],
    [['run', wasm('brighten_u8'), '--input', join(tmp, 'missing.png'), '--output', join(tmp, 'x.png')], /cannot read image .*missing.png: no such file/],
    [['info', join(tmp, 'missing.wasm')], /cannot read pipeline .*missing.wasm: no such file/],
    [['run', wasm('brighten_u8'), '--input', sample], /run needs --input \(or --input-raw\) and --output/],
    [['run', wasm('brighten_u8'), '--bogus'], /Unknown option '--bogus'/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['run', wasm('every_scalar'), '--input', sample, '--output', join(tmp, 'x.png')], /does not fit input 'input': cannot fit an image to a 1-dimensional buffer/],
  ];
  for (const [args, pattern] of cases) {
    const r = cli(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, pattern);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
  }
  const bad = join(tmp, 'garbage.wasm');
  writeFileSync(bad, 'garbage');
  const r = cli('info', bad);
  assert.equal(r.code, 1);
  assert.match(r.err, /not a valid WebAssembly module: .*\[bad-module\]/);
});

test('every command has --help', () => {
  for (const args of [['--help'], ['info', '--help'], ['run', '--help']]) {
    const r = cli(...args);
    assert.equal(r.code, 0);
    assert.match(r.out, /Usage:/);
    assert.match(r.out, /Exit codes: 0 success, 1 .*, 2 usage error/);
  }
});
