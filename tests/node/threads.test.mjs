// Threaded Halide modules (`wasm_threads`) on worker threads in Node: real
// Halide pipelines (a parallel blur, Halide's own bilateral_grid and
// local_laplacian apps) on 1, 2 and 4 threads against native Halide and
// their serial builds; failures on a worker thread; no worker outliving its
// pipeline; the options that go with threads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { Pipeline, HalideError } from 'halide-wasm-executor';
import { manifest, wasmBytes, caseNamed, prepare, compare } from './fixtures.mjs';
import { wat, metadataBlock, dataString } from './handmade.mjs';

const require = createRequire(import.meta.url);
const { liveWorkers } = require('../../lib/threads-node.cjs');
const { liveInstances } = require('../../lib/executor-node.cjs');
const quiet = { print: () => {} };

const threadedCases = manifest.cases.filter((c) => manifest.modules[c.module].threads);

/** Waits until `liveWorkers()` is `n` (workers exit asynchronously after terminate()). */
async function workersBecome(n) {
  for (let i = 0; i < 200 && liveWorkers() !== n; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(liveWorkers(), n, 'live worker threads');
}

test('the fixtures include threaded modules of Halide apps', () => {
  const names = threadedCases.map((c) => c.module).sort();
  assert.deepEqual(names, [
    'bilateral_grid_threads',
    'demo_bilateral_threads', // the demo page's (scripts/demo_pipelines.py)
    'demo_gaussian_blur_threads',
    'demo_local_laplacian_threads',
    'local_laplacian_threads',
    'par_blur_u16_threads',
  ]);
});

for (const c of threadedCases) {
  test(`${c.name} on 1, 2 and 4 threads equals native Halide and its serial build`, async () => {
    const base = liveWorkers();
    const serialCase = caseNamed(c.name.replace(/_threads$/, ''));
    const serial = Pipeline.loadSync(wasmBytes(serialCase.module), quiet);
    const s = prepare(serialCase);
    serial.run(s.args);
    for (const threads of [1, 2, 4]) {
      const p = threads === 2 ? await Pipeline.load(wasmBytes(c.module), { ...quiet, threads }) : Pipeline.loadSync(wasmBytes(c.module), { ...quiet, threads });
      assert.equal(liveWorkers(), base + threads - 1, `${threads} threads: the pool is started at load`);
      for (let run = 0; run < 2; run++) {
        const { args, outputs } = prepare(c);
        p.run(args);
        for (const [i, o] of outputs.entries()) {
          assert.equal(compare(o.type, o.data, o.expected, c.tolerance), null, `${c.name}, ${threads} threads, run ${run}: ${o.name} vs native`);
          assert.equal(compare(o.type, o.data, s.outputs[i].data, 0), null, `${c.name}, ${threads} threads: bit-exact with the serial build`);
        }
      }
      p.dispose();
      await workersBecome(base);
    }
  });
}

test('threads: 1 runs a threaded module on the calling thread alone', async () => {
  const base = liveWorkers();
  const c = caseNamed('par_blur_u16_threads');
  const p = Pipeline.loadSync(wasmBytes(c.module), { ...quiet, threads: 1 });
  assert.equal(liveWorkers(), base);
  const { args, outputs } = prepare(c);
  p.run(args);
  assert.equal(compare(outputs[0].type, outputs[0].data, outputs[0].expected), null);
});

test("HL_NUM_THREADS follows options.threads, whatever the caller's env says", async () => {
  const base = liveWorkers();
  const c = caseNamed('par_blur_u16_threads');
  // Halide sizes its pool from HL_NUM_THREADS: 8 would ask for 7 workers of a pool of 1.
  const p = Pipeline.loadSync(wasmBytes(c.module), { ...quiet, threads: 2, env: { HL_NUM_THREADS: '8' } });
  const { args, outputs } = prepare(c);
  p.run(args);
  assert.equal(compare(outputs[0].type, outputs[0].data, outputs[0].expected), null);
  p.dispose();
  await workersBecome(base);
});

test('threaded modules: the options that cannot go with threads are clear errors', async () => {
  const bytes = wasmBytes('par_blur_u16_threads');
  const fails = async (fn, code, re) => {
    await assert.rejects(async () => fn(), (e) => e instanceof HalideError && e.code === code && re.test(e.message));
  };
  await fails(() => Pipeline.load(new WebAssembly.Module(bytes)), 'bad-argument', /threaded module .* from its bytes/);
  await fails(() => Pipeline.load(bytes, { threads: 2, trace: () => 0 }), 'bad-argument', /threads: 1/);
  await fails(() => Pipeline.load(bytes, { threads: 0 }), 'bad-argument', /option 'threads'/);
  await fails(() => Pipeline.load(bytes, { threads: 2, maxMemoryBytes: 65536 }), 'out-of-memory', /limit 65536/);
  // Tracing on one thread is fine.
  (await Pipeline.load(bytes, { trace: () => 0 })).dispose();
});

test('maxMemoryBytes caps a threaded module\'s shared memory', async () => {
  const base = liveWorkers();
  const c = caseNamed('bilateral_grid_threads');
  const cap = 8 << 20;
  const p = Pipeline.loadSync(wasmBytes(c.module), { ...quiet, threads: 2, maxMemoryBytes: cap });
  const { args, outputs } = prepare(c);
  p.run(args);
  assert.equal(compare(outputs[0].type, outputs[0].data, outputs[0].expected, c.tolerance), null);
  assert.ok(p.stats().memoryBytes <= cap, `${p.stats().memoryBytes} <= ${cap}`);
  p.dispose();
  await workersBecome(base);
});

// ------------------------------------------------------------- failures

/**
 * A hand-made threaded pipeline `f(how, out)`: how 0 writes 42 to out[0];
 * otherwise it runs table function `how` on a worker thread
 * (pthread_create + pthread_join): 1 traps, 2 prints an error and aborts.
 */
function faulty() {
  const { bytes, pointer } = metadataBlock('f', [{ name: 'how' }, { name: 'out', kind: 'output', dimensions: 1 }]);
  const msg = 'Error: failed on a worker\n';
  return wat(`(module
    (import "env" "memory" (memory 4 1000 shared))
    (import "env" "pthread_create" (func $create (param i32 i32 i32 i32) (result i32)))
    (import "env" "pthread_join" (func $join (param i32 i32) (result i32)))
    (import "env" "write" (func $write (param i32 i32 i32) (result i32)))
    (import "env" "abort" (func $abort))
    (import "env" "malloc" (func $malloc (param i32) (result i32)))
    (global (export "__stack_pointer") (mut i32) (i32.const 65536))
    (global (export "__heap_base") i32 (i32.const 131072))
    (table (export "__indirect_function_table") 3 funcref)
    (elem (i32.const 1) $trap $aborts)
    (data (i32.const 1024) "${dataString(bytes)}")
    (data (i32.const 60000) "${msg.replace('\n', '\\0a')}")
    (func $trap (param i32) (result i32) unreachable)
    (func $aborts (param i32) (result i32)
      (drop (call $write (i32.const 2) (i32.const 60000) (i32.const ${msg.length})))
      (call $abort)
      (i32.const 0))
    (func (export "f_metadata") (result i32) (i32.const ${pointer}))
    (func (export "f_argv") (param $argv i32) (result i32)
      (local $how i32)
      (local.set $how (i32.load (i32.load (local.get $argv))))
      (if (local.get $how) (then
        (drop (call $create (i32.const 200) (i32.const 0) (local.get $how) (i32.const 0)))
        (drop (call $join (i32.load (i32.const 200)) (i32.const 0)))))
      (i32.store (i32.load offset=12 (i32.load offset=4 (local.get $argv))) (i32.const 42))
      (i32.const 0)))`);
}

test('a trap or an abort on a worker thread ends the run with a HalideError; the next run gets a fresh pool', async () => {
  const base = liveWorkers();
  const instances = liveInstances();
  const p = Pipeline.loadSync(faulty(), { ...quiet, threads: 2 });
  const run = (how) => {
    const out = { data: new Int32Array(1).fill(-1), shape: [1] };
    p.run({ how, out });
    return out.data[0];
  };
  assert.equal(run(0), 42);
  for (const [how, code, re] of [[1, 'trap', /on a worker thread: .*unreachable/], [2, 'abort', /failed on a worker/]]) {
    const out = { data: new Int32Array(1).fill(-1), shape: [1] };
    assert.throws(() => p.run({ how, out }), (e) => e instanceof HalideError && e.code === code && re.test(e.message), `how ${how}`);
    assert.equal(out.data[0], -1, 'output untouched');
    await workersBecome(base);
    assert.equal(run(0), 42, 'usable afterwards');
    assert.equal(liveWorkers(), base + 1, 'a fresh pool');
  }
  p.dispose();
  await workersBecome(base);
  assert.equal(liveInstances(), instances, 'no instance outlives the pipeline');
});
