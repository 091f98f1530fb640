// The public API's contracts on real fixture pipelines: wrong input is a
// HalideError that names what was wrong and changes nothing, errors carry
// Halide's text, callbacks (print, error, trace, externs) see what they
// should, a Pipeline survives failures, and resources stay bounded.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, HalideError } from 'halide-wasm-executor';
import { wasmBytes, prepare, caseNamed, compare, optionsFor } from './fixtures.mjs';

const quiet = { print: () => {} };
const load = (module, extra = {}) => Pipeline.loadSync(wasmBytes(module), { ...quiet, ...extra });

function rejects(fn, code, pattern) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof HalideError, `not a HalideError: ${e}`);
    assert.equal(e.name, 'HalideError');
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

function brighten() {
  const c = caseNamed('brighten_u8');
  return { p: load(c.module), c, ...prepare(c) };
}

test('arguments come from the module metadata', () => {
  const { p } = brighten();
  assert.equal(p.name, 'brighten_u8');
  assert.equal(p.target, 'wasm-32-wasmrt');
  assert.deepEqual(p.arguments, [
    { name: 'input', kind: 'input', type: 'uint8', dimensions: 3 },
    { name: 'gain', kind: 'scalar', type: 'float32', dimensions: 0, default: 1, min: 0, max: 4 },
    { name: 'brighten_u8', kind: 'output', type: 'uint8', dimensions: 3 },
  ]);
  p.arguments[0].name = 'changed';
  assert.equal(p.arguments[0].name, 'input', 'arguments is a copy');
  const every = load('every_scalar');
  assert.deepEqual(
    every.arguments.filter((a) => a.kind === 'scalar').map((a) => a.type),
    ['int8', 'int16', 'int32', 'int64', 'uint8', 'uint16', 'uint32', 'uint64', 'float32', 'float64', 'bool'],
  );
});

test('wrong arguments are named before the pipeline runs, and change nothing', () => {
  const { p, args, outputs } = brighten();
  const out = outputs[0].data;
  out.fill(7);
  const w = args.input.shape[0];
  const cases = [
    [{ ...args, extra: 1 }, /unknown argument 'extra'; brighten_u8 takes: input, gain, brighten_u8/],
    [{ ...args, input: undefined }, /argument 'input': missing input buffer \(uint8 3-dimensional\)/],
    [{ ...args, gain: 'x' }, /argument 'gain': expected a number, bigint or boolean, got string/],
    [{ ...args, gain: 9 }, /argument 'gain': 9 is above the pipeline's maximum 4/],
    [{ ...args, gain: NaN }, /argument 'gain': NaN is below the pipeline's minimum 0/],
    [{ ...args, input: { ...args.input, data: new Float32Array(10) } }, /data must be a Uint8Array or Uint8ClampedArray for a uint8 buffer, got Float32Array/],
    [{ ...args, input: { ...args.input, shape: [w, 2] } }, /expected a 3-dimensional buffer, got shape of length 2/],
    [{ ...args, input: { ...args.input, shape: [w + 1, 1000, 3] } }, /reaches \d+ elements, but data has only \d+/],
    [{ ...args, input: { ...args.input, shape: [-1, 2, 3] } }, /shape\[0\] = -1 is not an integer/],
    [{ ...args, input: { ...args.input, strides: [1, 1e12, 1] } }, /strides\[1\]/],
    [{ ...args, input: args.input.data }, /expected a buffer object/],
    [null, /run\(\) takes an object of arguments by name, got null/],
  ];
  for (const [bad, pattern] of cases) {
    rejects(() => p.run(bad), 'bad-argument', pattern);
    assert.ok(out.every((v) => v === 7), 'outputs untouched');
  }
  // Still usable, and correct.
  p.run(args);
  assert.equal(compare('uint8', out, caseNamed('brighten_u8').args.brighten_u8 && prepare(caseNamed('brighten_u8')).outputs[0].expected), null);
});

test('a detached ArrayBuffer is refused, not read', () => {
  const { p, args } = brighten();
  const data = args.input.data.slice();
  structuredClone(data.buffer, { transfer: [data.buffer] });
  rejects(() => p.run({ ...args, input: { ...args.input, data } }), 'bad-argument', /data has only 0/);
  // An empty buffer over a detached ArrayBuffer reads nothing and is fine to Halide's bounds checks.
  assert.throws(() => p.run({ ...args, input: { data, shape: [0, 0, 3] } }), (e) => e instanceof HalideError);
});

test('64-bit scalars travel as bigint without loss', () => {
  const c = caseNamed('every_scalar');
  const p = load(c.module);
  const { args, outputs } = prepare(c);
  p.run(args);
  for (const o of outputs) assert.equal(compare(o.type, o.data, o.expected), null);
  assert.equal(typeof outputs[0].data[0], 'bigint');
  rejects(() => p.run({ ...args, s_uint64: -1n }), 'bad-argument', /-1 is out of the range of uint64/);
  rejects(() => p.run({ ...args, s_int64: 2n ** 63n }), 'bad-argument', /out of the range of int64/);
  rejects(() => p.run({ ...args, s_bool: 1 }), 'bad-argument', /true or false/);
});

test("an abort carries Halide's text; outputs stay; the next run works", () => {
  const bad = caseNamed('require_fails');
  const good = caseNamed('require_ok');
  const seen = [];
  const p = load(bad.module, { error: (t) => seen.push(t) });
  const b = prepare(bad);
  b.outputs[0].data.fill(-5);
  rejects(() => p.run(b.args), 'abort', /^require: Requirement Failed: \(false\) 500 500$/);
  assert.ok(b.outputs[0].data.every((v) => v === -5));
  assert.equal(seen.length, 1);
  assert.match(seen[0], /Requirement Failed/);
  assert.throws(() => p.run(b.args), (e) => e.halideCode === -27, "Halide's code is read back from the text");
  for (let i = 0; i < 3; i++) {
    const g = prepare(good);
    p.run(g.args);
    assert.equal(compare('int32', g.outputs[0].data, g.outputs[0].expected), null);
  }
});

test('print receives what the pipeline prints; env is the only environment', () => {
  const c = caseNamed('too_small');
  const printed = [];
  const p = Pipeline.loadSync(wasmBytes(c.module), { print: (t) => printed.push(t), env: { HL_DEBUG: '0' } });
  assert.throws(() => p.run(prepare(c).args));
  assert.deepEqual(printed, ['Error: Input buffer input is accessed at 12, which is beyond the max (7) in dimension 0\n']);
  assert.throws(() => p.run(prepare(c).args), (e) => e.code === 'abort' && e.halideCode === -4);
});

test('bad modules and options are clear errors', () => {
  rejects(() => Pipeline.loadSync(new Uint8Array([0, 97, 115, 109, 1, 0, 0])), 'bad-module', /not a valid WebAssembly module/);
  rejects(() => Pipeline.loadSync('brighten.wasm'), 'bad-argument', /loadSync takes the module's bytes or a WebAssembly.Module; use load\(\) for a URL, Blob, Response or promise/);
  rejects(() => Pipeline.loadSync(42), 'bad-argument', /expected the module as a URL \(or URL string\), Blob, Uint8Array \(or any ArrayBufferView\), ArrayBuffer, WebAssembly.Module or Response, got number/);
  rejects(() => load('brighten_u8', { entry: 'nope' }), 'bad-argument', /no pipeline 'nope'; it has: brighten_u8/);
  rejects(() => load('brighten_u8', { prnt: 1 }), 'bad-argument', /unknown option 'prnt'/);
  rejects(() => load('brighten_u8', { print: 3 }), 'bad-argument', /option 'print': expected a function/);
  rejects(() => load('extern_stage'), 'bad-module', /imports env.ext_sum_next \(function\) which the executor does not provide/);
  rejects(() => load('brighten_u8', { externs: { nope: () => 0 } }), 'bad-argument', /imports no function 'nope'/);
  const wat = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0]); // an empty module
  rejects(() => Pipeline.loadSync(wat), 'bad-module', /exports no Halide pipeline/);
});

/**
 * A module of `imports` ([module, name, kind: 0 function / 2 memory]) and an
 * empty function exported as `f_argv` and `f_metadata` (so that it looks
 * like a pipeline), assembled byte by byte.
 */
function importsOnly(imports) {
  const enc = new TextEncoder();
  const str = (s) => { const b = enc.encode(s); return [b.length, ...b]; };
  const body = [imports.length];
  for (const [m, n, kind] of imports) body.push(...str(m), ...str(n), kind, ...(kind === 0 ? [0] : [0, 1]));
  const own = imports.filter(([, , kind]) => kind === 0).length; // the function's index
  const section = (id, bytes) => [id, bytes.length, ...bytes];
  return new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0,
    ...section(1, [1, 0x60, 0, 0]), ...section(2, body), ...section(3, [1, 0]),
    ...section(7, [2, ...str('f_argv'), 0, own, ...str('f_metadata'), 0, own]),
    ...section(10, [1, 2, 0, 0x0b])]);
}

test('unknown imports are named, whatever their names hold', () => {
  const many = importsOnly([['env', 'malloc', 0], ['env', 'sinf', 0], ['env', 'frobnicate', 0], ['other', 'free', 0], ['env', 'mem', 2]]);
  rejects(() => Pipeline.loadSync(many), 'bad-module',
    /imports env\.frobnicate \(function\), other\.free \(function\), env\.mem \(memory\) which the executor does not provide/);
  // A NUL inside a name (wasm allows it) takes the descriptor-by-descriptor way.
  const nul = importsOnly([['env', 'malloc', 0], ['env', 'a\0b', 0]]);
  rejects(() => Pipeline.loadSync(nul), 'bad-module', /imports env\.a\0b \(function\) which the executor does not provide/);
});

test('load accepts Uint8Array, ArrayBuffer, WebAssembly.Module and promises', async () => {
  const bytes = wasmBytes('brighten_u8');
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  for (const src of [bytes, ab, new WebAssembly.Module(bytes), Promise.resolve(bytes)]) {
    const p = await Pipeline.load(src);
    assert.equal(p.name, 'brighten_u8');
  }
  assert.equal(Pipeline.loadSync(new WebAssembly.Module(bytes)).name, 'brighten_u8');
  await assert.rejects(Pipeline.load(new Uint8Array(3)), (e) => e instanceof HalideError && e.code === 'bad-module');
});

test('extern stages: bounds query round trip, thrown errors keep their cause', () => {
  const c = caseNamed('extern_stage');
  const calls = [];
  const p = load(c.module, optionsFor(c));
  const { args, outputs } = prepare(c);
  p.run(args);
  assert.equal(compare('int32', outputs[0].data, outputs[0].expected), null);
  const spy = load(c.module, {
    externs: {
      ext_sum_next(pre, out) {
        calls.push({ query: pre.data === null, type: pre.type, mins: [...pre.mins], shape: [...pre.shape] });
        return optionsFor(c).externs.ext_sum_next(pre, out);
      },
    },
  });
  spy.run(prepare(c).args);
  assert.ok(calls.some((k) => k.query), 'a bounds query happened');
  assert.deepEqual(calls.at(-1), { query: false, type: 'int32', mins: [0], shape: [41] });
  const boom = new TypeError('boom');
  const thrower = load(c.module, { externs: { ext_sum_next: () => { throw boom; } } });
  assert.throws(() => thrower.run(prepare(c).args), (e) => e instanceof HalideError && e.code === 'callback' && e.cause === boom && /extern 'ext_sum_next' threw: boom/.test(e.message));
  const failing = load(c.module, { externs: { ext_sum_next: (pre) => (pre.data === null ? 0 : -7) } });
  const f = prepare(c);
  assert.throws(() => failing.run(f.args), (e) => e instanceof HalideError);
  assert.ok(f.outputs[0].data.every((v) => v === 0), 'outputs untouched');
  p.run(prepare(c).args); // the first pipeline is unaffected
});

test('a callback that detaches an output array: a clear error, and the pipeline still runs', () => {
  const c = caseNamed('extern_stage');
  const good = optionsFor(c).externs.ext_sum_next;
  let victim = null;
  const p = load(c.module, {
    externs: {
      ext_sum_next(pre, out) {
        if (victim) structuredClone(victim.buffer, { transfer: [victim.buffer] });
        victim = null;
        return good(pre, out);
      },
    },
  });
  const f = prepare(c);
  victim = f.outputs[0].data;
  rejects(() => p.run(f.args), 'bad-argument', /output's data could not be written back .*detached or transferred during the run/);
  const g = prepare(c);
  p.run(g.args);
  assert.equal(compare('int32', g.outputs[0].data, g.outputs[0].expected), null);
});

test('a second output detached before the copy back: neither output is written', () => {
  const c = caseNamed('two_outputs');
  const p = load(c.module);
  const { args, outputs } = prepare(c);
  for (const o of outputs) o.data.fill(7);
  const lastName = outputs.at(-1).name;
  const last = outputs.at(-1).data;
  // The last output's `mins` getter runs after its data was read (each
  // buffer's data first): it detaches that output, so only the copy back
  // can notice.
  const trap = {
    ...args,
    [lastName]: {
      ...args[lastName],
      get mins() {
        if (last.buffer.byteLength) structuredClone(last.buffer, { transfer: [last.buffer] });
        return undefined;
      },
    },
  };
  rejects(() => p.run(trap), 'bad-argument', /output's data could not be written back/);
  for (const o of outputs.slice(0, -1)) assert.ok(o.data.every((v) => v === 7), `${o.name} untouched`);
  const again = prepare(c);
  p.run(again.args);
  for (const o of again.outputs) assert.equal(compare(o.type, o.data, o.expected, c.tolerance), null, o.name);
});

test('an input detached after run() read it: a clear error, and nothing lost', () => {
  const p = load('bench_tiny');
  const kept = p.allocBuffer('int32', [4]);
  kept.data.set([1, 2, 3, 4]);
  const input = Int32Array.from({ length: 16 }, (_, i) => i);
  const out = new Int32Array(16).fill(-1);
  // The output's getter runs after the input was read, and detaches it.
  const args = {
    input: { data: input, shape: [4, 4] },
    k: 3,
    get bench_tiny() {
      structuredClone(input.buffer, { transfer: [input.buffer] });
      return { data: out, shape: [4, 4] };
    },
  };
  rejects(() => p.run(args), 'bad-argument', /input's data could not be read .*detached or transferred after run\(\) read it/);
  assert.ok(out.every((v) => v === -1), 'output untouched');
  assert.deepEqual([...kept.data], [1, 2, 3, 4], 'allocBuffer data kept: the instance was not restarted');
  const fresh = Int32Array.from({ length: 16 }, (_, i) => i);
  p.run({ input: { data: fresh, shape: [4, 4] }, k: 3, bench_tiny: { data: out, shape: [4, 4] } });
  assert.deepEqual([...out], [...fresh].map((v) => v + 3));
});

test('a callback that runs the same pipeline again is refused', () => {
  const c = caseNamed('extern_stage');
  let p;
  p = load(c.module, { externs: { ext_sum_next: () => { p.run(prepare(c).args); return 0; } } });
  assert.throws(() => p.run(prepare(c).args), (e) => e instanceof HalideError && /run\(\) was called from inside a callback/.test(e.message + (e.cause?.message ?? '')));
  assert.equal(p.stats().runs >= 1, true);
});

test('zero-copy buffers from allocBuffer', () => {
  const c = caseNamed('bench_tiny');
  const p = load(c.module);
  const { args, outputs } = prepare(c);
  const input = p.allocBuffer('int32', [4, 4]);
  const output = p.allocBuffer('int32', [4, 4]);
  input.data.set(args.input.data);
  p.run({ input, k: args.k, bench_tiny: output });
  assert.deepEqual([...output.data], [...outputs[0].expected]);
  assert.equal(p.stats().liveAllocations, 2);
  p.freeBuffer(input);
  p.freeBuffer(output);
  assert.equal(p.stats().liveAllocations, 0);
  rejects(() => p.freeBuffer(input), 'bad-argument', /not a live buffer/);
  rejects(() => p.allocBuffer('int33', [2]), 'bad-argument', /unknown type 'int33'/);
});

test("an argument's getter may call back into the same pipeline", () => {
  const c = caseNamed('bench_tiny');
  const p = load(c.module);
  const { args, outputs } = prepare(c);
  let made;
  const tricky = { ...args };
  Object.defineProperty(tricky, 'k', {
    enumerable: true,
    get() {
      made = p.allocBuffer('int32', [2]);
      return args.k;
    },
  });
  p.run(tricky);
  assert.equal(compare('int32', outputs[0].data, outputs[0].expected), null);
  assert.equal(p.stats().liveAllocations, 1);
  p.freeBuffer(made);
  p.run(args);
});

test('allocBuffer views stay right when the memory grows', () => {
  const p = load('big_memory');
  const b = p.allocBuffer('float32', [4096]);
  b.data.fill(1);
  const before = p.stats().memoryBytes;
  const { args } = prepare(caseNamed('big_memory'));
  p.run(args); // grows the memory past 64 MiB
  assert.ok(p.stats().memoryBytes > before + 64 * 2 ** 20);
  assert.equal(b.data.length, 4096);
  assert.ok(b.data.every((v) => v === 1));
});

test('maxMemoryBytes is enforced with Halide\'s out-of-memory error', () => {
  const c = caseNamed('big_memory');
  const p = load(c.module, { maxMemoryBytes: 32 * 2 ** 20 });
  const { args, outputs } = prepare(c);
  assert.throws(() => p.run(args), (e) => e instanceof HalideError && /memory|allocat/i.test(e.message));
  assert.ok(outputs[0].data.every((v) => v === 0));
  assert.ok(p.stats().memoryBytes <= 32 * 2 ** 20);
  const ok = load(c.module, { maxMemoryBytes: 256 * 2 ** 20 });
  ok.run(args);
  assert.equal(compare('float32', outputs[0].data, outputs[0].expected), null);
});

test('trace events from an ahead-of-time pipeline reach options.trace', () => {
  const c = caseNamed('traced');
  const events = [];
  const p = load(c.module, { trace: (e) => { events.push(e); return events.length; } });
  const { args, outputs } = prepare(c);
  p.run(args);
  assert.equal(compare('float32', outputs[0].data, outputs[0].expected), null);
  const names = events.map((e) => e.event);
  assert.equal(names[0], 'begin_pipeline');
  assert.equal(names.at(-1), 'end_pipeline');
  assert.ok(names.includes('begin_realization') && names.includes('end_realization'));
  const stores = (f) => events.filter((e) => e.event === 'store' && e.func === f);
  assert.deepEqual(stores('doubled').map((e) => [e.coordinates[0], e.value]), [0, 1, 2, 3, 4, 5].map((x) => [x, 2 * x]));
  assert.deepEqual(stores('traced').map((e) => [e.coordinates[0], e.value]), [0, 1, 2, 3, 4, 5].map((x) => [x, 2 * x + 1]));
  assert.ok(stores('traced').every((e) => e.type === 'float32' && typeof e.parentId === 'number'));
  // Without a trace option the events are dropped quietly.
  const printed = [];
  const q = load(c.module, { print: (t) => printed.push(t) });
  q.run(prepare(c).args);
  assert.deepEqual(printed, []);
  // A trace callback that throws ends the run with its error as the cause.
  const boom = new Error('trace boom');
  let throws = true;
  const r = load(c.module, { trace: () => { if (throws) throw boom; return 0; } });
  const f = prepare(c);
  assert.throws(() => r.run(f.args), (e) => e instanceof HalideError && e.code === 'callback' && e.cause === boom);
  assert.ok(f.outputs[0].data.every((v) => v === 0));
  throws = false;
  r.run(f.args);
  assert.equal(compare('float32', f.outputs[0].data, f.outputs[0].expected), null);
});

test('10,000 runs keep memory and heap flat, failures included; dispose ends it', () => {
  const c = caseNamed('bench_tiny');
  const p = load(c.module);
  const { args } = prepare(c);
  for (let i = 0; i < 50; i++) p.run(args);
  const settled = p.stats();
  for (let i = 0; i < 10000; i++) {
    if (i % 100 === 0) assert.throws(() => p.run({ ...args, k: 'bad' }));
    else p.run(args);
  }
  const after = p.stats();
  assert.equal(after.memoryBytes, settled.memoryBytes);
  assert.equal(after.heapInUseBytes, settled.heapInUseBytes);
  assert.equal(after.liveAllocations, settled.liveAllocations);
  assert.equal(after.runs, settled.runs + 9900);
  p.dispose();
  rejects(() => p.run(args), 'disposed', /disposed/);
  rejects(() => p.allocBuffer('int32', [1]), 'disposed', /disposed/);
  rejects(() => p.stats(), 'disposed', /disposed/);
  assert.equal(p.name, 'bench_tiny', 'its description stays readable');
});

test('disposed and dropped pipelines free their instance and import closures', async () => {
  const { createRequire } = await import('node:module');
  const { spawnSync } = await import('node:child_process');
  const { liveInstances } = createRequire(import.meta.url)('../../lib/executor-node.cjs');
  const base = liveInstances();
  const p = load('bench_tiny');
  assert.equal(liveInstances(), base + 1);
  p.dispose();
  assert.equal(liveInstances(), base);
  // Dropped without dispose: the garbage collector frees them (wasm-bindgen's
  // FinalizationRegistry), which only a process with --expose-gc can force.
  const script = `
    const { Pipeline } = require('halide-wasm-executor');
    const { liveInstances } = require('./lib/executor-node.cjs');
    const bytes = require('fs').readFileSync('fixtures/bench_tiny.wasm');
    const base = liveInstances();
    (() => { for (let i = 0; i < 20; i++) Pipeline.loadSync(bytes); })();
    const made = liveInstances() - base;
    (async () => {
      for (let i = 0; i < 20 && liveInstances() > base; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
      console.log(JSON.stringify({ made, left: liveInstances() - base }));
    })();`;
  const root = new URL('../../', import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { made: 20, left: 0 });
});

test('a guest that faults or aborts inside a C library import is freed with its instance', async () => {
  // Those imports are the executor's wasm exports, acting on the running
  // guest through a reference they must drop before throwing (a throw runs
  // no destructors): a leaked one would keep every failed instance alive.
  const { createRequire } = await import('node:module');
  const { liveInstances } = createRequire(import.meta.url)('../../lib/executor-node.cjs');
  const base = liveInstances();
  const c = caseNamed('too_small');
  const p = Pipeline.loadSync(wasmBytes(c.module), { print: () => {} });
  assert.equal(liveInstances(), base + 1);
  for (let i = 0; i < 3; i++) {
    // halide_error, then abort(): the instance is dropped, and the next run
    // makes a new one.
    assert.throws(() => p.run(prepare(c).args), (e) => e.code === 'abort');
    assert.equal(liveInstances(), base, `run ${i}: the aborted instance is freed`);
  }
  p.dispose();
  assert.equal(liveInstances(), base);
});

test("dispose lets go of the guest memory (and of the caller's arrays) while the Pipeline object lives on", async () => {
  const { spawnSync } = await import('node:child_process');
  const script = `
    const { Pipeline } = require('halide-wasm-executor');
    const bytes = require('fs').readFileSync('fixtures/bench_tiny.wasm');
    const p = Pipeline.loadSync(bytes);
    let collected = [];
    const registry = new FinalizationRegistry((what) => collected.push(what));
    (() => {
      const input = new Int32Array(16), out = new Int32Array(16);
      p.run({ input: { data: input, shape: [4, 4] }, k: 1, bench_tiny: { data: out, shape: [4, 4] } });
      registry.register(input, 'input');
      registry.register(out, 'output');
      const b = p.allocBuffer('int32', [4]);
      registry.register(b.data.buffer, 'guest memory');
    })();
    p.dispose();
    (async () => {
      for (let i = 0; i < 30 && collected.length < 3; i++) { gc(); await new Promise((r) => setTimeout(r, 10)); }
      console.log(JSON.stringify({ collected: collected.sort(), alive: typeof p.run }));
    })();`;
  const root = new URL('../../', import.meta.url);
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { collected: ['guest memory', 'input', 'output'], alive: 'function' });
});
