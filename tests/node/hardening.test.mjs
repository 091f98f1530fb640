// A hostile module or caller (issue: hardening). Each test here failed
// before its fix: metadata bombs, a guest growing its memory past
// maxMemoryBytes, load inputs and options that throw when read, foreign
// objects handed to freeBuffer, throwing getters, arguments named like
// Object.prototype members, dispose() from a getter, and extern return
// values that are not integers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Pipeline, HalideError } from 'halide-wasm-executor';
import { aotModule } from './handmade.mjs';
import { wasmBytes, caseNamed, prepare, optionsFor, compare } from './fixtures.mjs';

const { liveInstances, executorMemoryBytes } = createRequire(import.meta.url)('../../lib/executor-node.cjs');
const quiet = { print: () => {} };

/** `fn` throws (or rejects with) a HalideError of `code` whose message matches `re`; returns it. */
async function fails(fn, code, re) {
  let err;
  try {
    await fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof HalideError, `expected a HalideError, got ${err && err.stack ? err.stack : err}`);
  assert.equal(err.code, code, err.message);
  if (re) assert.match(err.message, re);
  return err;
}

const out1 = () => ({ data: new Int32Array(1).fill(-1), shape: [1] });

// ---------------------------------------------------------------- metadata

/** A pipeline whose `n` arguments' names all point at one string of `len` bytes, made at run time. */
function bomb(n, len) {
  const at = 128 * 1024;
  const args = Array.from({ length: n }, () => ({ namePtr: at }));
  const pages = Math.ceil((at + len + 1) / 65536) + 1;
  return aotModule('bomb', args, {
    pages,
    metadataBody: `(memory.fill (i32.const ${at}) (i32.const 110) (i32.const ${len}))`,
  });
}

test('metadata bombs are refused as bad modules, quickly and without holding the bomb', async () => {
  const before = executorMemoryBytes();
  const t0 = performance.now();
  await fails(() => Pipeline.load(bomb(300, 1 << 20)), 'bad-module', /longer than the 1024 bytes the host reads/);
  await fails(() => Pipeline.load(bomb(4096, 16)), 'bad-module', /claims 4096 arguments; the executor reads at most 1024/);
  // Many distinct names, each short, together too long.
  const many = Array.from({ length: 1000 }, (_, i) => ({ name: `argument_with_a_long_name_${i}_${'x'.repeat(60)}` }));
  await fails(() => Pipeline.load(aotModule('many', many, { pages: 4 })), 'bad-module', /names add up to more than 65536 bytes/);
  const ms = performance.now() - t0;
  // Not a speed test: a record of what the refusals cost (was 5 s and 0.9 GiB).
  console.log(`# three metadata bombs refused in ${ms.toFixed(1)} ms; executor memory grew by ${executorMemoryBytes() - before} bytes`);
  assert.ok(executorMemoryBytes() - before <= 1 << 20, 'the executor did not hold the bomb');
});

// ----------------------------------------------------------- memory cap

/** A pipeline that grows its own memory page by page, `pages` times or until refused, and reports the final size in pages. */
const grower = () =>
  aotModule('grower', [{ name: 'pages', default: 1000 }, { name: 'out', kind: 'output', dimensions: 1 }], {
    body: `(local $i i32)
      (block $done (loop $more
        (br_if $done (i32.ge_s (local.get $i) (i32.load (i32.load (local.get $argv)))))
        (br_if $done (i32.eq (memory.grow (i32.const 1)) (i32.const -1)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $more)))
      (i32.store (i32.load offset=12 (i32.load offset=4 (local.get $argv))) (memory.size))
      (i32.const 0)`,
  });

test("maxMemoryBytes holds against the guest's own memory.grow", async () => {
  const cap = 4 << 20;
  for (const p of [Pipeline.loadSync(grower(), { maxMemoryBytes: cap }), await Pipeline.load(grower(), { maxMemoryBytes: cap }),
    await Pipeline.load(new Response(grower()), { maxMemoryBytes: cap })]) {
    const out = out1();
    p.run({ out });
    assert.equal(out.data[0], cap / 65536, 'memory.grow stopped at the cap');
    assert.ok(p.stats().memoryBytes <= cap);
    p.dispose();
  }
  // A cap that is not a whole number of pages rounds down.
  const odd = Pipeline.loadSync(grower(), { maxMemoryBytes: cap + 1000 });
  const out = out1();
  odd.run({ out });
  assert.equal(out.data[0], cap / 65536);
  // Without a cap it grows as far as it asks.
  const free = Pipeline.loadSync(grower());
  free.run({ pages: 100, out });
  assert.equal(out.data[0], 102);
});

test('a module whose memory cannot be bounded is refused with the reason', async () => {
  const mod = new WebAssembly.Module(grower());
  await fails(() => Pipeline.load(mod, { maxMemoryBytes: 4 << 20 }), 'bad-argument', /needs the module's bytes/);
  // Without a cap a compiled module is fine.
  (await Pipeline.load(mod)).dispose();
  // Its initial memory (2 pages) is already past a 64 KiB cap.
  await fails(() => Pipeline.load(grower(), { maxMemoryBytes: 65536 }), 'out-of-memory', /131072 bytes .*limit 65536/);
});

// ------------------------------------------------------------------- load

test('every failure of load rejects its promise with a HalideError (cause: the original)', async () => {
  const bytes = wasmBytes('brighten_u8');
  const detached = Uint8Array.from(bytes).buffer;
  const sources = [detached, new Uint8Array(detached), new DataView(detached)];
  structuredClone(detached, { transfer: [detached] });
  for (const source of sources) {
    const e = await fails(() => Pipeline.load(source), 'bad-argument', /detached/);
    assert.ok(e.cause instanceof TypeError);
    const s = await fails(() => Pipeline.loadSync(source), 'bad-argument', /detached/);
    assert.ok(s.cause instanceof TypeError);
  }
  const boom = new Error('boom');
  const throwing = [
    new Proxy({}, { ownKeys() { throw boom; } }),
    { get print() { throw boom; } },
    { env: { get HL_NUM_THREADS() { throw boom; } } },
    { externs: { get ext_sum_next() { throw boom; } } },
    { externs: { ext_sum_next: { get fn() { throw boom; } } } },
    { arguments: new Proxy([], { get() { throw boom; } }) },
  ];
  for (const options of throwing) {
    const e = await fails(() => Pipeline.load(bytes, options), 'bad-argument', /the options could not be read: boom/);
    assert.equal(e.cause, boom);
    const s = await fails(() => Pipeline.loadSync(bytes, options), 'bad-argument', /the options could not be read: boom/);
    assert.equal(s.cause, boom);
  }
  const proxied = new Proxy(bytes, { getPrototypeOf() { throw boom; } });
  assert.equal((await fails(() => Pipeline.load(proxied), 'bad-argument', /could not be read/)).cause, boom);
  assert.equal((await fails(() => Pipeline.load(Promise.reject(boom)), 'bad-argument', /promise rejected: boom/)).cause, boom);
  // A DataView of the bytes is bytes.
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  assert.equal((await Pipeline.load(view)).name, 'brighten_u8');
});

// -------------------------------------------------------------- freeBuffer

test('freeBuffer frees only the object allocBuffer returned', async () => {
  const p1 = Pipeline.loadSync(wasmBytes('bench_tiny'), quiet);
  const p2 = Pipeline.loadSync(wasmBytes('bench_tiny'), quiet);
  const b1 = p1.allocBuffer('int32', [4, 4]);
  const b2 = p2.allocBuffer('int32', [4, 4]);
  assert.equal(b1.data.byteOffset, b2.data.byteOffset, 'the two land at the same offset');
  const before = p2.stats().liveAllocations;
  for (const [p, foreign] of [[p2, b1], [p1, { data: { byteOffset: b1.data.byteOffset } }], [p1, { ...b1 }], [p1, b2]]) {
    await fails(() => p.freeBuffer(foreign), 'bad-argument', /not a live buffer from this pipeline's allocBuffer/);
  }
  assert.equal(p2.stats().liveAllocations, before, "p2's buffer is still allocated");
  b2.data.set(Int32Array.from({ length: 16 }, (_, i) => i));
  const out = new Int32Array(16);
  p2.run({ input: b2, k: 1, bench_tiny: { data: out, shape: [4, 4] } });
  assert.deepEqual([...out], Array.from({ length: 16 }, (_, i) => i + 1));
  p1.freeBuffer(b1);
  await fails(() => p1.freeBuffer(b1), 'bad-argument', /not a live buffer/);
  p2.freeBuffer(b2);
});

// ------------------------------------------------ argument objects, getters

/** A pipeline whose scalars are named like Object.prototype members, with defaults 1, 2, 4, 8, 16; out[0] is their sum. */
const PROTO_NAMES = ['constructor', 'toString', 'valueOf', 'hasOwnProperty', '__proto__'];
const protos = () =>
  Pipeline.loadSync(
    aotModule('protos', [...PROTO_NAMES.map((name, i) => ({ name, default: 1 << i })), { name: 'out', kind: 'output', dimensions: 1 }], {
      body: `(i32.store (i32.load offset=12 (i32.load offset=20 (local.get $argv)))
        (i32.add (i32.add (i32.add (i32.add
          (i32.load (i32.load offset=0 (local.get $argv)))
          (i32.load (i32.load offset=4 (local.get $argv))))
          (i32.load (i32.load offset=8 (local.get $argv))))
          (i32.load (i32.load offset=12 (local.get $argv))))
          (i32.load (i32.load offset=16 (local.get $argv)))))
        (i32.const 0)`,
    }),
    quiet,
  );

test("only the argument object's own properties are read: names like Object.prototype's take their defaults", async () => {
  const p = protos();
  assert.deepEqual(p.arguments.map((a) => a.name), [...PROTO_NAMES, 'out']);
  const sum = (args) => {
    const out = out1();
    p.run({ ...args, out });
    return out.data[0];
  };
  // Both readers: the batched one, and the full one (a typed-array shape sends the run there).
  const full = (args) => {
    const out = { data: new Int32Array(1), shape: Int32Array.of(1) };
    p.run(Object.assign(args, { out }));
    return out.data[0];
  };
  for (const reader of [sum, full]) {
    assert.equal(reader({}), 31);
    assert.equal(reader({ constructor: 100 }), 130);
    assert.equal(reader(JSON.parse('{"__proto__": 64, "toString": 32}')), 31 - 16 - 2 + 64 + 32);
  }
  // Inherited properties are not arguments, whatever the prototype.
  const inherited = Object.create({ valueOf: 100, out: out1() });
  inherited.out = out1();
  p.run(inherited);
  assert.equal(inherited.out.data[0], 31);
  await fails(() => p.run(Object.create({ out: out1() })), 'bad-argument', /missing output buffer/);
});

test('a throwing getter is a bad-argument error with the original as cause, never a silent default', async () => {
  const p = protos();
  const boom = new Error('boom');
  for (const name of ['valueOf', 'constructor']) {
    const out = out1();
    const args = { out, get [name]() { throw boom; } };
    const err = await fails(() => p.run(args), 'bad-argument', new RegExp(`argument '${name}': reading the argument threw: boom`));
    assert.equal(err.cause, boom);
    assert.equal(out.data[0], -1, 'output untouched');
  }
});

test('a throwing getter inside a buffer object is a bad-argument error with its cause', async () => {
  const c = caseNamed('bench_tiny');
  const p = Pipeline.loadSync(wasmBytes(c.module), quiet);
  const boom = new Error('boom');
  for (const field of ['data', 'shape', 'strides', 'mins']) {
    const { args } = prepare(c);
    const input = { ...args.input };
    Object.defineProperty(input, field, { get() { throw boom; }, enumerable: true });
    let err;
    try {
      p.run({ ...args, input });
    } catch (e) {
      err = e;
    }
    assert.ok(err instanceof HalideError && err.code === 'bad-argument', `${field}: ${err}`);
    assert.equal(err.cause, boom, field);
    assert.match(err.message, new RegExp(`reading ${field} threw: boom`));
  }
  const { args, outputs } = prepare(c);
  p.run(args);
  assert.equal(compare(outputs[0].type, outputs[0].data, outputs[0].expected), null);
});

test('dispose() from a getter during run: the run ends as disposed and no instance is left', async () => {
  const base = liveInstances();
  const p = protos();
  assert.equal(liveInstances(), base + 1);
  const out = out1();
  await fails(() => p.run({ out, get constructor() { p.dispose(); return 1; } }), 'disposed');
  assert.equal(liveInstances(), base, 'the disposed pipeline holds no instance');
  assert.equal(out.data[0], -1);
  await fails(() => p.run({ out }), 'disposed');
  assert.equal(liveInstances(), base);
  // The same from allocBuffer's shape; another pipeline is not touched.
  const q = protos();
  const r = protos();
  const shape = [4];
  Object.defineProperty(shape, 0, { get() { r.dispose(); return 4; } });
  await fails(() => r.allocBuffer('int32', shape), 'disposed');
  assert.equal(liveInstances(), base + 1, 'only q is alive');
  q.dispose();
  assert.equal(liveInstances(), base);
});

// ------------------------------------------------------------------ externs

test('an extern returning anything but an integer (or undefined) fails the run as a callback error', async () => {
  const c = caseNamed('extern_stage');
  const good = optionsFor(c).externs.ext_sum_next;
  for (const bad of [NaN, 0.5, -0.9, 'x', {}, 1n]) {
    const p = Pipeline.loadSync(wasmBytes(c.module), { ...quiet, externs: { ext_sum_next: (pre, out) => (good(pre, out), bad) } });
    const { args, outputs } = prepare(c);
    for (const o of outputs) o.data.fill(7);
    await fails(() => p.run(args), 'callback', /extern 'ext_sum_next' returned .*; an extern returns 0 \(or undefined\) for success/);
    for (const o of outputs) assert.ok(o.data.every((v) => v === 7), 'outputs untouched');
  }
  for (const ok of [0, undefined]) {
    const p = Pipeline.loadSync(wasmBytes(c.module), { ...quiet, externs: { ext_sum_next: (pre, out) => (good(pre, out), ok) } });
    const { args, outputs } = prepare(c);
    p.run(args);
    for (const o of outputs) assert.equal(compare(o.type, o.data, o.expected, c.tolerance), null);
  }
});
