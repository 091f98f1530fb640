// p.runAsync(args): the pipeline run in a worker_thread of its own (the
// runner), serial and threaded, against native Halide's outputs; errors
// reject with the HalideError run would throw and leave the outputs alone;
// calls queue; dispose ends the runner; an idle runner never keeps the
// process alive. Also Pipeline.load([threaded, serial]). A threaded
// pipeline's arrays go through regions of the runner's shared memory
// (its stats, a diagnostic, show them): outputs on 1/2/4 threads, other
// shapes, outputs with gaps, concurrent calls, an abort (fresh regions),
// the cap, dispose, and the runner's heap steady over many calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pipeline, HalideError } from 'halide-wasm-executor';
import { wasmBytes, prepare, caseNamed, compare, optionsFor, fixturesDir } from './fixtures.mjs';
import { wat } from './handmade.mjs';

const require = createRequire(import.meta.url);
const { liveRunners } = require('../../lib/runner-node.cjs');
const quiet = { print: () => {}, error: () => {} };

async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof HalideError, `not a HalideError: ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

/** Waits until `f()` holds (runners end asynchronously), or fails after `ms`. */
async function until(f, what, ms = 5000) {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) assert.fail(`still not: ${what}`);
    await sleep(10);
  }
}

function checkOutputs(c, outputs) {
  assert.ok(outputs.length > 0);
  for (const o of outputs) assert.equal(compare(o.type, o.data, o.expected, c.tolerance), null, `${c.name}: ${o.name}`);
}

for (const name of ['brighten_u8', 'blur3x3_u16_simd', 'two_outputs', 'every_scalar', 'half_f16', 'par_blur_u16', 'bilateral_grid', 'local_laplacian']) {
  test(`runAsync (serial) ${name}: native Halide's outputs`, async () => {
    const c = caseNamed(name);
    const p = await Pipeline.load(wasmBytes(c.module), optionsFor(c, quiet));
    try {
      const { args, outputs } = prepare(c);
      const inputs = Object.values(args).filter((a) => a && a.data && !outputs.some((o) => o.data === a.data));
      const before = inputs.map((a) => a.data.slice());
      const pending = p.runAsync(args);
      assert.ok(pending instanceof Promise);
      assert.deepEqual(await pending, {}, "all outputs given: nothing allocated");
      checkOutputs(c, outputs);
      inputs.forEach((a, i) => assert.deepEqual(a.data, before[i], 'inputs are untouched'));
    } finally {
      p.dispose();
    }
  });
}

for (const name of ['par_blur_u16_threads', 'bilateral_grid_threads', 'local_laplacian_threads']) {
  test(`runAsync (threaded, 2 threads) ${name}: native Halide's outputs, like run`, async () => {
    const c = caseNamed(name);
    const p = await Pipeline.load(wasmBytes(c.module), optionsFor(c, { ...quiet, threads: 2 }));
    try {
      const a = prepare(c);
      await p.runAsync(a.args);
      checkOutputs(c, a.outputs);
      const b = prepare(c);
      p.run(b.args);
      a.outputs.forEach((o, i) => assert.deepEqual(o.data, b.outputs[i].data, 'runAsync and run agree bit for bit'));
      // Again: the runner keeps its instance and pool.
      a.outputs.forEach((o) => o.data.fill(0));
      await p.runAsync(a.args);
      checkOutputs(c, a.outputs);
    } finally {
      p.dispose();
    }
  });
}

test('runAsync of a module without metadata (the JIT flavour): its entry and arguments reach the runner', async () => {
  const bytes = wat(`(module
    (import "env" "memset" (func $memset (param i32 i32 i32) (result i32)))
    (memory (export "memory") 2)
    (global (export "__heap_base") i32 (i32.const 4096))
    (func (export "fill") (param $uc i32) (param $k i32) (param $out i32) (result i32)
      (drop (call $memset (i32.load offset=12 (local.get $out)) (local.get $k) (i32.const 16)))
      (i32.const 0)))`);
  const p = await Pipeline.load(bytes, {
    entry: 'fill',
    arguments: [
      { name: '__user_context', kind: 'scalar', type: 'handle' },
      { name: 'k', kind: 'scalar', type: 'int32' },
      { name: 'out', kind: 'output', type: 'uint8', dimensions: 1 },
    ],
    maxMemoryBytes: 1 << 20,
  });
  try {
    const out = new Uint8Array(16);
    await p.runAsync({ k: 42, out: { data: out, shape: [16] } });
    assert.deepEqual([...out], Array(16).fill(42));
  } finally {
    p.dispose();
  }
});

test('errors reject with the HalideError run throws (code, message, halideCode) and leave the outputs alone', async () => {
  for (const name of ['require_fails', 'too_small']) {
    const c = caseNamed(name);
    const printed = [];
    const errors = [];
    const p = await Pipeline.load(wasmBytes(c.module), { print: (t) => printed.push(t), error: (t) => errors.push(t) });
    const { args, outputs } = prepare(c);
    for (const o of outputs) o.data.fill(7);
    let sync;
    try {
      p.run(args);
    } catch (e) {
      sync = e;
    }
    assert.ok(sync instanceof HalideError, `${name}: run throws`);
    const syncPrinted = printed.splice(0);
    const syncErrors = errors.splice(0);
    await assert.rejects(p.runAsync(args), (e) => {
      assert.ok(e instanceof HalideError, `not a HalideError: ${e}`);
      assert.equal(e.name, 'HalideError');
      assert.equal(e.code, sync.code);
      assert.equal(e.message, sync.message);
      assert.equal(e.halideCode, sync.halideCode);
      assert.match(e.message, new RegExp(c.expect_error.message_contains.replace(/[()]/g, '\\$&')));
      return true;
    });
    for (const o of outputs) assert.ok(o.data.every((v) => v === 7), `${name}: ${o.name} untouched`);
    assert.deepEqual(printed, syncPrinted, `${name}: print sees what it sees in run`);
    assert.deepEqual(errors, syncErrors, `${name}: error sees what it sees in run`);
    p.dispose();
  }
});

test('after a failure the runner goes on: an abort on a threaded pipeline, then a good run', async () => {
  const c = caseNamed('bilateral_grid_threads');
  const p = await Pipeline.load(wasmBytes(c.module), { ...quiet, threads: 2 });
  try {
    const bad = prepare(c);
    const out = bad.outputs[0].data;
    out.fill(-1);
    const { shape } = bad.args.input;
    bad.args.input = { data: new Float32Array(2 * shape[0] * shape[1]), shape, strides: [2, 2 * shape[0]] };
    await assert.rejects(p.runAsync(bad.args), (e) => {
      assert.ok(e instanceof HalideError);
      assert.equal(e.code, 'abort');
      assert.equal(e.halideCode, -8);
      assert.match(e.message, /bilateral_grid_threads: Constraint violated: input\.stride\.0 \(2\) == 1/);
      return true;
    });
    assert.ok(out.every((v) => v === -1));
    const good = prepare(c);
    await p.runAsync(good.args);
    checkOutputs(c, good.outputs);
  } finally {
    p.dispose();
  }
});

test('every mistake rejects (never throws) with a HalideError', async () => {
  const c = caseNamed('brighten_u8');
  const p = await Pipeline.load(wasmBytes(c.module), quiet);
  const { args, outputs } = prepare(c);
  const calls = [];
  const call = (a) => {
    let r;
    assert.doesNotThrow(() => (r = p.runAsync(a)));
    calls.push(r);
    return r;
  };
  outputs[0].data.fill(9);
  await rejectsWith(call({ ...args, extra: 1 }), 'bad-argument', /unknown argument 'extra'; brighten_u8 takes: input, gain, brighten_u8/);
  await rejectsWith(call({ ...args, gain: 9 }), 'bad-argument', /argument 'gain': 9 is above the pipeline's maximum 4/);
  await rejectsWith(call(null), 'bad-argument', /./);
  await rejectsWith(call({ ...args, gain: () => 1 }), 'bad-argument', /argument cannot be sent to the worker/);
  const cause = new Error('no gain today');
  await assert.rejects(
    call({
      ...args,
      get gain() {
        throw cause;
      },
    }),
    (e) => e instanceof HalideError && e.code === 'bad-argument' && /argument 'gain' could not be read: no gain today/.test(e.message) && e.cause === cause,
  );
  assert.ok(outputs[0].data.every((v) => v === 9), 'no output was written');

  // allocBuffer's buffers live in this thread's instance.
  const b = p.allocBuffer('uint8', args.input.shape);
  await rejectsWith(call({ ...args, input: b }), 'bad-argument', /argument 'input' is a buffer from allocBuffer.*typed array/);
  p.freeBuffer(b);

  // Callbacks cannot cross to a worker.
  const e = caseNamed('extern_stage');
  const withExterns = await Pipeline.load(wasmBytes(e.module), optionsFor(e, quiet));
  await rejectsWith(withExterns.runAsync(prepare(e).args), 'bad-argument', /runAsync cannot run a pipeline loaded with options\.externs.*use run\(\)/);
  withExterns.dispose();
  const t = caseNamed('traced');
  const traced = await Pipeline.load(wasmBytes(t.module), optionsFor(t, { ...quiet, trace: () => {} }));
  await rejectsWith(traced.runAsync(prepare(t).args), 'bad-argument', /options\.trace/);
  traced.dispose();

  // The pipeline still works.
  await p.runAsync(args);
  checkOutputs(c, outputs);
  p.dispose();
  await rejectsWith(call(args), 'disposed', /brighten_u8: this Pipeline was disposed/);
});

test('an output array detached while the call is in flight: a rejection, nothing written', async () => {
  const c = caseNamed('two_outputs');
  const p = await Pipeline.load(wasmBytes(c.module), quiet);
  try {
    const { args, outputs } = prepare(c);
    outputs[1].data.fill(3);
    const pending = p.runAsync(args);
    structuredClone(outputs[0].data.buffer, { transfer: [outputs[0].data.buffer] });
    await rejectsWith(pending, 'bad-argument', /its array was detached or transferred while runAsync ran; no output was written/);
    assert.ok(outputs[1].data.every((v) => v === 3), 'the other output is untouched');
  } finally {
    p.dispose();
  }
});

test('a throwing print rejects the call as a callback error; outputs untouched', async () => {
  const c = caseNamed('too_small');
  const thrown = new Error('print is broken');
  const p = await Pipeline.load(wasmBytes(c.module), {
    print: () => {
      throw thrown;
    },
    error: () => {},
  });
  try {
    const { args, outputs } = prepare(c);
    for (const o of outputs) o.data.fill(5);
    let sync;
    try {
      p.run(args);
    } catch (e) {
      sync = e;
    }
    assert.equal(sync.code, 'callback');
    // The run fails anyway; the print's throw is what the caller hears of, as with run.
    await assert.rejects(p.runAsync(args), (e) => {
      assert.ok(e instanceof HalideError);
      assert.equal(e.code, 'callback');
      assert.equal(e.message, sync.message);
      assert.equal(e.cause, thrown);
      return true;
    });
    for (const o of outputs) assert.ok(o.data.every((v) => v === 5));

  } finally {
    p.dispose();
  }
});

test('concurrent calls queue: one at a time, in call order, each with its own arguments', async () => {
  const c = caseNamed('brighten_u8');
  const p = await Pipeline.load(wasmBytes(c.module), quiet);
  try {
    const gains = [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4];
    const runs = gains.map((gain) => {
      const { args, outputs } = prepare(c);
      return { args: { ...args, gain }, out: outputs[0].data };
    });
    const order = [];
    await Promise.all(runs.map((r, i) => p.runAsync(r.args).then(() => order.push(i))));
    assert.deepEqual(order, gains.map((_, i) => i), 'resolved in call order');
    for (const r of runs) {
      const { args, outputs } = prepare(c);
      p.run({ ...args, gain: r.args.gain });
      assert.deepEqual(r.out, outputs[0].data, `gain ${r.args.gain}`);
    }
    // The arguments were read when runAsync was called: changing them later changes nothing.
    const { args, outputs } = prepare(c);
    const pending = p.runAsync(args);
    const original = args.input.data.slice();
    args.input.data.fill(0);
    await pending;
    const ref = prepare(c);
    ref.args.input.data.set(original);
    p.run(ref.args);
    assert.deepEqual(outputs[0].data, ref.outputs[0].data);
  } finally {
    p.dispose();
  }
});

test('successive calls copy their own arrays into the buffers the runner handed back: each run sees its input, and output elements the pipeline does not write keep the caller\'s values', async () => {
  const c = caseNamed('brighten_u8');
  const p = await Pipeline.load(wasmBytes(c.module), quiet);
  try {
    for (let i = 0; i < 8; i++) {
      const { args, outputs } = prepare(c);
      args.input.data.forEach((_, j, a) => (a[j] = (j * 7 + i * 31) & 255));
      args.gain = 0.5 + (i % 6) * 0.5;
      // Every other call, an output array longer than the buffer: its tail is the caller's.
      const n = outputs[0].data.length;
      const out = new Uint8Array(i % 2 ? n + 64 : n).fill(100 + i);
      args.brighten_u8 = { ...args.brighten_u8, data: out };
      await p.runAsync(args);
      const ref = prepare(c);
      ref.args.input.data.set(args.input.data);
      p.run({ ...ref.args, gain: args.gain });
      assert.deepEqual(out.subarray(0, n), ref.outputs[0].data, `call ${i}`);
      assert.ok(out.subarray(n).every((v) => v === 100 + i), `call ${i}: the tail is untouched`);
    }
  } finally {
    p.dispose();
  }
});

test('one runner per pipeline, made on the first runAsync; dispose ends it (and its worker threads) and rejects the calls in flight', async () => {
  await until(() => liveRunners() === 0, 'no runner left by earlier tests');
  const c = caseNamed('bilateral_grid_threads');
  const p = await Pipeline.load(wasmBytes(c.module), { ...quiet, threads: 3 });
  assert.equal(liveRunners(), 0, 'load makes no runner');
  await p.runAsync(prepare(c).args);
  await p.runAsync(prepare(c).args);
  assert.equal(liveRunners(), 1, 'one runner');
  // The process's threads (Linux): the caller's 2 workers, the runner and its 2 workers.
  const threads = () => readdirSync('/proc/self/task').length;
  const linux = existsSync('/proc/self/task');
  const during = linux ? threads() : 0;
  const q = await Pipeline.load(wasmBytes('brighten_u8'), quiet);
  await q.runAsync(prepare(caseNamed('brighten_u8')).args);
  assert.equal(liveRunners(), 2, 'one runner per pipeline');
  q.dispose();

  const inFlight = [p.runAsync(prepare(c).args), p.runAsync(prepare(c).args)];
  p.dispose();
  for (const r of inFlight) await rejectsWith(r, 'disposed', /this Pipeline was disposed/);
  await until(() => liveRunners() === 0, 'dispose ended the runners');
  if (linux) await until(() => threads() <= during - 5, `the runner's and the pipeline's worker threads ended (${during} threads before dispose)`);
  await rejectsWith(p.runAsync(prepare(c).args), 'disposed', /disposed/);
});

test('a pipeline dropped without dispose: the garbage collector ends its runner', () => {
  const script = `
    const { Pipeline } = require('halide-wasm-executor');
    const { liveRunners } = require('./lib/runner-node.cjs');
    const bytes = require('fs').readFileSync('fixtures/brighten_u8.wasm');
    (async () => {
      await (async () => {
        const p = await Pipeline.load(bytes);
        const w = 4, h = 4;
        await p.runAsync({ input: { data: new Uint8Array(w * h * 3), shape: [w, h, 3] }, brighten_u8: { data: new Uint8Array(w * h * 3), shape: [w, h, 3] } });
      })();
      const made = liveRunners();
      for (let i = 0; i < 50 && liveRunners() > 0; i++) { gc(); await new Promise((r) => setTimeout(r, 20)); }
      console.log(JSON.stringify({ made, left: liveRunners() }));
    })();`;
  const r = spawnSync(process.execPath, ['--expose-gc', '-e', script], { cwd: new URL('../../', import.meta.url), encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { made: 1, left: 0 });
});

test('the process exits with an idle runner, and waits for a call in flight (CommonJS entry)', () => {
  const script = `
    const { Pipeline } = require('halide-wasm-executor');
    const fs = require('node:fs');
    const path = require('node:path');
    const dir = ${JSON.stringify(fixturesDir)};
    const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
    const c = m.cases.find((c) => c.name === 'par_blur_u16_threads');
    const input = new Uint16Array(new Uint8Array(fs.readFileSync(path.join(dir, c.args.input.file))).buffer);
    const out = new Uint16Array(input.length);
    Pipeline.load(fs.readFileSync(path.join(dir, m.modules[c.module].wasm)), { threads: 2 })
      .then((p) => p.runAsync({ input: { data: input, shape: c.args.input.shape }, par_blur_u16: { data: out, shape: c.args.input.shape } }))
      .then(() => console.log('ok', out.some((v) => v !== 0)));
  `;
  const t0 = Date.now();
  const r = spawnSync(process.execPath, ['-e', script], { cwd: fixturesDir, encoding: 'utf8', timeout: 30_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'ok true', r.stderr);
  assert.doesNotMatch(r.stderr, /Warning/, 'no warnings (require of the ES module run-async.mjs)');
  assert.ok(Date.now() - t0 < 20_000);
});

test('Pipeline.load([threaded, serial]) loads the first the host can run: in Node, the first', async () => {
  const threaded = wasmBytes('bilateral_grid_threads');
  const serial = wasmBytes('bilateral_grid');
  const a = await Pipeline.load([threaded, serial], quiet);
  assert.equal(a.name, 'bilateral_grid_threads');
  a.dispose();
  const b = Pipeline.loadSync([serial, threaded], quiet);
  assert.equal(b.name, 'bilateral_grid');
  b.dispose();
  const d = await Pipeline.load([Promise.resolve(threaded)], quiet);
  assert.equal(d.name, 'bilateral_grid_threads');
  const c = caseNamed('bilateral_grid_threads');
  const { args, outputs } = prepare(c);
  await d.runAsync(args);
  checkOutputs(c, outputs);
  d.dispose();
  await rejectsWith(Pipeline.load([], quiet), 'bad-argument', /an empty list of modules/);
  assert.throws(() => Pipeline.loadSync([], quiet), (e) => e instanceof HalideError && e.code === 'bad-argument');
  // A broken first build is an error, not a reason to take the next.
  await rejectsWith(Pipeline.load([new Uint8Array([0, 97, 115, 109, 9, 9, 9, 9]), serial], quiet), 'bad-module', /not a valid WebAssembly module/);
});

// A threaded pipeline's memory is shared: runAsync copies each array straight
// into regions of the runner's guest memory and the outputs straight out.
// The runner's stats (a diagnostic) show the regions and its heap.
const runnerStats = (p) => p[Symbol.for('halide-wasm-executor.runnerStats')]();

/** par_blur_u16's arguments for a w×h input of its own pattern `k`, and the output `run` gives on this thread. */
function blurCase(p, w, h, k) {
  const input = new Uint16Array(w * h).map((_, j) => (j * 37 + k * 1009) & 0xffff);
  const args = { input: { data: input, shape: [w, h] }, par_blur_u16: { data: new Uint16Array(w * h), shape: [w, h] } };
  const ref = new Uint16Array(w * h);
  p.run({ input: { data: input.slice(), shape: [w, h] }, par_blur_u16: { data: ref, shape: [w, h] } });
  return { args, out: args.par_blur_u16.data, ref };
}

for (const threads of [1, 2, 4]) {
  test(`runAsync (threaded, ${threads} thread${threads > 1 ? 's' : ''}): the arrays go through regions of the runner's shared memory, reused from call to call; native Halide's outputs`, async () => {
    for (const name of ['par_blur_u16_threads', 'bilateral_grid_threads', 'local_laplacian_threads']) {
      const c = caseNamed(name);
      const p = await Pipeline.load(wasmBytes(c.module), optionsFor(c, { ...quiet, threads }));
      try {
        let first = null;
        for (let i = 0; i < 3; i++) {
          const a = prepare(c);
          const inputs = Object.values(a.args).filter((x) => x && x.data && !a.outputs.some((o) => o.data === x.data));
          const before = inputs.map((x) => x.data.slice());
          await p.runAsync(a.args);
          checkOutputs(c, a.outputs);
          inputs.forEach((x, j) => assert.deepEqual(x.data, before[j], 'inputs are untouched'));
          const st = await runnerStats(p);
          const bytes = Object.values(a.args).reduce((n, x) => n + (x?.data?.byteLength ?? 0), 0);
          assert.equal(st.regions, Object.values(a.args).filter((x) => x?.data).length, `${name}: one region per array`);
          assert.equal(st.regionBytes, bytes, `${name}: regions of the arrays' byte lengths`);
          assert.ok(st.heapInUseBytes >= bytes, `${name}: the regions are in the runner's guest heap`);
          if (first === null) first = st;
          else assert.equal(st.heapInUseBytes, first.heapInUseBytes, `${name}: call ${i}: the same regions again, nothing more held`);
        }
      } finally {
        p.dispose();
      }
    }
  });
}

test('runAsync (threaded): successive calls and calls of other shapes each see their own input; a strided output keeps the caller\'s values where the pipeline does not write; no guest memory leaks over many calls', async () => {
  const p = await Pipeline.load(wasmBytes('par_blur_u16_threads'), { ...quiet, threads: 2 });
  try {
    const shapes = [[256, 192], [256, 192], [100, 37], [256, 192], [64, 300], [64, 300], [72, 16]];
    let heap = null;
    for (let round = 0; round < 4; round++) {
      for (const [i, [w, h]] of shapes.entries()) {
        const { args, out, ref } = blurCase(p, w, h, round * 10 + i);
        await p.runAsync(args);
        assert.deepEqual(out, ref, `round ${round}, call ${i} (${w}×${h})`);
      }
      // An output whose rows are 8 elements apart: the gaps are the caller's.
      const [w, h] = [64, 30];
      const { args, ref } = blurCase(p, w, h, 99 + round);
      const out = new Uint16Array((w + 8) * h).fill(7);
      args.par_blur_u16 = { data: out, shape: [w, h], strides: [1, w + 8] };
      await p.runAsync(args);
      for (let y = 0; y < h; y++) {
        assert.deepEqual(out.subarray(y * (w + 8), y * (w + 8) + w), ref.subarray(y * w, (y + 1) * w), `row ${y}`);
        assert.ok(out.subarray(y * (w + 8) + w, (y + 1) * (w + 8)).every((v) => v === 7), `the gap after row ${y}`);
      }
      const st = await runnerStats(p);
      assert.ok(st.regions <= 2, 'the regions of the last call only');
      // After the first round the heap holds the same again (the allocator may keep what it freed).
      if (round === 1) heap = st.heapInUseBytes;
      if (round > 1) assert.equal(st.heapInUseBytes, heap, `round ${round}: no guest memory leaked`);
    }
  } finally {
    p.dispose();
  }
});

test('runAsync (threaded): concurrent calls each run on their own arguments, read when runAsync was called, and resolve in call order', async () => {
  const p = await Pipeline.load(wasmBytes('par_blur_u16_threads'), { ...quiet, threads: 2 });
  try {
    for (let round = 0; round < 2; round++) {
      const shapes = [[256, 192], [256, 192], [64, 40], [256, 192], [64, 40]];
      const cases = shapes.map(([w, h], i) => blurCase(p, w, h, round * 100 + i));
      const order = [];
      const all = cases.map((c, i) => p.runAsync(c.args).then(() => order.push(i)));
      // The caller may reuse its arrays at once.
      for (const c of cases) c.args.input.data.fill(0);
      await Promise.all(all);
      assert.deepEqual(order, [0, 1, 2, 3, 4]);
      cases.forEach((c, i) => assert.deepEqual(c.out, c.ref, `round ${round}, call ${i}`));
    }
  } finally {
    p.dispose();
  }
});

test('runAsync (threaded): an abort leaves the outputs untouched, the runner makes a fresh memory and new regions, the next calls run', async () => {
  const c = caseNamed('bilateral_grid_threads');
  const p = await Pipeline.load(wasmBytes(c.module), { ...quiet, threads: 2 });
  try {
    const good = prepare(c);
    await p.runAsync(good.args);
    checkOutputs(c, good.outputs);
    const before = await runnerStats(p);
    for (let i = 0; i < 2; i++) {
      const bad = prepare(c);
      const out = bad.outputs[0].data;
      out.fill(-1);
      const { shape } = bad.args.input;
      // The same byte length as a good input: its region is the one the last call used.
      bad.args.input = { data: new Float32Array(shape[0] * shape[1]).fill(0.5), shape: [shape[0] / 2, shape[1]], strides: [2, shape[0]] };
      await rejectsWith(p.runAsync(bad.args), 'abort', /input\.stride\.0 \(2\) == 1/);
      assert.ok(out.every((v) => v === -1), 'outputs untouched');
      const again = prepare(c);
      again.outputs[0].data.fill(3);
      await p.runAsync(again.args);
      checkOutputs(c, again.outputs);
      const after = await runnerStats(p);
      assert.equal(after.generation, before.generation + i + 1, 'a fresh memory each time');
      assert.equal(after.regions, 2, 'input and output');
    }
    // Concurrent: a failing call between good ones.
    const a = prepare(c);
    const b = prepare(c);
    b.outputs[0].data.fill(-1);
    b.args.input = { ...b.args.input, strides: [2, 512] };
    const d = prepare(c);
    const r = await Promise.allSettled([p.runAsync(a.args), p.runAsync(b.args), p.runAsync(d.args)]);
    assert.deepEqual(r.map((x) => x.status), ['fulfilled', 'rejected', 'fulfilled']);
    checkOutputs(c, a.outputs);
    assert.ok(b.outputs[0].data.every((v) => v === -1));
    checkOutputs(c, d.outputs);
  } finally {
    p.dispose();
  }
});

test('runAsync (threaded): an array too big for maxMemoryBytes is a clear out-of-memory HalideError, nothing written; the pipeline goes on', async () => {
  const p = await Pipeline.load(wasmBytes('par_blur_u16_threads'), { ...quiet, threads: 2, maxMemoryBytes: 16 << 20 });
  try {
    const ok = blurCase(p, 256, 192, 1);
    await p.runAsync(ok.args);
    assert.deepEqual(ok.out, ok.ref);
    const [w, h] = [2048, 2048]; // 8 MiB each way: 16 MiB with the module's own
    const out = new Uint16Array(w * h).fill(5);
    await assert.rejects(p.runAsync({ input: { data: new Uint16Array(w * h), shape: [w, h] }, par_blur_u16: { data: out, shape: [w, h] } }), (e) => {
      assert.ok(e instanceof HalideError, String(e));
      assert.equal(e.code, 'out-of-memory', e.message);
      assert.match(e.message, /runAsync: argument '(input|par_blur_u16)' \(8388608 bytes\) cannot be placed in the pipeline's memory/);
      return true;
    });
    assert.ok(out.every((v) => v === 5), 'output untouched');
    const again = blurCase(p, 256, 192, 2);
    await p.runAsync(again.args);
    assert.deepEqual(again.out, again.ref);
  } finally {
    p.dispose();
  }
});

test('runAsync (threaded): dispose while the first call waits for its regions, or while calls are queued, rejects them all', async () => {
  const p = await Pipeline.load(wasmBytes('par_blur_u16_threads'), { ...quiet, threads: 2 });
  const calls = [0, 1, 2].map((i) => blurCase(p, 64, 64, i));
  const outs = calls.map((c) => c.out.fill(9));
  const pending = calls.map((c) => p.runAsync(c.args));
  p.dispose();
  for (const r of pending) await rejectsWith(r, 'disposed', /this Pipeline was disposed/);
  assert.ok(outs.every((o) => o.every((v) => v === 9)), 'outputs untouched');
});
