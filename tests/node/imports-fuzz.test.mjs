// Seeded fuzzing of every import the executor serves a guest (issue #15:
// no input from a guest may reach a panic, grow the executor's own memory
// without bound, print to the console or leak an instance).
//
// One hostile JIT-flavour module, written here in the text format (turned
// into bytes with `wabt`), imports every `env` function the executor
// provides and exports `fuzz(uc, which, a, b, c, d, out)`: for `which` below
// the number of imports it calls import number `which` with a, b, c, d (as
// many as it takes, reinterpreted as floats where it takes floats); above,
// it does one hostile thing (a double free, a huge write, a trace packet
// that never ends, a scribbled output buffer, a stack overflow inside an
// import, ...). It stores the result in out[0] and its memory size in
// out[1].
//
// Every run must succeed or throw a HalideError (a string code, or the
// non-zero integer the pipeline returned: Halide's are negative, a hand-made
// module may return any); an ordinary run after a failed one must work; nothing
// may reach the console (a Rust panic does, through
// console_error_panic_hook); the executor's own memory (the diagnostic
// executorMemoryBytes) must stay within a small bound; liveInstances must
// stay at one for the pipeline and come back to its baseline at dispose().
//
// The cases run in a worker thread, which has an executor of its own. A
// case that may have broken that executor (a panic, a thrown value other
// than a HalideError, a leak) ends the worker and the next worker starts
// after it, so that each failure is reported with its own case; a failure
// is also replayed alone on a fresh pipeline in a fresh executor.
// FUZZ_CASES=50000 (and FUZZ_SEED=n) for a longer run; FUZZ_SKIP=name,...
// leaves out imports or scenarios, to look past a known failure.
//
// The focused tests at the end make each known hostile call in a worker of
// its own too, so that one test's damage cannot mask or cause another's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { readFileSync } from 'node:fs';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { Pipeline, HalideError } from 'halide-wasm-executor';
import { rng } from './rng.mjs';

const require = createRequire(import.meta.url);
// The diagnostics are exports of the wasm-bindgen build, not of the package.
const diagnostics = require('../../lib/executor-node.cjs');

const CASES = Number(process.env.FUZZ_CASES ?? 3000);
const SEED = Number(process.env.FUZZ_SEED ?? 1);
/** Imports or scenarios not to run (comma-separated names), to look past a known failure. */
const SKIP = new Set((process.env.FUZZ_SKIP ?? '').split(',').filter(Boolean));
/** Cases per pipeline: then it is disposed and the next configuration loaded. */
const RELOAD = 150;
/** Most the executor's own memory may grow over the cases (of one worker). */
const FUZZ_GROWTH_LIMIT = 8 * 2 ** 20;
/** Most it may grow in one focused test. */
const FOCUSED_GROWTH_LIMIT = 4 * 2 ** 20;
const MiB = 2 ** 20;

// ---------------------------------------------------------------------------
// The hostile module.

const I = 'i32';
const F = 'f32';
const D = 'f64';
const LIBM_UNARY = ['acos', 'acosh', 'asin', 'asinh', 'atan', 'atanh', 'cos', 'cosh', 'exp', 'exp2', 'expm1', 'log',
  'log2', 'log10', 'log1p', 'round', 'sin', 'sinh', 'tan', 'tanh', 'cbrt', 'sqrt', 'floor', 'ceil', 'trunc'];
const LIBM_BINARY = ['atan2', 'pow', 'fmin', 'fmax', 'fmod', 'hypot'];

/**
 * Every `env` function the executor provides, with its wasm signature:
 * src/js/libc_exports.rs (LIBC_IMPORTS), src/js/heap_exports.rs
 * (HEAP_IMPORTS), src/js/libc.js (JS_LIBC in imports.rs), the JIT flavour's
 * trace hook (src/js/trace.rs helper_event) and src/libm_exports.rs. The
 * executor's own exports are checked by the engine against these
 * signatures when the module is instantiated.
 */
const IMPORTS = [
  ['malloc', [I], I],
  ['free', [I], null],
  ['memcpy', [I, I, I], I],
  ['memmove', [I, I, I], I],
  ['memset', [I, I, I], I],
  ['__cxa_atexit', [I, I, I], I],
  ['strlen', [I], I],
  ['strcmp', [I, I], I],
  ['strncmp', [I, I, I], I],
  ['strstr', [I, I], I],
  ['strchr', [I, I], I],
  ['memcmp', [I, I, I], I],
  ['getenv', [I], I],
  ['atoi', [I], I],
  ['write', [I, I, I], I],
  ['fopen', [I, I], I],
  ['fileno', [I], I],
  ['fclose', [I], I],
  ['fwrite', [I, I, I, I], I],
  ['halide_current_thread_id', [], I],
  ['halide_print', [I, I], null],
  ['halide_error', [I, I], null],
  ['abort', [], null],
  ['halide_trace_helper', Array(12).fill(I), I],
  ...LIBM_UNARY.flatMap((n) => [[n, [D], D], [`${n}f`, [F], F]]),
  ...LIBM_BINARY.flatMap((n) => [[n, [D, D], D], [`${n}f`, [F, F], F]]),
  ['fma', [D, D, D], D],
  ['fmaf', [F, F, F], F],
  ['__extendhfsf2', [I], F],
  ['__truncsfhf2', [F], I],
  ['__truncdfhf2', [D], I],
];
const IMPORT_NAMES = IMPORTS.map(([n]) => n);
const LIBM_FIRST = IMPORT_NAMES.indexOf('acos');

// Guest addresses: strings in the data segment, a scratch area, the heap.
const S_TRACE_ENV = 16; // "HL_TRACE_FILE"
const S_HELLO = 32; // "hello\n"
const S_ERROR = 48; // "Error: fuzz"
const S_MODE = 64; // "wb"
const S_FOO = 80; // "FOO"
const S_TRACE_PATH = 96; // the executor's trace file (src/js/guest.rs TRACE_PATH)
const S_ABC = 128; // "abcabc"
const S_CAB = 144; // "cab"
const SCR = 4096; // scratch, 4 KiB
const HEAP_BASE = 8192;
const STRINGS = [S_TRACE_ENV, S_HELLO, S_ERROR, S_MODE, S_FOO, S_TRACE_PATH, S_ABC, S_CAB];
const F32_TYPE = 2 | (32 << 8) | (1 << 16); // halide_type_t float32x1 as a little-endian u32
/** What `malloc-churn` returns when two live blocks overlap. */
const OVERLAP = 0x0badb10c;

const ARGS = ['$a', '$b', '$c', '$d'];
const get = (x) => `(local.get ${x})`;
const i32 = (n) => `(i32.const ${n | 0})`;

/** Argument `k` of an import call, of wasm type `t`, from a, b, c, d. */
function argument(t, k) {
  if (t === I) return k < 4 ? get(ARGS[k]) : `(i32.rotl ${get(ARGS[k % 4])} ${i32(8 * (k >> 2))})`;
  if (t === F) return `(f32.reinterpret_i32 ${get(ARGS[k % 4])})`;
  const lo = get(ARGS[(2 * k) % 4]);
  const hi = get(ARGS[(2 * k + 1) % 4]);
  return `(f64.reinterpret_i64 (i64.or (i64.extend_i32_u ${lo}) (i64.shl (i64.extend_i32_u ${hi}) (i64.const 32))))`;
}

/** The call of import `name` as an i32 expression (floats by their bits). */
function callImport([name, params, result]) {
  const call = `(call $${name} ${params.map(argument).join(' ')})`;
  if (result === I) return call;
  if (result === F) return `(i32.reinterpret_f32 ${call})`;
  if (result === D) return `(i32.wrap_i64 (i64.reinterpret_f64 ${call}))`;
  return `(block (result i32) ${call} ${i32(0)})`;
}

let labels = 0;
/** `for ($i = 0; $i < n; $i += step) body` */
function loop(n, body, { start = 0, step = 1 } = {}) {
  const l = labels++;
  return `(local.set $i ${i32(start)})
    (block $done${l} (loop $next${l}
      (br_if $done${l} (i32.ge_u (local.get $i) ${n}))
      ${body}
      (local.set $i (i32.add (local.get $i) ${i32(step)}))
      (br $next${l})))`;
}

const MEMORY_END = '(i32.shl (memory.size) (i32.const 16))';
// getenv("HL_TRACE_FILE"), fopen on that path, fileno: as Halide's runtime.
const OPEN_TRACE = `(local.set $f (call $fopen (call $getenv ${i32(S_TRACE_ENV)}) ${i32(S_MODE)}))
    (local.set $fd (call $fileno (local.get $f)))`;
const switchOn = (k, cases) =>
  cases.map((body, i) => `(if (i32.eq ${k} ${i32(i)}) (then (return ${body})))`).join('\n    ');

/**
 * The hostile things, each a body that returns an i32. The names are what a
 * failure report calls them. `corrupt-*`, `scribble-out` and `return-code`
 * act after the result is stored (in `fuzz` itself).
 */
const SCENARIOS = {
  // A guest store or load at any address: a wasm trap when out of bounds.
  'store-anywhere': `(i32.store ${get('$a')} ${get('$b')}) ${i32(0)}`,
  'load-anywhere': `(i32.load ${get('$a')})`,
  'double-free': `(local.set $p (call $malloc (i32.and ${get('$a')} ${i32(0xfffff)})))
    (call $free (local.get $p)) (call $free (local.get $p)) (local.get $p)`,
  'free-interior': `(local.set $p (call $malloc (i32.add (i32.and ${get('$a')} ${i32(0xffff)}) ${i32(8)})))
    (call $free (i32.add (local.get $p) (i32.add ${i32(1)} (i32.and ${get('$b')} ${i32(7)})))) (local.get $p)`,
  'free-any-twice': `(call $free ${get('$a')}) (call $free ${get('$a')}) ${i32(0)}`,
  // malloc of any size; a block it returns is touched at both ends.
  'malloc-touch': `(local.set $p (call $malloc ${get('$a')}))
    (if (i32.and (i32.ne (local.get $p) ${i32(0)}) (i32.ne ${get('$a')} ${i32(0)})) (then
      (i32.store8 (local.get $p) ${i32(1)})
      (i32.store8 (i32.sub (i32.add (local.get $p) ${get('$a')}) ${i32(1)}) ${i32(2)})
      (call $free (local.get $p))))
    (local.get $p)`,
  'malloc-leak': `${loop(`(i32.and ${get('$b')} ${i32(255)})`,
    `(local.set $p (call $malloc (i32.and ${get('$a')} ${i32(0xffff)})))`)}
    (local.get $p)`,
  // Up to 64 blocks of random sizes, each filled with its number by
  // memset, checked at both ends (OVERLAP if another block overwrote it),
  // freed out of order.
  'malloc-churn': `(local.set $n (i32.add (i32.and ${get('$b')} ${i32(63)}) ${i32(1)}))
    (local.set $x ${get('$a')})
    (local.set $k ${i32(0)})
    ${loop('(local.get $n)', `
      (local.set $x (i32.add (i32.mul (local.get $x) ${i32(1103515245)}) ${i32(12345)}))
      (local.set $sz (i32.and (i32.shr_u (local.get $x) ${i32(16)}) ${i32(0x3fff)}))
      (local.set $p (call $malloc (local.get $sz)))
      (i32.store (i32.add ${i32(SCR)} (i32.shl (local.get $i) ${i32(2)})) (local.get $p))
      (i32.store (i32.add ${i32(SCR + 256)} (i32.shl (local.get $i) ${i32(2)})) (local.get $sz))
      (if (local.get $p) (then (drop (call $memset (local.get $p) (local.get $i) (local.get $sz)))))`)}
    ${loop('(local.get $n)', `
      (local.set $p (i32.load (i32.add ${i32(SCR)} (i32.shl (local.get $i) ${i32(2)}))))
      (local.set $sz (i32.load (i32.add ${i32(SCR + 256)} (i32.shl (local.get $i) ${i32(2)}))))
      (if (i32.and (i32.ne (local.get $p) ${i32(0)}) (i32.ne (local.get $sz) ${i32(0)})) (then
        (if (i32.or
              (i32.ne (i32.load8_u (local.get $p)) (local.get $i))
              (i32.ne (i32.load8_u (i32.sub (i32.add (local.get $p) (local.get $sz)) ${i32(1)})) (local.get $i)))
          (then (local.set $k ${i32(1)})))))`)}
    ${loop('(local.get $n)', `(call $free (i32.load (i32.add ${i32(SCR)} (i32.shl (local.get $i) ${i32(2)}))))`, { step: 2 })}
    ${loop('(local.get $n)', `(call $free (i32.load (i32.add ${i32(SCR)} (i32.shl (local.get $i) ${i32(2)}))))`, { start: 1, step: 2 })}
    (select ${i32(OVERLAP)} (local.get $n) (local.get $k))`,
  // Lengths no memory holds.
  'write-huge': `(call $write (i32.add ${i32(1)} (i32.and ${get('$c')} ${i32(1)})) ${get('$a')} ${i32(-1)})`,
  'memcmp-huge': `(call $memcmp ${get('$a')} ${get('$b')} ${i32(-1)})`,
  'fwrite-huge': `${OPEN_TRACE} (call $fwrite ${get('$a')} ${get('$b')} ${get('$c')} (local.get $f))`,
  // A string without its NUL at the very end of the memory, handed to
  // every import that reads a string.
  'unterminated-at-end': `(local.set $m ${MEMORY_END})
    (local.set $n (i32.add (i32.and ${get('$a')} ${i32(0xfff)}) ${i32(1)}))
    (local.set $q (i32.sub (local.get $m) (local.get $n)))
    (memory.fill (local.get $q) ${i32(0x41)} (local.get $n))
    (local.set $k (i32.and ${get('$b')} ${i32(15)}))
    ${switchOn('(local.get $k)', [
      '(call $strlen (local.get $q))',
      `(call $strcmp (local.get $q) ${i32(S_HELLO)})`,
      `(call $strncmp ${i32(S_HELLO)} (local.get $q) ${get('$c')})`,
      `(call $strstr ${i32(S_HELLO)} (local.get $q))`,
      `(call $strchr (local.get $q) ${get('$c')})`,
      '(call $getenv (local.get $q))',
      `(block (result i32) (call $halide_print ${get('$uc')} (local.get $q)) ${i32(0)})`,
      '(call $atoi (local.get $q))',
    ])}
    (call $fopen (local.get $q) ${i32(S_MODE)})`,
  // A long string (up to the memory's size) to the string readers.
  'long-string': `(local.set $m ${MEMORY_END})
    (local.set $n (i32.and ${get('$a')} ${i32(0x3ffff)}))
    (if (i32.gt_u (local.get $n) (i32.sub (local.get $m) ${i32(16384)}))
      (then (local.set $n (i32.sub (local.get $m) ${i32(16384)}))))
    (local.set $q (i32.sub (i32.sub (local.get $m) (local.get $n)) ${i32(1)}))
    (memory.fill (local.get $q) ${i32(0x42)} (local.get $n))
    (i32.store8 (i32.sub (local.get $m) ${i32(1)}) ${i32(0)})
    ${switchOn(`(i32.and ${get('$b')} ${i32(7)})`, [
      '(call $strlen (local.get $q))',
      `(block (result i32) (call $halide_print ${get('$uc')} (local.get $q)) ${i32(0)})`,
      '(call $getenv (local.get $q))',
      '(call $atoi (local.get $q))',
      `(call $strstr (local.get $q) ${i32(S_CAB)})`,
      `(call $strchr (local.get $q) ${i32(0x43)})`,
      `(call $write ${i32(2)} (local.get $q) (local.get $n))`,
    ])}
    (call $strcmp (local.get $q) (local.get $q))`,
  // The ahead-of-time trace protocol: a packet header with any size,
  // dimensions and type, then some payload, by write or fwrite.
  'trace-packet': `${OPEN_TRACE}
    (i32.store ${i32(SCR)} ${get('$c')})
    (i32.store ${i32(SCR + 4)} ${get('$b')})
    (i32.store ${i32(SCR + 8)} ${get('$d')})
    (i32.store ${i32(SCR + 12)} (i32.and ${get('$b')} ${i32(15)}))
    (i32.store ${i32(SCR + 16)} ${get('$a')})
    (i32.store ${i32(SCR + 20)} ${get('$b')})
    (i32.store ${i32(SCR + 24)} ${get('$a')})
    (local.set $n (i32.add ${i32(28)} (i32.and (i32.shr_u ${get('$b')} ${i32(4)}) ${i32(0xfff)})))
    (if (i32.and ${get('$b')} ${i32(0x10000)})
      (then (return (call $fwrite ${i32(SCR)} ${i32(1)} (local.get $n) (local.get $f)))))
    (call $write (local.get $fd) ${i32(SCR)} (local.get $n))`,
  // A packet that claims 2 GiB and never completes: written (b & 1023) + 1
  // times, (c & 0x1ffff) bytes at a time.
  'trace-huge-claim': `${OPEN_TRACE}
    (i32.store ${i32(SCR)} ${i32(0x7ffffff0)})
    (i32.store ${i32(SCR + 4)} ${i32(0)})
    (i32.store ${i32(SCR + 8)} ${i32(F32_TYPE)})
    (i32.store ${i32(SCR + 12)} ${i32(1)})
    (i32.store ${i32(SCR + 16)} ${i32(0)})
    (i32.store ${i32(SCR + 20)} ${i32(0)})
    (i32.store ${i32(SCR + 24)} ${i32(1)})
    (local.set $n (i32.and ${get('$c')} ${i32(0x1ffff)}))
    ${loop(`(i32.add (i32.and ${get('$b')} ${i32(0x3ff)}) ${i32(1)})`,
      `(drop (call $write (local.get $fd) ${i32(SCR)} (local.get $n)))`)}
    (local.get $fd)`,
  // A packet header of any claimed size (d) and dimensions (a & 255),
  // written (b & 255) + 1 times, (c & 0x1ffff) bytes at a time: what the
  // executor keeps of a packet it cannot parse must stay bounded.
  'trace-flood': `${OPEN_TRACE}
    (i32.store ${i32(SCR)} ${get('$d')})
    (i32.store ${i32(SCR + 4)} ${i32(0)})
    (i32.store ${i32(SCR + 8)} ${i32(F32_TYPE)})
    (i32.store ${i32(SCR + 12)} ${i32(1)})
    (i32.store ${i32(SCR + 16)} ${i32(0)})
    (i32.store ${i32(SCR + 20)} ${i32(0)})
    (i32.store ${i32(SCR + 24)} (i32.and ${get('$a')} ${i32(255)}))
    (local.set $n (i32.and ${get('$c')} ${i32(0x1ffff)}))
    ${loop(`(i32.add (i32.and ${get('$b')} ${i32(255)}) ${i32(1)})`,
      `(drop (call $write (local.get $fd) ${i32(SCR)} (local.get $n)))`)}
    (local.get $fd)`,
  // The JIT flavour's trace hook: a float32 event with pointers from the
  // fuzzer, and one with every argument raw.
  'trace-helper-sane': `(call $halide_trace_helper ${get('$uc')} ${get('$a')} ${get('$b')} ${get('$c')}
      ${i32(2)} ${i32(32)} (i32.add (i32.and ${get('$d')} ${i32(7)}) ${i32(1)})
      (i32.and (i32.shr_u ${get('$d')} ${i32(3)}) ${i32(15)}) ${get('$d')} ${i32(0)}
      (i32.and (i32.shr_u ${get('$d')} ${i32(7)}) ${i32(0x7ff)})
      (select ${i32(S_ERROR)} ${i32(0)} (i32.and (i32.shr_u ${get('$d')} ${i32(18)}) ${i32(1)})))`,
  'trace-helper-raw': `(call $halide_trace_helper ${get('$uc')} ${get('$a')} ${get('$b')} ${get('$c')} ${get('$d')}
      (i32.shr_u ${get('$d')} ${i32(8)}) (i32.shr_u ${get('$d')} ${i32(16)}) ${get('$c')} ${get('$a')} ${get('$b')}
      ${get('$d')} ${get('$a')})`,
  // The output's halide_buffer_t, rewritten after the result is stored:
  // its host pointer, its dim pointer and dimension count, or all of it.
  'corrupt-out-host': get('$b'),
  'corrupt-out-dim': get('$c'),
  'scribble-out': get('$d'),
  // Frees near the output's halide_buffer_t (the executor's run block).
  'free-near-out': `(call $free (i32.sub ${get('$out')} (i32.shl (i32.and ${get('$a')} ${i32(0x3ff)}) ${i32(2)}))) ${i32(0)}`,
  // Recursion with an import call on every level, until the stack runs
  // out: the overflow lands inside the import as often as not.
  'recurse-into-imports': `(call $deep (i32.and ${get('$b')} ${i32(7)}) ${get('$a')})`,
  // The guest grows its own memory (up to 16 MiB at a time).
  'grow-memory': `(memory.grow (i32.and ${get('$a')} ${i32(0xff)}))`,
  'error-then-abort': `(call $halide_error ${get('$uc')} ${i32(S_ERROR)}) (call $abort) ${i32(0)}`,
  // The entry returns `a`, which may be positive.
  'return-code': i32(0),
  // Copies and fills that end at, or one byte past, the end of the memory.
  'edge-copies': `(local.set $m ${MEMORY_END})
    (local.set $n (i32.add (i32.and ${get('$a')} ${i32(0xff)}) (i32.and ${get('$b')} ${i32(1)})))
    (local.set $q (i32.sub (local.get $m) (i32.and ${get('$a')} ${i32(0xff)})))
    ${switchOn(`(i32.and ${get('$d')} ${i32(3)})`, [
      `(call $memcpy (local.get $q) ${i32(0)} (local.get $n))`,
      `(call $memcpy ${i32(SCR)} (local.get $q) (local.get $n))`,
      `(call $memset (local.get $q) ${get('$c')} (local.get $n))`,
    ])}
    (call $memmove (local.get $q) (i32.sub (local.get $q) ${i32(1)}) (local.get $n))`,
  // Frees what the executor allocated in the guest (getenv's string, the
  // trace FILE*) and uses it again.
  'free-host-strings': `(local.set $p (call $getenv ${i32(S_TRACE_ENV)}))
    (call $free (local.get $p))
    (local.set $q (call $getenv ${i32(S_TRACE_ENV)}))
    (local.set $f (call $fopen ${i32(S_TRACE_PATH)} ${i32(S_MODE)}))
    (call $free (local.get $f))
    (local.set $n (call $fwrite ${i32(S_HELLO)} ${i32(1)} ${i32(6)} (local.get $f)))
    (drop (call $fclose (local.get $f)))
    (i32.add (i32.add (local.get $q) (local.get $n)) (call $fopen ${i32(S_TRACE_PATH)} ${i32(S_MODE)}))`,
  'print-lots': `${loop(`(i32.and ${get('$b')} ${i32(1023)})`,
    `(call $halide_print ${get('$uc')} ${i32(S_HELLO)}) (drop (call $write ${i32(2)} ${i32(S_ERROR)} ${i32(11)}))`)}
    (i32.and ${get('$b')} ${i32(1023)})`,
  echo: `(i32.add ${get('$a')} ${get('$b')})`,
};
const SCENARIO_NAMES = Object.keys(SCENARIOS);
const which = (name) => {
  const i = IMPORT_NAMES.indexOf(name);
  if (i >= 0) return i;
  const s = SCENARIO_NAMES.indexOf(name);
  assert.ok(s >= 0, name);
  return IMPORTS.length + s;
};
const nameOf = (w) => IMPORT_NAMES[w] ?? SCENARIO_NAMES[w - IMPORTS.length] ?? 'no such import';

/**
 * The import `recurse-into-imports` calls on every level of its recursion,
 * by `b & 7`, until the stack overflows (inside the import, as often as
 * not).
 */
const DEEP_CALLS = [
  ['strlen', `(drop (call $strlen ${i32(S_HELLO)}))`],
  ['malloc and free', `(call $free (call $malloc ${i32(16)}))`],
  ['memcpy', `(drop (call $memcpy ${i32(SCR)} ${i32(SCR + 64)} ${i32(16)}))`],
  ['halide_current_thread_id', '(drop (call $halide_current_thread_id))'],
  ['sinf', '(drop (call $sinf (f32.reinterpret_i32 (local.get $a))))'],
  ['getenv', `(drop (call $getenv ${i32(S_FOO)}))`],
  ['write', `(drop (call $write ${i32(1)} ${i32(S_HELLO)} ${i32(6)}))`],
  ['halide_trace_helper', `(drop (call $halide_trace_helper ${i32(0)} ${i32(S_HELLO)} ${i32(SCR)} ${i32(SCR)} ${i32(2)} ${i32(32)} ${i32(1)} ${i32(1)} ${i32(0)} ${i32(0)} ${i32(1)} ${i32(0)}))`],
];

/** The module's text, with `pages` pages of memory. */
function hostileWat(pages) {
  const imports = IMPORTS.map(([name, params, result]) =>
    `(import "env" "${name}" (func $${name} (param ${params.join(' ')})${result ? ` (result ${result})` : ''}))`);
  const cases = [
    ...IMPORTS.map((imp, i) => `(if (i32.eq (local.get $which) ${i32(i)}) (then (return ${callImport(imp)})))`),
    ...SCENARIO_NAMES.map((s, i) =>
      `(if (i32.eq (local.get $which) ${i32(IMPORTS.length + i)}) (then (return (block (result i32) ${SCENARIOS[s]}))))`),
  ];
  const harmless = DEEP_CALLS.map(([, body]) => body);
  const post = (name, body) => `(if (i32.eq (local.get $which) ${i32(which(name))}) (then ${body}))`;
  return `(module
  ${imports.join('\n  ')}
  (memory (export "memory") ${pages})
  (global (export "__heap_base") i32 ${i32(HEAP_BASE)})
  (data (i32.const ${S_TRACE_ENV}) "HL_TRACE_FILE\\00")
  (data (i32.const ${S_HELLO}) "hello\\0a\\00")
  (data (i32.const ${S_ERROR}) "Error: fuzz\\00")
  (data (i32.const ${S_MODE}) "wb\\00")
  (data (i32.const ${S_FOO}) "FOO\\00")
  (data (i32.const ${S_TRACE_PATH}) "/halide-wasm-executor/trace\\00")
  (data (i32.const ${S_ABC}) "abcabc\\00")
  (data (i32.const ${S_CAB}) "cab\\00")
  (func $deep (param $k i32) (param $a i32) (result i32)
    ${harmless.map((h, i) => `(if (i32.eq (local.get $k) ${i32(i)}) (then ${h}))`).join('\n    ')}
    (i32.add (call $deep (local.get $k) (local.get $a)) (i32.const 1)))
  (func $call (param $uc i32) (param $which i32) (param $a i32) (param $b i32) (param $c i32) (param $d i32)
      (param $out i32) (result i32)
    (local $p i32) (local $q i32) (local $n i32) (local $i i32) (local $k i32) (local $m i32) (local $x i32)
    (local $sz i32) (local $f i32) (local $fd i32)
    ${cases.join('\n    ')}
    (i32.const 0))
  (func (export "fuzz") (param $uc i32) (param $which i32) (param $a i32) (param $b i32) (param $c i32)
      (param $d i32) (param $out i32) (result i32)
    (local $r i32)
    (local.set $r (call $call (local.get $uc) (local.get $which) (local.get $a) (local.get $b) (local.get $c)
      (local.get $d) (local.get $out)))
    (i32.store (i32.load offset=12 (local.get $out)) (local.get $r))
    (i32.store offset=4 (i32.load offset=12 (local.get $out)) ${MEMORY_END})
    ${post('corrupt-out-host', '(i32.store offset=12 (local.get $out) (local.get $a))')}
    ${post('corrupt-out-dim', '(i32.store offset=32 (local.get $out) (local.get $a)) (i32.store offset=28 (local.get $out) (local.get $b))')}
    ${post('scribble-out', '(drop (call $memset (local.get $out) (local.get $a) (i32.const 40)))')}
    ${post('return-code', '(return (local.get $a))')}
    (i32.const 0)))
`;
}

const ARGUMENTS = [
  { name: '__user_context', kind: 'scalar', type: 'handle', dimensions: 0 },
  ...['which', 'a', 'b', 'c', 'd'].map((name) => ({ name, kind: 'scalar', type: 'int32', dimensions: 0 })),
  { name: 'out', kind: 'output', type: 'int32', dimensions: 1 },
];

const compiled = new Map();
async function hostileModule(pages = 4) {
  if (!compiled.has(pages)) {
    const wabt = await (await import('wabt')).default();
    const m = wabt.parseWat('hostile.wat', hostileWat(pages));
    try {
      m.resolveNames();
      m.validate();
      compiled.set(pages, Uint8Array.from(m.toBinary({}).buffer));
    } finally {
      m.destroy();
    }
  }
  return compiled.get(pages);
}

// ---------------------------------------------------------------------------
// Configurations, cases, runs and checks.

const noop = () => {};
/** Load options by name; made afresh (the callbacks count their calls). */
function configOptions(name) {
  let traced = 0;
  let printed = 0;
  // Odd ids back to the guest, and now and then a throw ('callback').
  const trace = () => {
    traced++;
    if (traced % 97 === 0) throw new Error('the trace callback throws');
    return [0, -1, 2 ** 31, NaN, 'x', {}, 1e300][traced % 7];
  };
  const options = {
    quiet: { print: noop },
    'max 1 MiB': { print: noop, maxMemoryBytes: MiB },
    trace: { print: noop, error: noop, trace },
    tracing: { print: noop, trace: () => 0 },
    mixed: {
      print: () => {
        if (++printed % 50 === 0) throw new Error('the print callback throws');
      },
      env: { FOO: 'bar', HL_TRACE_FILE: '/halide-wasm-executor/trace' },
      maxMemoryBytes: MiB,
      trace,
    },
  }[name];
  assert.ok(options, name);
  return { entry: 'fuzz', arguments: ARGUMENTS, ...options };
}
const CONFIGS = ['quiet', 'max 1 MiB', 'trace', 'mixed'];
const configAt = (i) => CONFIGS[Math.floor(i / RELOAD) % CONFIGS.length];

/** One run; `{ out }` or `{ error }`. */
function runCase(p, { which: w, a = 0, b = 0, c = 0, d = 0 }) {
  const out = new Int32Array([0x5eed, 0x5eed]);
  try {
    p.run({ which: w | 0, a: a | 0, b: b | 0, c: c | 0, d: d | 0, out: { data: out, shape: [2] } });
    return { out: [out[0], out[1]] };
  } catch (error) {
    return { error };
  }
}

const CODES = new Set(['abort', 'trap', 'bad-argument', 'bad-module', 'out-of-memory', 'callback', 'disposed']);
/** What is wrong with a thrown value, or null for a proper HalideError. */
function wrongError(e) {
  if (!(e instanceof HalideError)) {
    return `threw ${e?.constructor?.name ?? typeof e}, not a HalideError: ${e?.stack ?? String(e)}`;
  }
  const codeOk = (typeof e.code === 'string' && CODES.has(e.code)) ||
    (typeof e.code === 'number' && Number.isInteger(e.code) && e.code !== 0);
  if (!codeOk) return `HalideError with code ${JSON.stringify(e.code)}: ${e.message}`;
  if (typeof e.message !== 'string' || e.message.length === 0) return `HalideError '${e.code}' with an empty message`;
  return null;
}

const CONSOLE = ['log', 'info', 'warn', 'error', 'debug', 'trace'];
/** Replaces the console's methods with spies; returns `{ calls, restore }`. */
function spyConsole() {
  const saved = CONSOLE.map((k) => console[k]);
  const calls = [];
  for (const k of CONSOLE) console[k] = (...args) => calls.push(`console.${k}: ${args.map(String).join(' ')}`);
  return { calls, restore: () => CONSOLE.forEach((k, i) => (console[k] = saved[i])) };
}

function executorMemoryBytes() {
  assert.equal(typeof diagnostics.executorMemoryBytes, 'function',
    'the build lacks the diagnostic executorMemoryBytes (src/js/diagnostics.rs): rebuild pkg/');
  return diagnostics.executorMemoryBytes();
}
const mib = (n) => `${(n / MiB).toFixed(1)} MiB`;
const hex = (v) => `0x${(v >>> 0).toString(16)}`;
const describeCase = (c) =>
  `which=${c.which} (${nameOf(c.which)}) a=${hex(c.a)} b=${hex(c.b)} c=${hex(c.c)} d=${hex(c.d)}`;


const FIXED = [0, 1, 2, 3, 4, 7, 8, 12, 16, 28, 32, 36, 40, 48, 64, 100, 255, 256, 1024, 4095, 4096, 8192, 0x7fff,
  0x8000, 0xffff, 0x10000, 0x10001, 0x100000, 0x1000000, 0x10000000, 0x20000000, 0x3fffffff, 0x40000000, 0x7ffffff0,
  2147483000, 0x7fffffff, 0x80000000, 0x80000001, 0xfffffff0, 0xfffffffc, 0xfffffffe, 0xffffffff];
const RECENT = { recent: 0 };
/** Values some imports and scenarios draw from half the time. */
const HINTS = {
  write: { a: [1, 2, 3, 0, -1, 4] },
  fwrite: { d: [RECENT] },
  fileno: { a: [RECENT] },
  fclose: { a: [RECENT] },
  free: { a: [RECENT] },
  fopen: { a: [S_TRACE_PATH, S_HELLO, S_TRACE_ENV], b: [S_MODE] },
  getenv: { a: [S_TRACE_ENV, S_FOO, S_HELLO, S_TRACE_PATH] },
  atoi: { a: STRINGS },
  halide_print: { b: STRINGS },
  halide_error: { b: STRINGS },
  strlen: { a: STRINGS },
  strcmp: { a: STRINGS, b: STRINGS },
  strncmp: { a: STRINGS, b: STRINGS },
  strstr: { a: STRINGS, b: STRINGS },
  strchr: { a: STRINGS, b: [0x61, 0x62, 0, 0x161] },
  memcmp: { a: STRINGS, b: STRINGS },
  halide_trace_helper: { a: [0], b: STRINGS },
  'trace-packet': {
    a: [0, 1, 2, 3, 4, 16, 1024, 0x3fffffff, 0x40000000, 0x7fffffff, -1],
    c: [0, 4, 27, 28, 32, 36, 40, 44, 48, 64, 128, 4096, 4124],
    d: [F32_TYPE, 0 | (8 << 8) | (1 << 16), 1 | (16 << 8) | (4 << 16), 2 | (64 << 8) | (1 << 16), 2 | (32 << 8),
      3 | (64 << 8) | (1 << 16)],
  },
  'trace-huge-claim': { b: [0, 1, 3, 15], c: [28, 4096, 0x10000] },
  'trace-flood': { a: [0, 1, 2], b: [0, 15, 63, 255], c: [28, 4096, 0x10000], d: [28, 32, 36, 64, 4096, 0x10000, 0x40000, 0x40001] },
  'trace-helper-sane': { a: STRINGS, b: [SCR, S_HELLO], c: [SCR, S_HELLO] },
  'print-lots': { b: [0, 1, 10, 100] },
  'free-near-out': { a: [0, 1, 2, 3, 4, 8, 16, 32, 64] },
};

/**
 * The first `n` cases of seed `seed`: `which` and four arguments, each a
 * number or a value relative to the guest's state when the case runs
 * (`{ end }`: the memory's size plus `end`; `{ page, delta }`: a page
 * boundary; `{ recent }`: a value a recent run returned). Made from the
 * seed alone, so a worker can start at any case.
 */
function makeCases(seed, n) {
  const r = rng(seed);
  const pick = (a) => a[Math.floor(r() * a.length)];
  const value = () => {
    const v = r();
    if (v < 0.1) return { recent: Math.floor(r() * 8) };
    if (v < 0.2) return (r() * 2 ** 32) >>> 0;
    if (v < 0.3) return pick(STRINGS) + pick([0, 0, 1, 3]);
    if (v < 0.45) return { end: pick([-64, -28, -4, -2, -1, 0, 1, 4]) };
    if (v < 0.55) return { page: r(), delta: pick([-1, 0, 1]) };
    const f = pick(FIXED);
    return r() < 0.8 ? f : f + pick([-1, 1, 4]);
  };
  const cases = [];
  for (let i = 0; i < n; i++) {
    const k = r();
    let w;
    if (k < 0.35) w = Math.floor(r() * LIBM_FIRST);
    else if (k < 0.5) w = LIBM_FIRST + Math.floor(r() * (IMPORTS.length - LIBM_FIRST));
    else if (k < 0.97) w = IMPORTS.length + Math.floor(r() * SCENARIO_NAMES.length);
    else w = pick([-1, IMPORTS.length + SCENARIO_NAMES.length, 1000, 0x7fffffff, (r() * 2 ** 32) | 0]);
    const hints = HINTS[nameOf(w)] ?? {};
    const arg = (key) => (hints[key] && r() < 0.5 ? pick(hints[key]) : value());
    cases.push({ which: w, a: arg('a'), b: arg('b'), c: arg('c'), d: arg('d') });
  }
  return cases;
}

/** A case's arguments as numbers, for a guest of `memBytes` bytes. */
function resolveCase(c, memBytes, recent) {
  const v = (x) => {
    if (typeof x === 'number') return x | 0;
    if ('end' in x) return (memBytes + x.end) | 0;
    if ('page' in x) return (Math.floor(x.page * (memBytes / 65536 + 2)) * 65536 + x.delta) | 0;
    return recent.length ? recent[x.recent % recent.length] : 0;
  };
  return { which: c.which, a: v(c.a), b: v(c.b), c: v(c.c), d: v(c.d) };
}

/**
 * Cases `from` to `to` of `seed`, in this thread's executor, each
 * configuration in turn for RELOAD cases. Records every case with a
 * problem; stops after one that may have broken the executor (a thrown
 * value that is not a HalideError, console output: a Rust panic leaves the
 * executor broken), and the main thread goes on from the next case in a
 * fresh worker.
 */
function runSegment({ bytes, seed, from, to }) {
  const spy = spyConsole();
  const report = { failures: [], stoppedAt: null };
  try {
    // Warm-up: every configuration loaded, run, made to fail the ordinary
    // ways (a trap, an abort, an error code, a trace event, a print) and
    // disposed, so that the executor's own first allocations are behind
    // the baseline.
    for (const cfg of CONFIGS) {
      const p = Pipeline.loadSync(bytes, configOptions(cfg));
      for (const [s, a, b, c] of [['echo', 1, 2], ['load-anywhere', -1], ['error-then-abort'], ['return-code', -1],
        ['trace-helper-sane', S_HELLO, SCR, SCR], ['print-lots', 0, 3]]) {
        runCase(p, { which: which(s), a, b, c });
      }
      p.dispose();
    }
    spy.calls.length = 0;
    // liveInstances() with no pipeline alive.
    const liveFloor = diagnostics.liveInstances();
    let memBase = executorMemoryBytes();
    const cases = makeCases(seed, to);
    let p = null;
    let memBytes = 0;
    let lastOverflow = null;
    const recent = [];
    const failure = (i, c, problems) => report.failures.push({ i, cfg: configAt(i), c, problems });
    for (let i = from; i < to; i++) {
      if (p === null || i % RELOAD === 0) {
        if (p !== null) {
          p.dispose();
          const live = diagnostics.liveInstances();
          if (live !== liveFloor) {
            failure(i - 1, null, [`leak at dispose(): liveInstances() is ${live} after dispose(), ${liveFloor} before the pipeline was loaded`]);
            report.stoppedAt = i - 1;
            return report;
          }
        }
        p = Pipeline.loadSync(bytes, configOptions(configAt(i)));
        memBytes = 4 * 65536;
        recent.length = 0;
      }
      if (SKIP.has(nameOf(cases[i].which))) continue;
      const problems = [];
      let fatal = false;
      const c = resolveCase(cases[i], memBytes, recent);
      const res = runCase(p, c);
      const e = res.error;
      if (e !== undefined) {
        const wrong = wrongError(e);
        if (wrong) {
          problems.push(`not a proper HalideError: ${wrong}`);
          fatal ||= !(e instanceof HalideError);
        }
        if (e instanceof HalideError && /call stack/i.test(e.message)) lastOverflow = { i, c };
        // The pipeline stays usable after any error.
        if (!fatal) {
          const echo = runCase(p, { which: which('echo'), a: i, b: 1 });
          if (!echo.out || echo.out[0] !== i + 1) {
            problems.push(`the pipeline is not usable after this error (${e?.code}: ${String(e?.message).slice(0, 200)}): ` +
              `an ordinary run then gave ${echo.out ?? `${echo.error?.code}: ${echo.error?.message}`}`);
            fatal = true;
          }
        }
        try {
          memBytes = p.stats().memoryBytes;
        } catch (e2) {
          problems.push(`stats() after the error threw: ${wrongError(e2) ?? e2.message}`);
          fatal = true;
        }
      } else {
        if (nameOf(c.which) === 'malloc-churn' && res.out[0] === OVERLAP) {
          problems.push('malloc returned overlapping blocks (one block\'s memset overwrote another\'s bytes)');
        }
        memBytes = res.out[1] >>> 0 || memBytes;
        if (res.out[0] !== 0) {
          recent.push(res.out[0]);
          if (recent.length > 8) recent.shift();
        }
      }
      if (spy.calls.length) {
        problems.push(`console output:\n${spy.calls.slice(0, 3).join('\n').slice(0, 3000)}`);
        spy.calls.length = 0;
        fatal = true;
      }
      const grown = executorMemoryBytes() - memBase;
      if (grown > FUZZ_GROWTH_LIMIT) {
        problems.push(`executor memory growth: ${mib(grown)} since the first case (now ${mib(executorMemoryBytes())})`);
        memBase = executorMemoryBytes();
      }
      // The pipeline holds at most one instance (a trap or an abort frees
      // it now or at the next run, which makes a new one): one leaked by a
      // failed run shows after the ordinary run that follows it.
      const live = diagnostics.liveInstances();
      const allowed = liveFloor + 1;
      if (live > allowed) {
        const overflow = lastOverflow === null ? ''
          : lastOverflow.i === i ? '; this run overflowed the stack'
            : `; this executor last overflowed the stack in case #${lastOverflow.i} ${describeCase(lastOverflow.c)}`;
        problems.push(`leaked instance: liveInstances() is ${live} after this run, at most ${allowed} expected${overflow}`);
        // A reference left behind by an unwound import may be the
        // executor's state: go on in a fresh one.
        fatal = true;
      }
      if (problems.length) failure(i, c, problems);
      if (fatal) {
        report.stoppedAt = i;
        return report;
      }
    }
    // The pipeline still works, and everything is freed.
    const echo = runCase(p, { which: which('echo'), a: 40, b: 2 });
    if (!echo.out || echo.out[0] !== 42) failure(to, null, [`after the last case an echo run gave ${echo.out ?? echo.error?.stack}`]);
    p.dispose();
    if (diagnostics.liveInstances() !== liveFloor) {
      failure(to, null, [`after the last case liveInstances() is ${diagnostics.liveInstances()} after dispose(), ${liveFloor} expected`]);
    }
    if (spy.calls.length) failure(to, null, [`console output:\n${spy.calls.slice(0, 3).join('\n')}`]);
  } catch (e) {
    report.crash = String(e?.stack ?? e);
  } finally {
    spy.restore();
  }
  return report;
}

/**
 * In a fresh executor: loads the hostile module with configuration
 * `config`, makes `calls`, then an `echo` run, and disposes. Reports each
 * outcome, the console, liveInstances and the executor's memory (after one
 * warm-up run) around it all.
 */
function runCalls({ bytes, config, calls }) {
  const spy = spyConsole();
  const report = { results: [], console: spy.calls };
  try {
    report.liveBase = diagnostics.liveInstances();
    const p = Pipeline.loadSync(bytes, configOptions(config));
    runCase(p, { which: which('echo'), a: 1, b: 2 });
    report.memBefore = executorMemoryBytes();
    for (const c of calls) {
      const r = runCase(p, c);
      const e = r.error;
      report.results.push(e === undefined
        ? { out: r.out }
        : { wrong: wrongError(e), code: e?.code, message: String(e?.message ?? e) });
      report.results.at(-1).live = diagnostics.liveInstances();
    }
    report.memAfter = executorMemoryBytes();
    const echo = runCase(p, { which: which('echo'), a: 40, b: 2 });
    report.echo = echo.out ? echo.out[0] : `failed: ${echo.error?.code ?? echo.error?.name}: ${echo.error?.message}`;
    p.dispose();
    report.liveAfterDispose = diagnostics.liveInstances();
  } catch (e) {
    report.crash = String(e?.stack ?? e);
  } finally {
    spy.restore();
  }
  return report;
}

/** `job` (runSegment or runCalls, by name) in a worker thread: a fresh executor. */
function inWorker(job, data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL(import.meta.url), { workerData: { importsFuzzWorker: job, ...data } });
    w.once('message', resolve);
    w.once('error', reject);
    w.once('exit', (code) => reject(new Error(`the worker exited (${code}) without a report`)));
  });
}

if (!isMainThread && workerData?.importsFuzzWorker) {
  const job = { runSegment, runCalls }[workerData.importsFuzzWorker];
  parentPort.postMessage(job(workerData));
} else {
  registerTests();
}

// ---------------------------------------------------------------------------
// The tests.

/** The names of the `env` functions the executor's sources say it provides. */
function providedBySources() {
  const read = (p) => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');
  const names = new Set();
  // exports! { "name" => hwe_fn(...) ... } tables (libm, libc)
  for (const file of ['src/libm_exports.rs', 'src/js/libc_exports.rs']) {
    for (const m of read(file).matchAll(/"([A-Za-z_][A-Za-z0-9_]*)"\s*=>\s*hwe_/g)) names.add(m[1]);
  }
  // ("name", "hwe_fn") pairs (HEAP_IMPORTS, LIBC_IMPORTS' extra rows)
  for (const file of ['src/js/heap_exports.rs', 'src/js/libc_exports.rs']) {
    for (const m of read(file).matchAll(/\(\s*"([A-Za-z_][A-Za-z0-9_]*)"\s*,\s*"hwe_[A-Za-z0-9_]+"\s*\)/g)) names.add(m[1]);
  }
  const imports = read('src/js/imports.rs');
  const jsLibc = imports.match(/JS_LIBC\s*:[^=]*=\s*&\[([^\]]*)\]/);
  for (const m of jsLibc?.[1].matchAll(/"([^"]+)"/g) ?? []) names.add(m[1]);
  const helper = imports.match(/TRACE_HELPER\s*:\s*&str\s*=\s*"([^"]+)"/);
  if (helper) names.add(helper[1]);
  assert.ok(jsLibc && helper, 'imports.rs no longer has JS_LIBC and TRACE_HELPER: update providedBySources');
  return names;
}

function registerTests() {
  test('the hostile module imports every env function the executor provides', async () => {
    const provided = providedBySources();
    assert.ok(provided.size > 80, `found only ${provided.size} names in the sources: update providedBySources`);
    const missing = [...provided].filter((n) => !IMPORT_NAMES.includes(n));
    assert.deepEqual(missing, [], 'the harness lacks these imports: add them (with their signatures) to IMPORTS');
    // Loading proves the executor provides each one, with these signatures.
    const p = Pipeline.loadSync(await hostileModule(), configOptions('quiet'));
    const r = runCase(p, { which: which('echo'), a: 40, b: 2 });
    assert.deepEqual(r.out, [42, 4 * 65536], r.error?.stack);
    p.dispose();
  });

  test(`${CASES} seeded calls of every import and hostile scenario: HalideErrors only, no console, no leaks, bounded executor memory`, async () => {
    const bytes = await hostileModule();
    const t0 = Date.now();
    const failures = [];
    let from = 0;
    // A case that may have broken the executor ends its worker; the next
    // worker, a fresh executor, starts after it.
    let workers = 0;
    while (from < CASES && workers < 30) {
      workers++;
      const rep = await inWorker('runSegment', { bytes, seed: SEED, from, to: CASES });
      failures.push(...rep.failures);
      if (rep.crash) {
        failures.push({ i: from, problems: [`the harness crashed in a worker: ${rep.crash}`] });
        break;
      }
      if (rep.stoppedAt === null) break;
      from = rep.stoppedAt + 1;
    }
    if (from < CASES && workers === 30) failures.push({ i: from, problems: [`gave up at case #${from} after 30 workers`] });
    const seconds = ((Date.now() - t0) / 1000).toFixed(1);
    if (failures.length === 0) return;
    // One line per kind of failure (scenario and first words of each
    // problem), with how often it came, its first case replayed alone.
    const kinds = new Map();
    for (const f of failures) {
      const key = `${f.c ? nameOf(f.c.which) : ''}|${f.problems.map((p) => p.split(':')[0]).join('+')}`;
      if (kinds.has(key)) kinds.get(key).count++;
      else kinds.set(key, { ...f, count: 1 });
    }
    const lines = [];
    for (const f of kinds.values()) {
      let alone = '';
      if (f.c) {
        const rep = await inWorker('runCalls', { bytes, config: f.cfg, calls: [f.c] });
        const x = rep.results[0];
        alone = rep.crash && !x ? `replayed alone, the worker crashed: ${rep.crash}`
          : `replayed alone on a fresh pipeline: ${x.out ? `succeeded (${x.out[0]})` : x.wrong ?? `HalideError '${x.code}': ${x.message}`}` +
            `${rep.console.length ? `; console: ${rep.console[0].split('\n')[0].slice(0, 200)}` : ''}` +
            `; executor memory +${mib(rep.memAfter - rep.memBefore)}` +
            `; liveInstances ${rep.liveBase} -> ${x.live} -> ${rep.liveAfterDispose ?? '?'} after dispose` +
            `${rep.crash ? `; then: ${rep.crash.split('\n')[0]}` : ''}`;
      }
      const where = f.c ? `case #${f.i} [${f.cfg}] ${describeCase(f.c)}` : `after case #${f.i}`;
      const times = f.count > 1 ? ` (and ${f.count - 1} more like it)` : '';
      lines.push(`- ${where}${times}\n    ${f.problems.join('\n').split('\n').join('\n    ')}${alone ? `\n    ${alone}` : ''}`);
    }
    const skipped = SKIP.size ? `, FUZZ_SKIP=${[...SKIP].join(',')}` : '';
    assert.fail(`${failures.length} failing case(s), ${kinds.size} kind(s), in ${seconds} s (FUZZ_SEED=${SEED}, FUZZ_CASES=${CASES}${skipped}):\n${lines.join('\n')}`);
  });

  /** The checks of a focused test on one isolated report. */
  function expectContained(rep, { code = 'trap', message = [], maxLive = null } = {}) {
    assert.equal(rep.crash, undefined, rep.crash);
    for (const [k, x] of rep.results.entries()) {
      assert.equal(x.out, undefined, `run ${k} must fail, it gave ${x.out}`);
      assert.equal(x.wrong, null, `run ${k}: ${x.wrong}`);
      assert.ok([code].flat().includes(x.code), `run ${k}: code '${x.code}': ${x.message}`);
      assert.doesNotMatch(x.message, /unreachable/i, `run ${k}: the executor itself trapped: ${x.message}`);
      for (const m of message) assert.match(x.message, m, `run ${k}: the message must say what was wrong`);
      if (maxLive !== null) assert.ok(x.live <= rep.liveBase + maxLive, `run ${k}: liveInstances ${x.live}, baseline ${rep.liveBase}`);
    }
    assert.deepEqual(rep.console, [], 'nothing may reach the console');
    assert.equal(rep.liveAfterDispose, rep.liveBase, 'liveInstances returns to its baseline after dispose()');
    const grown = rep.memAfter - rep.memBefore;
    assert.ok(grown <= FOCUSED_GROWTH_LIMIT, `the executor's own memory grew by ${mib(grown)} (to ${mib(rep.memAfter)})`);
    assert.equal(rep.echo, 42, 'the pipeline works after the failure');
  }
  /** A regex for `n` written in decimal or hex. */
  const named = (n) => new RegExp(`\\b(${n >>> 0}|0x0*${(n >>> 0).toString(16)})\\b`, 'i');
  const isolated = async (config, calls, pages = 4) =>
    inWorker('runCalls', { bytes: await hostileModule(pages), config, calls });

  test('write(1, p, 0xFFFFFFFF) is a trap naming the range, with maxMemoryBytes 1 MiB', async () => {
    const rep = await isolated('max 1 MiB', [{ which: which('write'), a: 1, b: 0x1234, c: -1 }]);
    expectContained(rep, { message: [named(0xffffffff), named(0x1234)] });
  });

  test('write(1, 0, 2147483000) is a trap naming the range, with maxMemoryBytes 1 MiB', async () => {
    const rep = await isolated('max 1 MiB', [{ which: which('write'), a: 1, b: 0, c: 2147483000 }]);
    expectContained(rep, { message: [named(2147483000), named(0)] });
  });

  test('memcmp(a, b, 0xFFFFFFFF) is a trap naming the range, with maxMemoryBytes 1 MiB', async () => {
    const rep = await isolated('max 1 MiB', [{ which: which('memcmp'), a: 0x100, b: 0x200, c: -1 }]);
    expectContained(rep, { message: [named(0xffffffff), /\b(0x0*100|256|0x0*200|512)\b/i] });
  });

  test('ten huge writes by a guest with 64 MiB of memory keep no instance alive', async () => {
    const call = { which: which('write'), a: 1, b: 0x1234, c: -1 };
    const rep = await isolated('quiet', Array(10).fill(call), 1024);
    expectContained(rep, { message: [named(0xffffffff)], maxLive: 1 });
  });

  test('a stack overflow inside any import is a trap that leaks nothing and leaves the executor working', async () => {
    // The guest recurses, calling the import on every level, until the
    // stack runs out: the RangeError lands inside the import's own code.
    const problems = [];
    for (const [k, [name]] of DEEP_CALLS.entries()) {
      for (const config of ['quiet', 'tracing']) {
        const rep = await isolated(config, [{ which: which('recurse-into-imports'), a: 0, b: k }]);
        try {
          // 'callback' when the overflow lands in options.trace itself.
          expectContained(rep, { code: ['trap', 'callback'], message: [/stack/i] });
        } catch (e) {
          problems.push(`${name} [${config}] (which=${which('recurse-into-imports')} b=${k}): ${e.message.split('\n')[0]}`);
        }
      }
    }
    assert.deepEqual(problems, []);
  });

  test('a guest whose memory reaches 4 GiB leaves the pipeline usable', async () => {
    // malloc grows the memory to its last page: 2^32 bytes, one past u32.
    const rep = await isolated('quiet', [{ which: which('malloc'), a: 0xffffc044 }]);
    assert.equal(rep.crash, undefined, rep.crash);
    const x = rep.results[0];
    assert.equal(x.wrong ?? null, null, x.wrong);
    assert.deepEqual(rep.console, [], 'nothing may reach the console');
    assert.equal(rep.echo, 42, `the pipeline works after it (the run gave ${x.out ?? `${x.code}: ${x.message}`})`);
    assert.equal(rep.liveAfterDispose, rep.liveBase, 'liveInstances returns to its baseline after dispose()');
  });

  test('a trace packet that never completes ends in a trap, not in unbounded executor memory', async () => {
    // getenv("HL_TRACE_FILE"), fopen, fileno, then 512 writes of 64 KiB
    // continuing a packet whose header claims 2 GiB.
    const rep = await isolated('trace', [{ which: which('trace-huge-claim'), b: 511, c: 0x10000 }]);
    expectContained(rep, { message: [/trace/i, /packet/i] });
  });
}
