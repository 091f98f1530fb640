// `npm run bench`: halide-wasm-executor against its baselines, side by side.
//
//   node bench/run.mjs [--quick] [--out FILE] [--no-native]
//
// --quick (or BENCH_QUICK=1) runs reduced sizes in a few seconds. The table is
// printed and written as JSON to bench/results/latest.json (or --out FILE /
// BENCH_OUT). Every pair of contenders is measured in this one process,
// alternating the two (the order flips every round), and each figure is the
// median over the rounds. Outputs of the two hosts are compared before any
// timing; a mismatch is reported in the row and makes the exit code 1. Speed
// never does. See bench/README.md for what each row means.
import { readFileSync, readdirSync, statSync, mkdirSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import os from 'node:os';
import { Pipeline } from '../lib/node.mjs';
import { PlainHost } from './plain-host.mjs';
import { fill, fnv1a, threadedArgs as argsFor } from './data.mjs';
import { CHROMIUM, launchChromium } from '../scripts/chromium.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const FIXTURES = join(ROOT, 'fixtures');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const outIdx = argv.indexOf('--out');
const OUT = outIdx >= 0 ? argv[outIdx + 1] : process.env.BENCH_OUT || join(HERE, 'results', 'latest.json');
const NO_NATIVE = argv.includes('--no-native') || process.env.BENCH_NO_NATIVE === '1';

const MiB = 1 << 20;
const SIZES = QUICK
  ? { blur: [256, 256], brighten: [256, 256], libm: 1 << 16, multistage: [256, 256], tinyCalls: 1000,
      marshal: [1 * MiB, 4 * MiB], rounds: 3, sampleMs: 4, loadRounds: 3 }
  : { blur: [1920, 1080], brighten: [1920, 1080], libm: 1 << 20, multistage: [1024, 1024], tinyCalls: 10000,
      marshal: [8 * MiB, 64 * MiB], rounds: 9, sampleMs: 25, loadRounds: 9 };
// Threaded modules (wasm_threads): the bench size of each, and the issue's targets.
const THREADED = QUICK
  ? { par_blur_u16: [256, 192], bilateral_grid: [256, 192], local_laplacian: [256, 192, 3] }
  : { par_blur_u16: [1536, 1024], bilateral_grid: [1536, 1024], local_laplacian: [1536, 1024, 3] };
const TARGET_SPEEDUP = 0.59; // 2 threads at least 1.7x faster than 1 (1 / 1.7 = 0.588)
const TARGET_POOL_MS = 50;
const TARGET_PLAIN = 1.05;
const TARGET_MARSHAL = 1.2;

const manifest = JSON.parse(readFileSync(join(FIXTURES, 'manifest.json'), 'utf8'));
const wasm = (module) => readFileSync(join(FIXTURES, manifest.modules[module].wasm));
const quiet = { print: () => {} };
let mismatches = 0;

// ---- measurement -----------------------------------------------------------
const now = () => performance.now();
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** How many calls make one sample last about `ms`. */
function repsFor(fns, ms) {
  let worst = 0;
  for (const f of fns) {
    const t = now();
    f();
    worst = Math.max(worst, now() - t);
  }
  return Math.max(1, Math.min(100000, Math.ceil(ms / Math.max(worst, 1e-4))));
}

/**
 * Times each contender (`{ name: fn }`) for `rounds` rounds of `reps` calls,
 * rotating which goes first every round. Returns `{ name: median ms per call }`
 * and the per-round samples.
 */
function sideBySide(contenders, { rounds = SIZES.rounds, reps } = {}) {
  const names = Object.keys(contenders);
  const fns = names.map((n) => contenders[n]);
  for (const f of fns) f(); // warm up
  reps ??= repsFor(fns, SIZES.sampleMs);
  for (const f of fns) for (let j = 0; j < reps; j++) f(); // one unrecorded round (JIT tiers, GC)
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const i = (k + r) % names.length;
      const f = fns[i];
      const t = now();
      for (let j = 0; j < reps; j++) f();
      samples[names[i]].push((now() - t) / reps);
    }
  }
  const med = Object.fromEntries(names.map((n) => [n, median(samples[n])]));
  return { med, samples, reps, rounds };
}

async function sideBySideAsync(contenders, rounds) {
  const names = Object.keys(contenders);
  for (const n of names) await contenders[n]();
  const samples = Object.fromEntries(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(k + r) % names.length];
      const t = now();
      await contenders[n]();
      samples[n].push(now() - t);
    }
  }
  return { med: Object.fromEntries(names.map((n) => [n, median(samples[n])])), samples, rounds };
}

// ---- data ------------------------------------------------------------------
function compare(a, b, tol) {
  let worst = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    const scale = Math.max(1, Math.abs(b[i]));
    if (!(d <= tol * scale)) return { ok: false, at: i, ours: a[i], plain: b[i] };
    worst = Math.max(worst, d / scale);
  }
  return { ok: true, worst };
}

// ---- rows --------------------------------------------------------------------
const rows = [];
function row(r) {
  const out = {
    id: r.id, group: r.group, row: r.row, unit: r.unit ?? 'ms',
    ours: r.ours ?? null, baseline: r.baseline ?? null, baselineName: r.baselineName ?? null,
    ratio: r.ratio ?? (r.ours != null && r.baseline != null ? r.ours / r.baseline : null),
    target: r.target ?? null, met: null, note: r.note ?? '', ...r.extra,
  };
  if (out.target != null && out.ratio != null) out.met = out.ratio <= out.target;
  rows.push(out);
  return out;
}

/** A float32 pipeline of libm calls on 1M random floats in [-3, 3]. */
function libmBench(module) {
  return {
    module, libm: true, label: `${module} ${SIZES.libm >= MiB ? SIZES.libm / MiB + 'M' : SIZES.libm / 1024 + 'K'} f32`,
    make: () => ({ inputs: { input: { data: fill(Float32Array, SIZES.libm, 3, -3, 3), shape: [SIZES.libm] } },
      out: { A: Float32Array, shape: [SIZES.libm] }, tol: 2e-5 }),
  };
}

const FIXTURE_BENCHES = [
  {
    module: 'bench_blur_u16', label: `bench_blur_u16 ${SIZES.blur.join('x')} u16`,
    make: () => ({ inputs: { input: { data: fill(Uint16Array, SIZES.blur[0] * SIZES.blur[1], 1, 0, 65536), shape: SIZES.blur } },
      out: { A: Uint16Array, shape: SIZES.blur }, tol: 0 }),
  },
  {
    module: 'bench_brighten_rgb', label: `bench_brighten_rgb ${SIZES.brighten.join('x')}x3 u8`,
    make: () => {
      const shape = [...SIZES.brighten, 3];
      return { inputs: { input: { data: fill(Uint8Array, shape[0] * shape[1] * 3, 2, 0, 256), shape }, gain: 1.3 },
        out: { A: Uint8Array, shape }, tol: 0 };
    },
  },
  libmBench('bench_libm_f32'),
  // Sixteen libm calls per element (the issue's "16 libm calls" example).
  libmBench('bench_libm16_f32'),
  // One libm function alone per element: where the libm row's time goes
  // (and how each function compares with native Halide's, glibc's).
  ...['bench_sinf', 'bench_cosf', 'bench_atan2f'].map(libmBench),
  {
    module: 'bench_multistage', label: `bench_multistage ${SIZES.multistage.join('x')} f32`,
    make: () => ({ inputs: { input: { data: fill(Float32Array, SIZES.multistage[0] * SIZES.multistage[1], 4, 0, 1), shape: SIZES.multistage } },
      out: { A: Float32Array, shape: SIZES.multistage }, tol: 1e-6 }),
  },
  {
    module: 'bench_tiny', label: `bench_tiny 4x4 i32 x${SIZES.tinyCalls}`, perCall: true,
    make: () => ({ inputs: { input: { data: Int32Array.from({ length: 16 }, (_, i) => i), shape: [4, 4] }, k: 3 },
      out: { A: Int32Array, shape: [4, 4] }, tol: 0 }),
  },
];

const oursTimes = {}; // module -> ms per run (or per call), for the native rows

async function plainRows() {
  for (const b of FIXTURE_BENCHES) {
    const bytes = wasm(b.module);
    const p = await Pipeline.load(bytes, quiet);
    const h = await PlainHost.load(bytes, quiet);
    const { inputs, out, tol } = b.make();
    const n = out.shape.reduce((a, e) => a * e, 1);
    const mine = new out.A(n), theirs = new out.A(n);
    const argsOurs = { ...inputs, [b.module]: { data: mine, shape: out.shape } };
    const argsPlain = { ...inputs, [b.module]: { data: theirs, shape: out.shape } };
    p.run(argsOurs);
    h.run(argsPlain);
    const cmp = compare(mine, theirs, tol);
    const id = `plain:${b.module}`;
    if (!cmp.ok) {
      mismatches++;
      row({ id, group: 'plain host', row: `${b.label}`, target: TARGET_PLAIN,
        note: `OUTPUT MISMATCH at ${cmp.at}: ours ${cmp.ours}, plain ${cmp.plain}` });
      continue;
    }
    let r;
    if (b.perCall) {
      const calls = SIZES.tinyCalls;
      const { med } = sideBySide({ ours: () => p.run(argsOurs), plain: () => h.run(argsPlain) }, { reps: calls });
      r = row({ id, group: 'plain host', row: b.label, unit: 'us/call', ours: med.ours * 1e3, baseline: med.plain * 1e3,
        baselineName: 'plain JS host', target: TARGET_PLAIN,
        note: `per-call overhead: ours ${(med.ours * 1e3).toFixed(2)} us, plain ${(med.plain * 1e3).toFixed(2)} us` });
      oursTimes[b.module] = med.ours * 1e3;
    } else {
      const { med, reps } = sideBySide({ ours: () => p.run(argsOurs), plain: () => h.run(argsPlain) });
      const notes = [`${reps} run(s)/sample`];
      if (out.A === Float32Array) notes.push(`max rel diff ${cmp.worst.toExponential(1)}`);
      if (b.libm) notes.push('plain libm = Math.* (JS imports), ours = wasm libm exports');
      if (b.module === 'bench_multistage') {
        const s = p.stats();
        notes.push(`${s.memoryBytes >> 20} MiB guest memory`);
      }
      r = row({ id, group: 'plain host', row: b.label, ours: med.ours, baseline: med.plain,
        baselineName: 'plain JS host', target: TARGET_PLAIN, note: notes.join('; ') });
      oursTimes[b.module] = med.ours;
    }
    progress(r);
    p.dispose();
  }
}

// ---- marshalling -------------------------------------------------------------
async function marshalRows() {
  const bytes = wasm('bench_brighten_rgb');
  const p = await Pipeline.load(bytes, quiet);
  const h = await PlainHost.load(bytes, quiet);
  const hasAlloc = typeof p.allocBuffer === 'function';
  for (const size of SIZES.marshal) {
    const W = 1024, H = Math.round(size / (W * 3));
    const shape = [W, H, 3];
    const n = W * H * 3;
    const mib = `${Math.round(n / MiB)} MiB`;
    const src = fill(Uint8Array, n, 5, 0, 256);
    const dst = new Uint8Array(n);
    const args = { input: { data: src, shape }, gain: 1, bench_brighten_rgb: { data: dst, shape } };
    // The physical limit: two TypedArray.set calls through a wasm memory.
    const mem = new WebAssembly.Memory({ initial: Math.ceil((2 * n + 64) / 65536) });
    const memU8 = new Uint8Array(mem.buffer);
    // Every page written once, as a pipeline writes its output before it is
    // copied out: a page never written reads as the kernel's shared zero
    // page, which stays in cache and made the copy out look ~0.1 ms faster
    // at 8 MiB than any real one can be.
    memU8.fill(0x5a);
    const sets = () => {
      memU8.set(src, 0);
      dst.set(memU8.subarray(n, 2 * n));
    };
    // The pipeline alone, on buffers already in guest memory (plain host).
    const placed = h.place({ input: { data: src, shape }, gain: 1, bench_brighten_rgb: { data: new Uint8Array(n), shape } });
    const raw = () => h.call(placed);
    const plainDst = new Uint8Array(n);
    const plainArgs = { input: { data: src, shape }, gain: 1, bench_brighten_rgb: { data: plainDst, shape } };
    const contenders = { run: () => p.run(args), raw, sets, plain: () => h.run(plainArgs) };
    let bIn, bOut, zargs;
    if (hasAlloc) {
      bIn = p.allocBuffer('uint8', shape);
      bOut = p.allocBuffer('uint8', shape);
      bIn.data.set(src);
      zargs = { input: bIn, gain: 1, bench_brighten_rgb: bOut };
      contenders.zero = () => p.run(zargs);
    }
    // Correctness: gain 1 is the identity.
    p.run(args);
    let ok = compare(dst, src, 0).ok;
    if (hasAlloc) {
      p.run(zargs);
      ok = ok && compare(bOut.data, src, 0).ok;
    }
    if (!ok) {
      mismatches++;
      row({ id: `marshal:copy:${SIZES.marshal.indexOf(size)}`, group: 'marshalling', row: `run copy in+out ${mib}`, unit: 'GB/s',
        target: TARGET_MARSHAL, note: 'OUTPUT MISMATCH (gain 1 should copy the input)' });
      continue;
    }
    const { med, reps, samples } = sideBySide(contenders);
    const compute = hasAlloc ? med.zero : med.raw;
    // A copy time is the difference of two runs of ~the same length: taken
    // round by round (both measured in the same round), then the median,
    // which is steadier than the difference of the two medians.
    const paired = (a, b) => median(a.map((x, i) => x - b[i]));
    const tCopy = paired(samples.run, hasAlloc ? samples.zero : samples.raw);
    const tPlainCopy = paired(samples.plain, samples.raw);
    const gbps = (t) => (2 * n) / (t * 1e-3) / 1e9;
    const idx = SIZES.marshal.indexOf(size);
    progress(row({
      id: `marshal:copy:${idx}`, group: 'marshalling', row: `run copy in+out ${mib}`, unit: 'GB/s',
      ours: tCopy > 0 ? gbps(tCopy) : null, baseline: gbps(med.sets), baselineName: '2x TypedArray.set',
      ratio: tCopy / med.sets, target: TARGET_MARSHAL,
      note: `copy = median per round of run - ${hasAlloc ? 'zero-copy run' : 'raw call'} = ${tCopy.toFixed(2)} ms (medians ${med.run.toFixed(2)} and ${compute.toFixed(2)} ms); ` +
        `sets ${med.sets.toFixed(2)} ms; plain host's copies ${tPlainCopy.toFixed(2)} ms (${(tPlainCopy / med.sets).toFixed(2)}x sets)`,
      extra: { runMs: med.run, computeMs: compute, setsMs: med.sets, copyMs: tCopy, plainRunMs: med.plain, rawMs: med.raw,
        plainCopyMs: tPlainCopy, bytes: 2 * n, reps },
    }));
    if (hasAlloc) {
      progress(row({
        id: `marshal:alloc:${idx}`, group: 'marshalling', row: `allocBuffer run ${mib}`,
        ours: med.zero, baseline: med.raw, baselineName: 'plain host argv call, data in place',
        target: TARGET_PLAIN,
        note: `zero-copy run vs the bare pipeline call; copying run ${med.run.toFixed(2)} ms`,
      }));
      p.freeBuffer(bIn);
      p.freeBuffer(bOut);
    } else {
      row({ id: `marshal:alloc:${idx}`, group: 'marshalling', row: `allocBuffer run ${mib}`, note: 'not measured (no p.allocBuffer)' });
    }
    h.release(placed);
  }
  p.dispose();
}

// ---- load --------------------------------------------------------------------
async function loadRow() {
  // The largest serial module (a threaded one imports a shared memory the plain host does not make).
  const files = Object.values(manifest.modules).filter((m) => !m.threads).map((m) => m.wasm);
  const largest = files.map((f) => [f, statSync(join(FIXTURES, f)).size]).sort((a, b) => b[1] - a[1])[0];
  const bytes = readFileSync(join(FIXTURES, largest[0]));
  const plainEnv = () => new PlainHost(quiet).imports;
  const { med, rounds } = await sideBySideAsync({
    ours: async () => (await Pipeline.load(bytes, quiet)).dispose(),
    plain: async () => WebAssembly.instantiate(bytes, plainEnv()),
  }, SIZES.loadRounds * 3);
  progress(row({
    id: 'load', group: 'load', row: `load ${largest[0]} (${(largest[1] / 1024).toFixed(0)} KiB)`,
    ours: med.ours, baseline: med.plain, baselineName: 'WebAssembly.instantiate + JS imports',
    note: `Pipeline.load (compile, imports, metadata) vs WebAssembly.instantiate; median of ${rounds}`,
  }));
}

// ---- allocator ---------------------------------------------------------------
// The guest heap's allocator, compiled to wasm as it runs for a pipeline:
// mean cost of one malloc + free pair with 10, 1,000 and 100,000 live blocks
// of random sizes (16 B to 64 KiB). Target: the 100,000 row within 3 times
// the 10 row (a linear first-fit scan, like the C++ executor's, grows with
// the number of blocks).
async function allocatorRow() {
  const { benchAllocator } = createRequire(import.meta.url)('../lib/executor-node.cjs');
  const pairs = QUICK ? 20000 : 200000;
  const median = (live) => {
    const r = [];
    for (let i = 0; i < (QUICK ? 3 : 7); i++) r.push(benchAllocator(live, pairs, 1 + i));
    return r.sort((a, b) => a - b)[Math.floor(r.length / 2)];
  };
  const base = median(10);
  row({ id: 'allocator', group: 'allocator', row: 'malloc+free, 10 live blocks', unit: 'ns', ours: base, note: 'baseline of this group' });
  for (const live of [1000, 100000]) {
    const ns = median(live);
    progress(row({ id: `allocator:${live}`, group: 'allocator', row: `malloc+free, ${live.toLocaleString('en')} live blocks`, unit: 'ns',
      ours: ns, baseline: base, baselineName: '10 live blocks', target: live === 100000 ? 3 : null }));
  }
}

// ---- import calls ---------------------------------------------------------------
// Each row is a small hand-written module (assembled with binaryen) whose one
// JIT-flavour function calls an `env` import in a loop, so its time is the
// imports' own. Ours: the executor's import object (via Pipeline, entry +
// arguments); plain: the plain host's `env` functions, the same module
// instantiated directly.
const IMPORT_LOOPS = [
  { id: 'malloc', row: 'guest malloc(64)+malloc(200)+2x free', calls: 4,
    imports: ['(import "env" "malloc" (func $malloc (param i32) (result i32)))', '(import "env" "free" (func $free (param i32)))'],
    body: `(local.set $p (call $malloc (i32.const 64)))
           (local.set $q (call $malloc (i32.const 200)))
           (call $free (local.get $p))
           (call $free (local.get $q))` },
  { id: 'memcpy', row: 'guest memcpy 64 B', calls: 1,
    imports: ['(import "env" "memcpy" (func $memcpy (param i32 i32 i32) (result i32)))'],
    body: '(drop (call $memcpy (i32.const 8192) (i32.const 4096) (i32.const 64)))' },
  { id: 'sinf', row: 'guest sinf (random in [-3, 3])', calls: 1, data: 4,
    imports: ['(import "env" "sinf" (func $f (param f32) (result f32)))'],
    body: '(local.set $acc (f32.add (local.get $acc) (call $f (f32.load (local.get $a)))))' },
  { id: 'atan2f', row: 'guest atan2f (random in [-3, 3])', calls: 1, data: 8,
    imports: ['(import "env" "atan2f" (func $f (param f32 f32) (result f32)))'],
    body: '(local.set $acc (f32.add (local.get $acc) (call $f (f32.load (local.get $a)) (f32.load offset=4 (local.get $a)))))' },
];

function importLoop(spec) {
  // `data` rows read their arguments from 64 KiB of random floats at 65536,
  // `data` bytes further on each iteration (fresh values for every call:
  // repeated ones would train the branch predictor).
  const step = Math.log2(spec.data ?? 4);
  return `(module
    ${spec.imports.join('\n    ')}
    (memory (export "memory") 4)
    (global (export "__heap_base") i32 (i32.const 131072))
    (func (export "loop") (param $uc i32) (param $n i32) (result i32)
      (local $p i32) (local $q i32) (local $a i32) (local $acc f32)
      (block $done (loop $l
        (br_if $done (i32.eqz (local.get $n)))
        (local.set $a (i32.add (i32.const 65536) (i32.and (i32.shl (local.get $n) (i32.const ${step})) (i32.const ${65536 - (spec.data ?? 4)}))))
        ${spec.body}
        (local.set $n (i32.sub (local.get $n) (i32.const 1)))
        (br $l)))
      (i32.and (i32.reinterpret_f32 (local.get $acc)) (i32.const 0))))`;
}

async function importRows() {
  const { default: binaryen } = await import('binaryen');
  const n = QUICK ? 20000 : 200000;
  const args = [{ name: '__user_context', kind: 'scalar', type: 'handle' }, { name: 'n', kind: 'scalar', type: 'int32' }];
  for (const spec of IMPORT_LOOPS) {
    const m = binaryen.parseText(importLoop(spec));
    const bytes = m.emitBinary();
    m.dispose();
    const p = Pipeline.loadSync(bytes, { entry: 'loop', arguments: args });
    const h = new PlainHost(quiet);
    const { instance } = await WebAssembly.instantiate(bytes, h.imports);
    h.attachMemory(instance);
    const random = fill(Float32Array, 16384, 5, -3, 3);
    if (spec.data) {
      const mem = p.allocBuffer('float32', [1]); // any view of our guest's memory
      new Float32Array(mem.data.buffer, 65536, 16384).set(random);
      p.freeBuffer(mem);
      new Float32Array(instance.exports.memory.buffer, 65536, 16384).set(random);
    }
    const { med } = sideBySide({ ours: () => p.run({ n }), plain: () => instance.exports.loop(0, n) }, { reps: 1 });
    const per = (ms) => (ms * 1e6) / n / spec.calls;
    progress(row({ id: `import:${spec.id}`, group: 'import calls', row: spec.row, unit: 'ns',
      ours: per(med.ours), baseline: per(med.plain), baselineName: 'plain JS host', target: TARGET_PLAIN,
      note: `ns per import call, ${n.toLocaleString('en')} iterations${spec.id === 'malloc' ? '; ours: wasm exports + allocator cache, plain: JS bump + exact-size free lists' : ''}` }));
  }
}

// ---- threads (wasm_threads modules) ----------------------------------------------
/** Random inputs and outputs for a threaded fixture at `shape`, and its scalars as the fixture case has them. */
const threadedArgs = (name, shape) => argsFor(manifest.cases.find((k) => k.module === name), shape);

const threadTimes = {}; // name -> { serial, t1, t2 } ms
const threadSums = {}; // name -> checksum of the serial module's output (bench/data.mjs's inputs)

async function threadRows() {
  const group = 'threads (wasm_threads)';
  for (const [name, shape] of Object.entries(THREADED)) {
    const label = `${name} ${shape.slice(0, 2).join('x')}`;
    const serial = Pipeline.loadSync(wasm(name), quiet);
    const t1 = Pipeline.loadSync(wasm(`${name}_threads`), { ...quiet, threads: 1 });
    const t2 = Pipeline.loadSync(wasm(`${name}_threads`), { ...quiet, threads: 2 });
    const args = threadedArgs(name, shape);
    const outKey = Object.keys(args).find((k) => args[k].data && manifest.cases.find((c) => c.module === name).args[k].kind === 'output');
    const outs = {};
    for (const [k, p] of Object.entries({ serial, t1, t2 })) {
      p.run(args);
      outs[k] = args[outKey].data.slice();
    }
    const same = compare(outs.t2, outs.serial, 0).ok && compare(outs.t1, outs.serial, 0).ok;
    threadSums[name] = fnv1a(outs.serial);
    if (!same) mismatches++;
    const { med } = sideBySide({ serial: () => serial.run(args), t1: () => t1.run(args), t2: () => t2.run(args) });
    threadTimes[name] = med;
    const speedTarget = name === 'par_blur_u16' ? 1.0 : TARGET_SPEEDUP;
    progress(row({ id: `threads:${name}:2v1`, group, row: `${label}: 2 threads vs 1`, ours: med.t2, baseline: med.t1,
      baselineName: 'the same threaded module on 1 thread', target: speedTarget,
      note: `${same ? '' : 'OUTPUTS DIFFER; '}${(med.t1 / med.t2).toFixed(2)}x faster on 2 threads` }));
    progress(row({ id: `threads:${name}:1vserial`, group, row: `${label}: 1 thread vs serial build`, ours: med.t1, baseline: med.serial,
      note: 'what shared memory and the thread imports cost on one thread' }));
    for (const p of [serial, t1, t2]) p.dispose();
  }
  // Starting a pool of two: a load with threads 2 against the same load with threads 1.
  const bytes = wasm('par_blur_u16_threads');
  const one = [];
  const two = [];
  for (let r = 0; r < (QUICK ? 3 : 9); r++) {
    let t = now();
    Pipeline.loadSync(bytes, { ...quiet, threads: 1 }).dispose();
    one.push(now() - t);
    t = now();
    Pipeline.loadSync(bytes, { ...quiet, threads: 2 }).dispose();
    two.push(now() - t);
    await new Promise((res) => setTimeout(res, 20)); // let the terminated workers exit
  }
  const pool = median(two) - median(one);
  progress(row({ id: 'threads:pool', group, row: 'start a pool of 2 (load threads 2 - threads 1)', ours: pool, baseline: TARGET_POOL_MS,
    baselineName: null, target: 1, note: `target ${TARGET_POOL_MS} ms; load with 1 thread ${median(one).toFixed(1)} ms` }));
}

// ---- threads in Chromium (runAsync in a page) ---------------------------------------
const CHROMIUM_THREADED = ['bilateral_grid', 'local_laplacian'];

/**
 * The Chromium row: bench/browser/threads.mjs in a cross-origin isolated
 * page (scripts/serve.mjs) in headless Chromium (playwright-core), each
 * pipeline through `runAsync` on 1 and 2 threads, side by side.
 */
async function chromiumThreadRows() {
  const group = 'threads in Chromium (runAsync, isolated page)';
  const rowFor = (name, r = {}) => row({ id: `threads:chromium:${name}:2v1`, group, row: `${name} ${THREADED[name].slice(0, 2).join('x')}: 2 threads vs 1`, ...r });
  const skip = (why) => {
    process.stderr.write(`Chromium row: ${why}\n`);
    for (const name of CHROMIUM_THREADED) rowFor(name, { note: why });
  };
  if (!existsSync(CHROMIUM)) return skip(`skipped: ${CHROMIUM} is missing (apt-get install chromium)`);
  if (!existsSync(join(ROOT, 'pkg', 'web', 'halide_wasm_executor_bg.wasm'))) return skip('skipped: pkg/web is missing (node scripts/setup.mjs --build)');
  try {
    await import('playwright-core');
  } catch (e) {
    return skip(`skipped: playwright-core cannot be loaded (npm ci): ${e.message}`);
  }
  process.stderr.write('threads in Chromium...\n');
  const { startServer } = await import('../scripts/serve.mjs');
  const server = await startServer({ port: 0 });
  let browser;
  let results;
  try {
    browser = await launchChromium();
    const specs = CHROMIUM_THREADED.map((name) => ({ name: `${name}_threads`, module: `${name}_threads`, shape: THREADED[name] }));
    const rounds = QUICK ? 3 : 15;
    // A safety net, never needed so far: a page that gives no answer in
    // time is opened again, up to three times. (The idle pages of the wasm
    // tests came from wasm-bindgen-test-runner's server, see
    // scripts/wasm-browser-test.mjs; this page is served by serve.mjs.)
    const deadline = QUICK ? 60_000 : 300_000;
    for (let attempt = 1; attempt <= 3 && !results; attempt++) {
      const page = await browser.newPage();
      try {
        await page.goto(`${server.url}/bench/browser/index.html`);
        let timer;
        const idle = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${deadline / 1000} s`)), deadline)));
        try {
          results = await Promise.race([page.evaluate(async (a) => (await import('./threads.mjs')).benchThreads(a), { specs, rounds }), idle]);
        } finally {
          clearTimeout(timer);
        }
      } catch (e) {
        process.stderr.write(`Chromium row, attempt ${attempt}: ${e.message.split('\n')[0]}\n`);
        if (attempt === 3) return skip(`failed: ${e.message.split('\n')[0]}`);
      } finally {
        await page.close().catch(() => {});
      }
    }
  } catch (e) {
    return skip(`failed: ${e.message.split('\n')[0]}`);
  } finally {
    await browser?.close().catch(() => {});
    await server.close();
  }
  for (const name of CHROMIUM_THREADED) {
    const r = results.find((x) => x.name === `${name}_threads`);
    if (r.error) {
      rowFor(name, { note: `failed: ${r.error}` });
      continue;
    }
    const node = threadSums[name];
    const same = r.sum1 === r.sum2 && (node === undefined || r.sum1 === node);
    if (!same) mismatches++;
    progress(rowFor(name, {
      ours: r.t2, baseline: r.t1, baselineName: 'the same threaded module on 1 thread, runAsync in the page', target: TARGET_SPEEDUP,
      note: `${same ? '' : `OUTPUTS DIFFER (checksums 1 thread ${r.sum1}, 2 threads ${r.sum2}, Node ${node}); `}${(r.t1 / r.t2).toFixed(2)}x faster on 2 threads; run on the page's main thread (1 thread, no copies to a worker) ${r.main.toFixed(2)} ms`,
    }));
  }
}

/** Native Halide on 1 and 2 threads (bench/native_threads.py), against the threaded module on 2 threads. */
function nativeThreadRows() {
  const group = 'threads vs native Halide';
  const skip = (why) => {
    for (const name of Object.keys(THREADED)) {
      for (const n of [1, 2]) row({ id: `threads:native:${name}:${n}`, group, row: `${name}: native ${n} thread${n > 1 ? 's' : ''}`, note: why });
    }
  };
  if (NO_NATIVE) return skip('skipped (--no-native)');
  const native = {};
  for (const n of [1, 2]) {
    const r = spawnSync('python3', [join(HERE, 'native_threads.py'), JSON.stringify({ ...THREADED, runs: QUICK ? 3 : 9 })], {
      encoding: 'utf8', env: { ...process.env, HL_NUM_THREADS: String(n) }, timeout: QUICK ? 120000 : 600000,
    });
    try {
      native[n] = JSON.parse(r.stdout.trim().split('\n').pop()).rows;
    } catch {
      return skip(`skipped: bench/native_threads.py failed: ${(r.stderr ?? '').trim().split('\n').pop()}`);
    }
  }
  // Targets from the issue: bilateral grid on 2 threads faster than native on 1; local laplacian within 1.2 of it.
  const targets = { bilateral_grid: 1.0, local_laplacian: 1.2 };
  for (const [name, shape] of Object.entries(THREADED)) {
    const ours = threadTimes[name]?.t2 ?? null;
    const label = `${name} ${shape.slice(0, 2).join('x')}`;
    for (const n of [1, 2]) {
      const nat = native[n][name]?.native_ms ?? null;
      progress(row({ id: `threads:native:${name}:${n}`, group, row: `${label}: 2 threads vs native ${n} thread${n > 1 ? 's' : ''}`,
        ours, baseline: nat, baselineName: 'native Halide JIT (separate process)', target: n === 1 ? targets[name] ?? null : null,
        note: nat == null ? `native failed: ${native[n][name]?.native_error}` : `native ${n}: ${nat.toFixed(2)} ms; ours on 1 thread ${threadTimes[name]?.t1?.toFixed(2)} ms` }));
    }
  }
}

// ---- native Halide (bench/native.py) -------------------------------------------
function nativeRows() {
  const skipAll = (why) => {
    for (const b of FIXTURE_BENCHES) row({ id: `native:${b.module}`, group: 'native Halide', row: b.label, note: why });
    for (const b of FIXTURE_BENCHES) row({ id: `wasmjit:${b.module}`, group: 'Halide wasm JIT', row: b.label, note: why });
  };
  if (NO_NATIVE) return skipAll('skipped (--no-native)');
  const sizes = {
    blur: SIZES.blur, brighten: SIZES.brighten, libm: SIZES.libm, multistage: SIZES.multistage,
    tiny_calls: SIZES.tinyCalls, runs: QUICK ? 3 : 9,
  };
  process.stderr.write('native Halide (python3 bench/native.py)...\n');
  const r = spawnSync('python3', [join(HERE, 'native.py'), JSON.stringify(sizes)], {
    encoding: 'utf8', env: { ...process.env, HL_NUM_THREADS: '1' }, timeout: QUICK ? 120000 : 900000,
    maxBuffer: 1 << 24,
  });
  if (r.error || r.status !== 0) {
    const err = `${r.error?.message ?? ''}${r.stderr ?? ''}`;
    const why = /No module named '?halide/.test(err) || /ModuleNotFoundError|ImportError/.test(err)
      ? "skipped: python3 cannot 'import halide' (pip install halide)"
      : `skipped: bench/native.py failed: ${err.trim().split('\n').pop()}`;
    process.stderr.write(`${why}\n`);
    return skipAll(why);
  }
  let res;
  try {
    res = JSON.parse(r.stdout.trim().split('\n').pop());
  } catch {
    return skipAll('skipped: bench/native.py printed no JSON');
  }
  const jit = [];
  for (const b of FIXTURE_BENCHES) {
    const n = res.rows[b.module] ?? {};
    const unit = b.perCall ? 'us/call' : 'ms';
    const key = b.perCall ? '_us' : '_ms';
    const ours = oursTimes[b.module] ?? null;
    const nat = n['native' + key];
    progress(row({
      id: `native:${b.module}`, group: 'native Halide', row: b.label, unit, ours, baseline: nat ?? null,
      baselineName: `native Halide ${res.halide} JIT, 1 thread`,
      note: nat == null ? `native failed: ${n.native_error}`
        : `separate process; median of ${n.native_runs}${b.perCall ? '; includes the Python realize() call' : ''}`,
    }));
    const wj = n['wasm_jit' + key];
    jit.push(() => progress(row({
      id: `wasmjit:${b.module}`, group: 'Halide wasm JIT', row: b.label, unit, ours, baseline: wj ?? null,
      baselineName: "Halide's own wasm JIT executor",
      note: wj == null ? `Halide wasm JIT not available: ${n.wasm_jit_error}`
        : `${n.wasm_jit_target} via the pip package's JIT (WABT interpreter); median of ${n.wasm_jit_runs}${b.perCall ? ` x ${n.wasm_jit_calls} calls` : ''}`,
    })));
  }
  for (const f of jit) f();
}

// ---- output ------------------------------------------------------------------
function fmt(v, unit) {
  if (v == null || Number.isNaN(v)) return '-';
  if (unit === 'GB/s') return `${v.toFixed(2)} GB/s`;
  if (unit === 'us/call') return `${v.toFixed(2)} us`;
  if (unit === 'ns') return `${v.toFixed(0)} ns`;
  return v >= 100 ? `${v.toFixed(0)} ms` : v >= 1 ? `${v.toFixed(2)} ms` : `${v.toFixed(3)} ms`;
}

function progress(r) {
  if (process.env.BENCH_VERBOSE) process.stderr.write(`${r.row}: ${fmt(r.ours, r.unit)} vs ${fmt(r.baseline, r.unit)}\n`);
}

function table() {
  const head = ['row', 'ours', 'baseline', 'ratio', 'target', 'note'];
  const lines = [];
  let group = null;
  const body = [];
  for (const r of rows) {
    if (r.group !== group) {
      group = r.group;
      body.push({ group });
    }
    const ratio = r.ratio == null || !Number.isFinite(r.ratio) ? '-' : r.ratio.toFixed(3);
    const target = r.target == null ? '-' : `<= ${r.target}${r.met === false ? ' MISS' : r.met ? ' ok' : ''}`;
    body.push([r.row, fmt(r.ours, r.unit), fmt(r.baseline, r.unit), ratio, target, r.note]);
  }
  const w = [44, 12, 12, 7, 12];
  const line = (cells) => cells.map((c, i) => (i < w.length ? String(c).padEnd(w[i]) : c)).join(' ');
  lines.push(line(head));
  lines.push(line(w.map((n) => '-'.repeat(n)).concat(['-'.repeat(20)])));
  for (const b of body) {
    if (b.group) {
      const base = rows.find((r) => r.group === b.group && r.baselineName)?.baselineName;
      lines.push(`[${b.group}${base ? ` — baseline: ${base}` : ''}]`);
    } else lines.push(line(b));
  }
  return lines.join('\n');
}

const t0 = now();
process.stderr.write(`halide-wasm-executor bench${QUICK ? ' (quick)' : ''}: node ${process.version}, ${os.cpus().length} CPU(s)\n`);
await plainRows();
await marshalRows();
await loadRow();
await allocatorRow();
await importRows();
await threadRows();
await chromiumThreadRows();
nativeRows();
nativeThreadRows();

const text = table();
console.log(text);
const result = {
  generated: new Date().toISOString(),
  quick: QUICK,
  node: process.version,
  v8: process.versions.v8,
  cpu: os.cpus()[0]?.model ?? null,
  cpus: os.cpus().length,
  seconds: (now() - t0) / 1e3,
  sizes: SIZES,
  targets: { plain: TARGET_PLAIN, marshal: TARGET_MARSHAL, threadSpeedup: TARGET_SPEEDUP, poolMs: TARGET_POOL_MS },
  rowIds: rows.map((r) => r.id),
  rows,
  table: text,
};
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify(result, null, 2) + '\n');
console.log(`\nwritten ${OUT} (${result.seconds.toFixed(1)} s)`);
if (mismatches) {
  console.error(`${mismatches} row(s) had outputs that differ between the hosts`);
  process.exitCode = 1;
}
