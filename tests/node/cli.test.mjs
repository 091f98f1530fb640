// The halide-wasm-run command, run as users run it (a child process), on
// real fixture pipelines; its outputs are checked against the same pipeline
// run in-process on the same decoded pixels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { Pipeline } from 'halide-wasm-executor';
import { fixturesDir, wasmBytes, readArray, compare, caseNamed } from './fixtures.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'halide-wasm-run.mjs');
const sample = join(root, 'www', 'assets', 'sample.png');
const wasm = (m) => join(fixturesDir, `${m}.wasm`);
const tmp = mkdtempSync(join(tmpdir(), 'hwe-cli-'));
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }));

/** Runs the CLI as a child process with a non-TTY stderr. */
function cli(...args) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: root });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const readPng = (path, options) => pngjs.PNG.sync.read(readFileSync(path), options);
const load = (m) => Pipeline.loadSync(wasmBytes(m), { print: () => {} });
const src = readPng(sample);
const [W, H] = [src.width, src.height];
const luma = (rgba, i) => Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);

/** The photo as a JPEG made by jpeg-js, and the pixels jpeg-js decodes from it. */
const jpg = join(tmp, 'photo.jpg');
writeFileSync(jpg, jpeg.encode({ width: W, height: H, data: src.data }, 90).data);
const jpgPixels = jpeg.decode(readFileSync(jpg), { useTArray: true, formatAsRGBA: true });

test('info describes the entry point and each argument; --json for machines', () => {
  const t = cli('info', wasm('brighten_u8'));
  assert.equal(t.code, 0, t.err);
  const lines = t.out.trimEnd().split('\n');
  assert.equal(lines[0], 'entry point: brighten_u8');
  assert.equal(lines[1], 'target:      wasm-32-wasmrt');
  assert.equal(lines[2], 'arguments:   1 input, 1 scalar, 1 output');
  assert.deepEqual(lines.slice(3).map((l) => l.trim().split(/\s+/)), [
    ['NAME', 'KIND', 'TYPE', 'DIMS', 'DEFAULT', 'MIN', 'MAX'],
    ['input', 'input', 'uint8', '3', '-', '-', '-'],
    ['gain', 'scalar', 'float32', '-', '1', '0', '4'],
    ['brighten_u8', 'output', 'uint8', '3', '-', '-', '-'],
  ]);
  const j = cli('info', wasm('every_scalar'), '--json');
  assert.equal(j.code, 0, j.err);
  const d = JSON.parse(j.out);
  assert.equal(d.name, 'every_scalar');
  assert.equal(d.target, 'wasm-32-wasmrt');
  assert.deepEqual(d.arguments, JSON.parse(JSON.stringify(load('every_scalar').arguments)));
  assert.deepEqual(d.arguments.find((a) => a.name === 's_uint64'), { name: 's_uint64', kind: 'scalar', type: 'uint64', dimensions: 0 });
});

test('info --json writes 64-bit integers as strings', async () => {
  // No fixture records a 64-bit default or range: check the formatter itself.
  const { describeJson } = await import(pathToFileURL(join(root, 'cli', 'main.mjs')));
  const p = { name: 'f', target: 't', arguments: [{ name: 'n', kind: 'scalar', type: 'int64', dimensions: 0, default: -5n, min: -(2n ** 63n), max: 2n ** 62n }] };
  assert.deepEqual(JSON.parse(describeJson(p)).arguments[0], { name: 'n', kind: 'scalar', type: 'int64', dimensions: 0, default: '-5', min: '-9223372036854775808', max: '4611686018427387904' });
});

test('run fits a PNG to a planar RGB pipeline and writes what the pipeline computes', () => {
  const out = join(tmp, 'bright.png');
  const r = cli('run', wasm('brighten_u8'), '--input', sample, '--output', out, '--arg', 'gain=1.5');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^brighten_u8: .*sample\.png \(PNG 451x300, planar RGB \[w, h, 3\]\) -> .*bright\.png \(PNG\) in \d+\.\d+ ms\n$/);
  const planar = new Uint8Array(W * H * 3);
  for (let i = 0; i < W * H; i++) for (let c = 0; c < 3; c++) planar[c * W * H + i] = src.data[4 * i + c];
  const expected = new Uint8Array(W * H * 3);
  load('brighten_u8').run({ input: { data: planar, shape: [W, H, 3] }, gain: 1.5, brighten_u8: { data: expected, shape: [W, H, 3] } });
  const got = readPng(out);
  assert.deepEqual([got.width, got.height], [W, H]);
  for (let i = 0; i < W * H; i++) {
    for (let c = 0; c < 3; c++) assert.equal(got.data[4 * i + c], expected[c * W * H + i], `pixel ${i} channel ${c}`);
    assert.equal(got.data[4 * i + 3], 255);
  }
});

test('run gives an RGBA pipeline interleaved buffers', () => {
  const out = join(tmp, 'inv.png');
  const r = cli('run', wasm('invert_rgba'), '--input', sample, '--output', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /interleaved RGBA \[w, h, 4\]/);
  const shape = [W, H, 4];
  const strides = [4, 4 * W, 1];
  const expected = new Uint8Array(W * H * 4);
  load('invert_rgba').run({ input: { data: new Uint8Array(src.data), shape, strides }, invert_rgba: { data: expected, shape, strides } });
  assert.deepEqual(new Uint8Array(readPng(out).data), expected);
});

test('run reads a JPEG by its content, whatever its name, and writes JPEG for .jpg', () => {
  const disguised = join(tmp, 'photo-really-a-jpeg.png');
  copyFileSync(jpg, disguised);
  const out = join(tmp, 'sharp.png');
  const r = cli('run', wasm('demo_sharpen'), '--input', disguised, '--output', out, '--arg', 'amount=2');
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /\(JPEG 451x300, interleaved RGBA/);
  const shape = [W, H, 4];
  const strides = [4, 4 * W, 1];
  const expected = new Uint8Array(W * H * 4);
  load('demo_sharpen').run({ input: { data: jpgPixels.data, shape, strides }, amount: 2, demo_sharpen: { data: expected, shape, strides } });
  assert.deepEqual(new Uint8Array(readPng(out).data), expected);

  const outJpg = join(tmp, 'sharp.JPEG');
  assert.equal(cli('run', wasm('demo_sharpen'), '--input', disguised, '--output', outJpg).code, 0);
  const bytes = readFileSync(outJpg);
  assert.deepEqual([...bytes.subarray(0, 3)], [0xff, 0xd8, 0xff]);
  const back = jpeg.decode(bytes, { useTArray: true });
  assert.deepEqual([back.width, back.height], [W, H]);
});

test('run converts to gray 16-bit for a 2-D uint16 pipeline and keeps 16 bits in the PNG', () => {
  const out = join(tmp, 'blur16.png');
  const r = cli('run', wasm('blur3x3_u16'), '--input', sample, '--output', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /gray \[w, h\]\) -> .* \(PNG, 16-bit\)/);
  const gray = new Uint16Array(W * H).map((_, i) => luma(src.data, i) * 257);
  const expected = new Uint16Array(W * H);
  load('blur3x3_u16').run({ input: { data: gray, shape: [W, H] }, blur3x3_u16: { data: expected, shape: [W, H] } });
  const got = readPng(out, { skipRescale: true });
  assert.ok(got.data instanceof Uint16Array, '16-bit samples');
  for (let i = 0; i < W * H; i++) assert.equal(got.data[4 * i], expected[i], `pixel ${i}`);
});

test('run on a raw buffer writes the raw output and says its type and shape', () => {
  const c = caseNamed('math_f32');
  const [w, h] = c.args.input.shape;
  const input = join(fixturesDir, c.args.input.file);
  const out = join(tmp, 'math.bin');
  const r = cli('run', wasm('math_f32'), '--input-raw', input, '--shape', `${w},${h}`, '--type', 'float32', '--output', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^math_f32: .*math_f32\.input\.bin \(float32 37x23\) -> .*math\.bin \(float32 37x23, 3404 bytes\) in \d+\.\d+ ms\n$/);
  const got = new Float32Array(new Uint8Array(readFileSync(out)).buffer);
  const expected = new Float32Array(w * h);
  load('math_f32').run({ input: { data: readArray('float32', c.args.input.file), shape: [w, h] }, math_f32: { data: expected, shape: [w, h] } });
  assert.deepEqual(got, expected);

  const b = caseNamed('blur3x3_u16');
  const out16 = join(tmp, 'blur.bin');
  const r16 = cli('run', wasm('blur3x3_u16'), '--input-raw', join(fixturesDir, b.args.input.file), '--shape', '37x23', '--output', out16);
  assert.equal(r16.code, 0, r16.err);
  assert.match(r16.out, /\(uint16 37x23, 1702 bytes\)/);
  assert.equal(compare('uint16', new Uint16Array(new Uint8Array(readFileSync(out16)).buffer), readArray('uint16', b.args.blur3x3_u16.file)), null);
});

test('run --threads N runs a threaded pipeline on N threads, equal to native Halide', () => {
  // bilateral_grid_threads: Halide's bilateral_grid app built with wasm_threads.
  const c = caseNamed('bilateral_grid_threads');
  const { input, r_sigma: sigma, bilateral_grid: output } = c.args;
  const [w, h] = input.shape;
  const want = readArray('float32', output.file);
  for (const threads of ['1', '2']) {
    const out = join(tmp, `grid-${threads}.bin`);
    const r = spawnSync(process.execPath, [bin, 'run', wasm('bilateral_grid_threads'), '--threads', threads, '--input-raw', join(fixturesDir, input.file), '--shape', `${w},${h}`, '--arg', `r_sigma=${sigma.value}`, '--output', out], { encoding: 'utf8', cwd: root, timeout: 60_000 });
    assert.equal(r.error, undefined, `--threads ${threads}: the process ended on its own (its workers keep no process alive)`);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^bilateral_grid_threads: .*bilateral_grid\.input\.bin \(float32 256x192\) -> .*grid-\d\.bin \(float32 256x192, 196608 bytes\) in \d+\.\d+ ms\n$/);
    const got = new Float32Array(new Uint8Array(readFileSync(out)).buffer);
    assert.equal(compare('float32', got, want, c.tolerance), null, `--threads ${threads}`);
  }
  // A serial pipeline takes --threads too (and runs on one thread).
  const b = caseNamed('blur3x3_u16');
  const out16 = join(tmp, 'blur-threads.bin');
  const r16 = cli('run', wasm('blur3x3_u16'), '--threads', '2', '--input-raw', join(fixturesDir, b.args.input.file), '--shape', '37x23', '--output', out16);
  assert.equal(r16.code, 0, r16.err);
  assert.equal(compare('uint16', new Uint16Array(new Uint8Array(readFileSync(out16)).buffer), readArray('uint16', b.args.blur3x3_u16.file)), null);
});

test('a batch goes on past a bad image, names it, and exits 1', () => {
  const bad = join(tmp, 'corrupt.png');
  writeFileSync(bad, readFileSync(sample).subarray(0, 2000)); // a PNG cut short
  const dir = join(tmp, 'batch');
  const r = cli('run', wasm('demo_invert'), '--output-dir', dir, sample, bad, jpg, '--arg', 'mix=0.5');
  assert.equal(r.code, 1, r.err);
  // Not a terminal: plain lines, no progress bar.
  assert.match(r.out, /^\[1\/3\] .*sample\.png -> .*sample\.png \(451x300\) in [\d.]+ ms$/m);
  assert.match(r.out, /^\[3\/3\] .*photo\.jpg -> .*photo\.png \(451x300\) in [\d.]+ ms$/m);
  assert.match(r.out, /demo_invert: 2 of 3 images written to .*batch in [\d.]+ s/);
  assert.match(r.err, /^\[2\/3\] .*corrupt\.png: FAILED: cannot decode .*corrupt\.png: not a valid PNG image/m);
  assert.match(r.err, /1 of 3 images failed:\n {2}.*corrupt\.png: cannot decode/);
  assert.doesNotMatch(r.err, /█|░/);
  assert.ok(!existsSync(join(dir, 'corrupt.png')));
  // The batch's outputs are those of single runs.
  for (const [input, name] of [[sample, 'sample'], [jpg, 'photo']]) {
    const single = join(tmp, `single-${name}.png`);
    assert.equal(cli('run', wasm('demo_invert'), '-i', input, '-o', single, '-a', 'mix=0.5').code, 0);
    assert.deepEqual(readPng(join(dir, `${name}.png`)).data, readPng(single).data);
  }
});

test('a batch whose arguments are wrong stops before the first image', () => {
  const dir = join(tmp, 'batch-bad');
  const r = cli('run', wasm('demo_invert'), '--output-dir', dir, sample, jpg, '--arg', 'mix=3');
  assert.equal(r.code, 2);
  assert.match(r.err, /argument 'mix': 3 is above the pipeline's maximum 1/);
  assert.ok(!existsSync(join(dir, 'sample.png')));
});

test('user errors are clear messages with exit code 2; failures exit 1; no stack traces', () => {
  const x = join(tmp, 'x.png');
  const tiny = join(tmp, 'tiny.bin');
  writeFileSync(tiny, new Uint8Array(16));
  const garbage = join(tmp, 'garbage.wasm');
  writeFileSync(garbage, 'garbage');
  const notImage = join(tmp, 'notes.png');
  writeFileSync(notImage, 'just text');
  const run = (m, ...rest) => ['run', wasm(m), ...rest];
  const cases = [
    // Scalars.
    [run('brighten_u8', '-i', sample, '-o', x, '--arg', 'gain=9'), 2, /argument 'gain': 9 is above the pipeline's maximum 4/],
    [run('brighten_u8', '-i', sample, '-o', x, '--arg', 'gain=-1'), 2, /argument 'gain': -1 is below the pipeline's minimum 0/],
    [run('brighten_u8', '-i', sample, '-o', x, '--arg', 'gane=1'), 2, /unknown scalar argument 'gane'; brighten_u8 takes: gain/],
    [run('brighten_u8', '-i', sample, '-o', x, '--arg', 'input=1'), 2, /'input' is an input buffer, not a scalar/],
    [run('brighten_u8', '-i', sample, '-o', x, '--arg', 'gain=abc'), 2, /--arg gain: expected a number, got 'abc'/],
    [run('brighten_u8', '-i', sample, '-o', x, '--arg', 'gain'), 2, /--arg expects NAME=VALUE, got 'gain'/],
    [run('demo_invert', '-i', sample, '-o', x, '--arg', 'invert_alpha=maybe'), 2, /--arg invert_alpha: expected true or false, got 'maybe'/],
    [run('require', '--input-raw', tiny, '--shape', '4', '-o', x, '--arg', 'limit=1.5'), 2, /--arg limit: expected an integer, got '1.5'/],
    // Files.
    [run('brighten_u8', '-i', join(tmp, 'missing.png'), '-o', x), 2, /cannot read image .*missing\.png: no such file/],
    [['info', join(tmp, 'missing.wasm')], 2, /cannot read pipeline .*missing\.wasm: no such file/],
    [run('brighten_u8', '-i', notImage, '-o', x), 2, /cannot decode .*notes\.png: not a PNG or JPEG image/],
    [run('brighten_u8', '-i', sample, '-o', tmp), 2, /cannot write .*: it is a directory/],
    // Options and commands.
    [run('brighten_u8', '-i', sample), 2, /run needs --output FILE/],
    [run('brighten_u8', '-o', x), 2, /run needs --input IMAGE/],
    [run('brighten_u8', '-i', sample, '-o', x, '--bogus'), 2, /run: unknown option '--bogus' \(see 'halide-wasm-run run --help'\)/],
    [['info', wasm('brighten_u8'), '--input', sample], 2, /info: unknown option '--input'/],
    [run('brighten_u8', '-i', sample, '--input-raw', tiny, '-o', x), 2, /--input and --input-raw cannot be used together/],
    [run('brighten_u8', '-i', sample, '-o', x, '--shape', '4,4'), 2, /--shape needs --input-raw/],
    [run('brighten_u8', '-i', sample, '-o', x, '--threads', '0'), 2, /--threads expects a positive integer \(how many threads run a threaded pipeline\), got '0'/],
    [run('brighten_u8', '-i', sample, '-o', x, '--threads', 'two'), 2, /--threads expects a positive integer .*got 'two'/],
    [run('brighten_u8', '-i', sample, '-o', x, '--threads', '1.5'), 2, /--threads expects a positive integer .*got '1\.5'/],
    [run('brighten_u8', '-i', sample, '-o', x, '--threads=-2'), 2, /--threads expects a positive integer .*got '-2'/],
    [run('brighten_u8', '-i', sample, '-o', x, '--threads'), 2, /run: Option '--threads <value>' argument missing/],
    [run('bilateral_grid_threads', '-i', sample, '-o', x, '--threads', '300'), 2, /threads.*expected a whole number from 1 to 256/],
    [run('brighten_u8', sample), 2, /make a batch, which needs --output-dir DIR/],
    [['frobnicate'], 2, /unknown command 'frobnicate'/],
    [[], 2, /no command given/],
    [['info'], 2, /info needs a PIPELINE\.wasm/],
    [['info', wasm('brighten_u8'), '--entry', 'nope'], 2, /the module has no pipeline 'nope'; it has: brighten_u8/],
    // Images and buffers that do not fit.
    [run('every_scalar', '-i', sample, '-o', x), 2, /input 'input' holds int64 elements, which no image fits; use --input-raw/],
    [run('reductions', '-i', sample, '-o', x), 2, /output 'total' is 0-D, not an image; use --input-raw/],
    [run('mins', '-i', sample, '-o', x), 2, /the 451x300 image does not fit mins: Input buffer input is accessed at 451, which is beyond the max \(450\)/],
    [run('blur3x3_u16', '--input-raw', tiny, '--shape', '4,2', '-o', x), 2, /a uint16 buffer of shape 4x2 does not fit blur3x3_u16: Output buffer blur3x3_u16 is accessed at/],
    [run('blur3x3_u16', '--input-raw', tiny, '--shape', '4,3', '-o', x), 2, /tiny\.bin has 16 bytes; 4x3 uint16 elements take 24/],
    [run('blur3x3_u16', '--input-raw', tiny, '--shape', '8', '-o', x), 2, /--shape 8 has 1 extents; input 'input' is 2-D/],
    [run('blur3x3_u16', '--input-raw', tiny, '--shape', '4,2', '--type', 'float32', '-o', x), 2, /--type float32 does not match input 'input', which holds uint16/],
    [run('blur3x3_u16', '--input-raw', tiny, '--shape', '4,2', '--type', 'float', '-o', x), 2, /--type: unknown element type 'float'/],
    // Failures of the pipeline or the module: exit 1.
    [['info', garbage], 1, /garbage\.wasm: .*not a valid WebAssembly module.*\[bad-module\]/],
    [run('require', '--input-raw', join(fixturesDir, caseNamed('require_fails').args.input.file), '--shape', '8', '-o', join(tmp, 'r.bin'), '--arg', 'limit=500'), 1, /require: Requirement Failed.*\[abort\]/],
  ];
  for (const [args, code, pattern] of cases) {
    const r = cli(...args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, pattern, args.join(' '));
    assert.match(r.err, /^halide-wasm-run: /);
    assert.doesNotMatch(r.err, /\n\s+at /, 'no stack trace');
    assert.equal(r.out, '', 'nothing on stdout');
  }
});

test('every command has --help, with the exit codes; --help wins over other options', () => {
  for (const [args, usage] of [
    [['--help'], /^Usage: halide-wasm-run <command>/],
    [['-h'], /^Usage: halide-wasm-run <command>/],
    [['info', '--help'], /^Usage: halide-wasm-run info PIPELINE\.wasm/],
    [['run', '--help'], /^Usage:\n {2}halide-wasm-run run PIPELINE\.wasm --input/],
    [['run', wasm('brighten_u8'), '--bogus', '-h'], /^Usage:\n {2}halide-wasm-run run/],
  ]) {
    const r = cli(...args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.out, usage);
    assert.match(r.out, /Exit codes:\n {2}0 {2}success\n {2}1 {2}the pipeline failed[^]*\n {2}2 {2}usage error/);
    assert.equal(r.err, '');
  }
  assert.match(cli('run', '--help').out, /--input-raw FILE[^]*--shape W,H[^]*--type TYPE[^]*--output-dir DIR[^]*--arg NAME=VALUE[^]*--threads N/);
});

test('cli() returns the exit code, as npm start uses it', () => {
  // scripts/start.mjs: `if (!cli(['info', p])) cli(['run', p, '--input', …, '--output', …, '--arg', …])`.
  const out = join(tmp, 'start.png');
  const script = `
    import { cli } from ${JSON.stringify(pathToFileURL(join(root, 'cli', 'main.mjs')).href)};
    const codes = [cli(['info', ${JSON.stringify(wasm('demo_local_contrast'))}])];
    codes.push(cli(['run', ${JSON.stringify(wasm('demo_local_contrast'))}, '--input', ${JSON.stringify(sample)}, '--output', ${JSON.stringify(out)}, '--arg', 'strength=2']));
    codes.push(cli(['run', ${JSON.stringify(wasm('demo_local_contrast'))}, '--arg', 'strength=2']));
    process.exitCode = 0;
    console.log(JSON.stringify(codes));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', cwd: root });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout.trim().split('\n').at(-1)), [0, 0, 2]);
  assert.ok(existsSync(out));
});
