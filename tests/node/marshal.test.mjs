// A run reads its arguments in one batched call (src/js/marshal.js) and
// reuses the last run's layout when the arguments have not changed; anything
// unusual goes to the property-by-property reader. These tests hold the two
// readers to the same results, and the reuse to never serving stale data.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, HalideError } from 'halide-wasm-executor';
import { manifest, wasmBytes, prepare, compare, optionsFor } from './fixtures.mjs';
import { createRequire } from 'node:module';

// The package's internal build, for `benchAllocator`: a call that makes the
// executor's own memory grow.
const { benchAllocator } = createRequire(import.meta.url)('../../lib/executor-node.cjs');

const quiet = { print: () => {} };

/** The same arguments with typed-array shapes: the batched reader gives up on them. */
const typedShapes = (args) =>
  Object.fromEntries(
    Object.entries(args).map(([k, v]) => [k, v && v.data ? { ...v, shape: Int32Array.from(v.shape) } : v]),
  );

test('both argument readers give native Halide\'s outputs on every corpus case', () => {
  for (const c of manifest.cases) {
    if (c.expect_error || c.name.startsWith('bench_') && c.name !== 'bench_tiny') continue;
    const p = Pipeline.loadSync(wasmBytes(c.module), { ...quiet, ...optionsFor(c) });
    for (const [how, wrap] of [['batched', (a) => a], ['full', typedShapes]]) {
      const { args, outputs } = prepare(c);
      p.run(wrap(args));
      for (const o of outputs) {
        assert.equal(compare(o.type, o.data, o.expected, c.tolerance), null, `${c.name} (${how} reader): ${o.name}`);
      }
    }
  }
});

/** bench_tiny: out(x, y) = input(x, y) + k over int32. */
function tiny() {
  const p = Pipeline.loadSync(wasmBytes('bench_tiny'), quiet);
  const run = (input, shape, k) => {
    const out = new Int32Array(input.length);
    p.run({ input: { data: input, shape }, k, bench_tiny: { data: out, shape } });
    return out;
  };
  return { p, run };
}

test('a repeated run sees new data, new scalars and new shapes', () => {
  const { run } = tiny();
  const a = Int32Array.from({ length: 16 }, (_, i) => i);
  assert.deepEqual([...run(a, [4, 4], 3)], [...a].map((v) => v + 3));
  a.fill(7);
  assert.deepEqual([...run(a, [4, 4], 3)], Array(16).fill(10), 'same arguments, new data');
  assert.deepEqual([...run(a, [4, 4], -2)], Array(16).fill(5), 'new scalar');
  const b = Int32Array.from({ length: 15 }, (_, i) => 100 * i);
  assert.deepEqual([...run(b, [5, 3], 1)], [...b].map((v) => v + 1), 'new shape');
  assert.deepEqual([...run(b, [3, 5], 1)], [...b].map((v) => v + 1), 'transposed shape');
  assert.deepEqual([...run(a, [4, 4], 3)], Array(16).fill(10), 'back to the first');
});

test('the same argument object with its arrays replaced between runs', () => {
  const { p } = tiny();
  const args = { input: { data: new Int32Array(16).fill(1), shape: [4, 4] }, k: 1, bench_tiny: { data: new Int32Array(16), shape: [4, 4] } };
  p.run(args);
  const first = args.bench_tiny.data;
  args.input.data = new Int32Array(16).fill(40);
  args.bench_tiny.data = new Int32Array(16);
  p.run(args);
  assert.ok(first.every((v) => v === 2));
  assert.ok(args.bench_tiny.data.every((v) => v === 41), 'the second run wrote the new output array');
});

test('a wrong argument after a good run is refused by name, and the next good run works', () => {
  const { p, run } = tiny();
  const a = new Int32Array(16).fill(1);
  run(a, [4, 4], 1);
  const out = new Int32Array(16).fill(-1);
  assert.throws(() => p.run({ input: { data: a, shape: [4, 5] }, k: 1, bench_tiny: { data: out, shape: [4, 4] } }),
    (e) => e instanceof HalideError && e.code === 'bad-argument' && /'input'/.test(e.message));
  assert.throws(() => p.run({ input: { data: a, shape: [4, 4] }, k: 1.5, bench_tiny: { data: out, shape: [4, 4] } }),
    (e) => e instanceof HalideError && e.code === 'bad-argument' && /'k'/.test(e.message));
  assert.throws(() => p.run({ input: { data: new Float32Array(16), shape: [4, 4] }, k: 1, bench_tiny: { data: out, shape: [4, 4] } }),
    (e) => e instanceof HalideError && /Int32Array/.test(e.message));
  assert.ok(out.every((v) => v === -1), 'outputs untouched');
  assert.deepEqual([...run(a, [4, 4], 2)], Array(16).fill(3));
});

test('typed-array shapes, explicit strides, bigints and booleans: either reader, one result', () => {
  const { p, run } = tiny();
  const a = Int32Array.from({ length: 16 }, (_, i) => i);
  const expected = [...run(a, [4, 4], 3)];
  const out = new Int32Array(16);
  p.run({ input: { data: a, shape: Int32Array.of(4, 4) }, k: 3, bench_tiny: { data: out, shape: [4, 4], strides: [1, 4], mins: [0, 0] } });
  assert.deepEqual([...out], expected);
  out.fill(0);
  p.run({ input: { data: a, shape: [4, 4], strides: null }, k: 3n, bench_tiny: { data: out, shape: [4, 4] } });
  assert.deepEqual([...out], expected, 'a bigint for an int32');
  out.fill(0);
  assert.throws(() => p.run({ input: { data: a, shape: [4, 4] }, k: true, bench_tiny: { data: out, shape: [4, 4] } }),
    (e) => e instanceof HalideError && e.code === 'bad-argument' && /boolean/.test(e.message));
  assert.ok(out.every((v) => v === 0));
});

test('a throwing getter is a HalideError and the pipeline stays usable', () => {
  const { p, run } = tiny();
  const args = { k: 1, bench_tiny: { data: new Int32Array(16), shape: [4, 4] } };
  Object.defineProperty(args, 'input', { enumerable: true, get() { throw new Error('no input for you'); } });
  assert.throws(() => p.run(args), (e) => e instanceof HalideError && e.code === 'bad-argument' && /'input'/.test(e.message));
  assert.ok(args.bench_tiny.data.every((v) => v === 0));
  assert.deepEqual([...run(new Int32Array(16), [4, 4], 4)], Array(16).fill(4));
});

test('a getter that runs the same pipeline: both runs get their own results', () => {
  const { p, run } = tiny();
  const innerOut = new Int32Array(4);
  const args = { k: 10, bench_tiny: { data: new Int32Array(16), shape: [4, 4] } };
  Object.defineProperty(args, 'input', {
    enumerable: true,
    get() {
      p.run({ input: { data: Int32Array.of(1, 2, 3, 4), shape: [2, 2] }, k: 100, bench_tiny: { data: innerOut, shape: [2, 2] } });
      return { data: new Int32Array(16).fill(5), shape: [4, 4] };
    },
  });
  p.run(args);
  assert.deepEqual([...innerOut], [101, 102, 103, 104]);
  assert.ok(args.bench_tiny.data.every((v) => v === 15));
  assert.deepEqual([...run(new Int32Array(16), [4, 4], 4)], Array(16).fill(4));
});

test('zero-copy and copying runs alternate on one pipeline', () => {
  const { p, run } = tiny();
  const input = p.allocBuffer('int32', [4, 4]);
  const output = p.allocBuffer('int32', [4, 4]);
  input.data.fill(3);
  for (let i = 0; i < 3; i++) {
    p.run({ input, k: i, bench_tiny: output });
    assert.ok(output.data.every((v) => v === 3 + i));
    assert.deepEqual([...run(new Int32Array(16).fill(1), [4, 4], i)], Array(16).fill(1 + i));
  }
  p.freeBuffer(input);
  // A freed buffer is refused even when the run before used it.
  assert.throws(() => p.run({ input, k: 0, bench_tiny: output }), (e) => e instanceof HalideError && /allocBuffer/.test(e.message));
  p.freeBuffer(output);
});

test("the guest's memcpy, memmove and memset (plain JS imports) move the right bytes", async () => {
  const { default: binaryen } = await import('binaryen');
  const bytes = binaryen.parseText(`(module
    (import "env" "memcpy" (func $memcpy (param i32 i32 i32) (result i32)))
    (import "env" "memmove" (func $memmove (param i32 i32 i32) (result i32)))
    (import "env" "memset" (func $memset (param i32 i32 i32) (result i32)))
    (memory (export "memory") 2)
    (global (export "__heap_base") i32 (i32.const 4096))
    (func (export "moves") (param $uc i32) (param $out i32) (result i32)
      (local $i i32)
      (drop (call $memset (i32.const 1000) (i32.const 0x1ff) (i32.const 32)))
      (block $done (loop $l
        (br_if $done (i32.ge_u (local.get $i) (i32.const 16)))
        (i32.store8 (i32.add (i32.const 1000) (local.get $i)) (local.get $i))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
      (drop (call $memmove (i32.const 1002) (i32.const 1000) (i32.const 8)))
      (drop (call $memmove (i32.const 1016) (i32.const 1020) (i32.const 8)))
      (drop (call $memcpy (i32.load offset=12 (local.get $out)) (i32.const 1000) (i32.const 32)))
      (i32.const 0)))`).emitBinary();
  const p = Pipeline.loadSync(bytes, {
    entry: 'moves',
    arguments: [{ name: '__user_context', kind: 'scalar', type: 'handle' }, { name: 'out', kind: 'output', type: 'uint8', dimensions: 1 }],
  });
  const out = new Uint8Array(32);
  p.run({ out: { data: out, shape: [32] } });
  const want = [0, 1, 0, 1, 2, 3, 4, 5, 6, 7, 10, 11, 12, 13, 14, 15, ...Array(4).fill(255), ...Array(8).fill(255), ...Array(4).fill(255)];
  assert.deepEqual([...out], want);
});

test("a pipeline run from inside another's extern stage: each guest's malloc and free reach its own heap", () => {
  const c = manifest.cases.find((k) => k.name === 'extern_stage');
  const inner = Pipeline.loadSync(wasmBytes('bench_multistage'), quiet);
  const n = 64;
  const innerIn = Float32Array.from({ length: n * n }, (_, i) => (i % 17) / 17);
  const reference = new Float32Array(n * n);
  inner.run({ input: { data: innerIn, shape: [n, n] }, bench_multistage: { data: reference, shape: [n, n] } });
  let nested = 0;
  const options = optionsFor(c);
  for (const [name, e] of Object.entries(options.externs)) {
    const fn = typeof e === 'function' ? e : e.fn;
    const wrapped = (...args) => {
      // Allocates and frees ten blocks in the inner guest's heap.
      const out = new Float32Array(n * n);
      inner.run({ input: { data: innerIn, shape: [n, n] }, bench_multistage: { data: out, shape: [n, n] } });
      assert.deepEqual(out, reference);
      nested++;
      return fn(...args);
    };
    options.externs[name] = typeof e === 'function' ? wrapped : { ...e, fn: wrapped };
  }
  const outer = Pipeline.loadSync(wasmBytes(c.module), { ...quiet, ...options });
  const { args, outputs } = prepare(c);
  outer.run(args);
  assert.ok(nested > 0);
  for (const o of outputs) assert.equal(compare(o.type, o.data, o.expected, c.tolerance), null, o.name);
  assert.equal(outer.stats().liveAllocations, 0);
  assert.equal(inner.stats().liveAllocations, 0);
});

test('small float buffers keep every bit, NaN payloads included, both ways', async () => {
  const { default: binaryen } = await import('binaryen');
  const bytes = binaryen.parseText(`(module
    (import "env" "memcpy" (func $memcpy (param i32 i32 i32) (result i32)))
    (memory (export "memory") 2)
    (global (export "__heap_base") i32 (i32.const 4096))
    (func (export "copy") (param $uc i32) (param $in i32) (param $out i32) (result i32)
      (drop (call $memcpy (i32.load offset=12 (local.get $out)) (i32.load offset=12 (local.get $in)) (i32.const 32)))
      (i32.const 0)))`).emitBinary();
  for (const [type, A, bits] of [['float32', Float32Array, Uint32Array], ['float64', Float64Array, BigUint64Array]]) {
    const p = Pipeline.loadSync(bytes, {
      entry: 'copy',
      arguments: [
        { name: '__user_context', kind: 'scalar', type: 'handle' },
        { name: 'in', kind: 'input', type, dimensions: 1 },
        { name: 'out', kind: 'output', type, dimensions: 1 },
      ],
    });
    const n = 32 / A.BYTES_PER_ELEMENT;
    const input = new A(n);
    const raw = new bits(input.buffer);
    // Signalling and payload-carrying NaNs, a negative zero, a denormal.
    raw.set(type === 'float32'
      ? [0x7f800001, 0xffc12345, 0x80000000, 0x00000001, 0x7fbfffff, 0x3f800000, 0xff800001, 0x7fc00000]
      : [0x7ff0000000000001n, 0xfff8123456789abcn, 0x8000000000000000n, 1n]);
    const out = new A(n);
    p.run({ in: { data: input, shape: [n] }, out: { data: out, shape: [n] } });
    assert.deepEqual([...new bits(out.buffer)], [...raw], type);
  }
});

test('a getter that makes the executor\'s memory grow while the batched reader writes into it', () => {
  // The batched reader writes its read-out straight into the executor's
  // memory; a growth in the middle detaches that view and loses the writes,
  // so the run must notice and read again. (Missed, the run would reuse the
  // last run's read-out: k = 3.) 100,000 live blocks of allocator
  // bookkeeping are several MiB: more than the executor's memory has spare.
  const { p } = tiny();
  const input = Int32Array.from({ length: 16 }, (_, i) => i * 7);
  const out = new Int32Array(16);
  let k = 3;
  let grow = false;
  const args = {
    input: { data: input, shape: [4, 4] },
    get k() {
      if (grow) {
        grow = false;
        benchAllocator(100_000, 10, 1);
      }
      return k;
    },
    bench_tiny: { data: out, shape: [4, 4] },
  };
  p.run(args);
  assert.deepEqual([...out], [...input].map((v) => v + 3));
  k = 5;
  grow = true;
  p.run(args);
  assert.equal(grow, false);
  assert.deepEqual([...out], [...input].map((v) => v + 5));
});
