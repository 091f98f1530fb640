// The POSIX threads a threaded Halide module (`wasm_threads`) imports, for
// one thread of it (Rust side: src/js/threads.rs). Every thread of a
// pipeline, the caller's and each worker's, has a `GuestThreads` over the
// same two shared buffers:
// - the guest's memory, where Halide's mutexes and condition variables live
//   (a futex-style mutex, 0 free, 1 locked, 2 contended; a condition
//   variable as a sequence counter), and
// - the pool's control block (a SharedArrayBuffer of the executor's):
//   whether the run failed and why, how many workers are ready, and one
//   slot per worker through which `pthread_create` hands it a function.
//
// `pthread_create` cannot wait for anything (Halide calls it holding its
// queue lock), so the workers exist, parked, before the pipeline runs, and
// a call takes a parked one. Every wait is timed and looks at the failure
// flag when it wakes: when one thread traps or aborts, the others stop at
// their next lock or wait instead of waiting for it forever.

// The control block, in 32-bit words.
export const FAILED = 0; // 0, or the failure's kind (below)
export const READY = 1; // workers ready to run
export const WORKERS = 2; // workers started
export const TEXT_LEN = 3; // bytes of the failure's text
export const PRINT_LEN = 4; // bytes of worker output waiting for the caller
export const PRINT_LOCK = 5;
export const SLOTS = 16; // 4 words a worker: state, function, argument, spare
export const MAX_WORKERS = 255;
export const TEXT_AT = 4 * (SLOTS + 4 * MAX_WORKERS + 4); // failure text, bytes
export const TEXT_MAX = 8 * 1024;
export const PRINT_AT = TEXT_AT + TEXT_MAX; // worker output, bytes
export const PRINT_MAX = 64 * 1024;
export const CONTROL_BYTES = PRINT_AT + PRINT_MAX;

// Failure kinds.
export const TRAP = 1;
export const ABORT = 2;
export const CALLBACK = 3;

// Worker slot states.
export const PARKED = 0;
export const CLAIMED = 1;
export const ASSIGNED = 2;
export const RUNNING = 3;
export const DONE = 4;

/// How long one wait lasts before it looks at the failure flag, in ms.
const TICK = 20;

const encoder = new TextEncoder();

/// A new control block for `workers` workers.
export function newControl(workers) {
  const c = new Int32Array(new SharedArrayBuffer(CONTROL_BYTES));
  c[WORKERS] = workers;
  return c.buffer;
}

/// Records the run's first failure (`kind`, `text`) and wakes every waiter
/// the pool knows of. Returns false when another failure came first.
export function fail(control, kind, text) {
  const c = new Int32Array(control);
  if (Atomics.compareExchange(c, FAILED, 0, -1) !== 0) return false;
  const bytes = encoder.encode(text).subarray(0, TEXT_MAX);
  new Uint8Array(control, TEXT_AT, bytes.length).set(bytes);
  c[TEXT_LEN] = bytes.length;
  Atomics.store(c, FAILED, kind);
  for (let i = 0; i < c[WORKERS]; i++) Atomics.notify(c, SLOTS + 4 * i);
  Atomics.notify(c, READY);
  return true;
}

/// `[kind, text]` of the run's failure, or `[0, '']`.
export function failure(control) {
  const c = new Int32Array(control);
  const kind = Atomics.load(c, FAILED);
  if (kind <= 0) return [0, ''];
  const bytes = new Uint8Array(control, TEXT_AT, c[TEXT_LEN]).slice();
  return [kind, new TextDecoder().decode(bytes)];
}

/// Waits until `n` workers are ready (or one failed, or `ms` passed):
/// true when they are. Blocks the calling thread.
export function waitReady(control, n, ms) {
  const c = new Int32Array(control);
  const end = performance.now() + ms;
  for (;;) {
    const r = Atomics.load(c, READY);
    if (r >= n) return true;
    if (Atomics.load(c, FAILED) !== 0) return false;
    const left = end - performance.now();
    if (left <= 0) return false;
    Atomics.wait(c, READY, r, Math.min(left, TICK));
  }
}

/// The same without blocking: a promise of whether `n` workers became
/// ready (false when one failed or `ms` passed). Each tick is also a
/// timer, which keeps a Node process alive while it waits (a pending
/// Atomics.waitAsync alone does not).
export async function whenReady(control, n, ms) {
  const c = new Int32Array(control);
  const end = performance.now() + ms;
  for (;;) {
    const r = Atomics.load(c, READY);
    if (r >= n) return true;
    if (Atomics.load(c, FAILED) !== 0) return false;
    const left = end - performance.now();
    if (left <= 0) return false;
    const t = Math.min(left, TICK);
    const w = typeof Atomics.waitAsync === 'function' ? Atomics.waitAsync(c, READY, r, t) : null;
    let timer;
    await new Promise((resolve) => {
      timer = setTimeout(resolve, t);
      if (w && w.async) w.value.then(resolve);
    });
    clearTimeout(timer);
  }
}

let blocking;

/// Whether this thread may block in Atomics.wait: not a page's main
/// thread (where it throws); Node's threads and workers may.
export function canBlock() {
  if (blocking === undefined) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blocking = true;
    } catch {
      blocking = false;
    }
  }
  return blocking;
}

/// Whether this host can make shared memory: a page (or its workers)
/// must be cross-origin isolated.
export function canShareMemory() {
  return globalThis.crossOriginIsolated !== false && typeof SharedArrayBuffer === 'function';
}

/// A worker reports that it is parked and ready.
export function markReady(control) {
  const c = new Int32Array(control);
  Atomics.add(c, READY, 1);
  Atomics.notify(c, READY);
}

/// A worker's `print`: its text waits for the caller's, after the run.
export function printer(control) {
  return (text) => appendPrint(control, text);
}

/// Appends text a worker printed, for the caller's `print` after the run.
export function appendPrint(control, text) {
  const c = new Int32Array(control);
  while (Atomics.compareExchange(c, PRINT_LOCK, 0, 1) !== 0) Atomics.wait(c, PRINT_LOCK, 1, 1);
  try {
    const bytes = encoder.encode(text);
    const used = c[PRINT_LEN];
    const n = Math.min(bytes.length, PRINT_MAX - used);
    new Uint8Array(control, PRINT_AT + used, n).set(bytes.subarray(0, n));
    c[PRINT_LEN] = used + n;
  } finally {
    Atomics.store(c, PRINT_LOCK, 0);
    Atomics.notify(c, PRINT_LOCK, 1);
  }
}

/// Takes what the workers printed.
export function takePrints(control) {
  const c = new Int32Array(control);
  while (Atomics.compareExchange(c, PRINT_LOCK, 0, 1) !== 0) Atomics.wait(c, PRINT_LOCK, 1, 1);
  try {
    const n = c[PRINT_LEN];
    if (n === 0) return '';
    const text = new TextDecoder().decode(new Uint8Array(control, PRINT_AT, n).slice());
    c[PRINT_LEN] = 0;
    return text;
  } finally {
    Atomics.store(c, PRINT_LOCK, 0);
    Atomics.notify(c, PRINT_LOCK, 1);
  }
}

/// Thrown into the guest when another thread failed: unwinds this one.
class Stopped extends Error {}

export class GuestThreads {
  /// `threads`: what `sysconf(_SC_NPROCESSORS_ONLN)` answers.
  constructor(memory, control, threads) {
    this.memory = memory;
    this.c = new Int32Array(control);
    this.control = control;
    this.m = new Int32Array(memory.buffer);
    const self = this;
    const view = () => {
      if (self.m.byteLength !== self.memory.buffer.byteLength) self.m = new Int32Array(self.memory.buffer);
      return self.m;
    };
    const word = (p) => {
      p >>>= 0;
      const m = view();
      if ((p & 3) !== 0 || p + 4 > m.byteLength) self.badPointer(p);
      return p >>> 2;
    };
    const stopIfFailed = () => {
      if (Atomics.load(self.c, FAILED) !== 0) throw new Stopped('halide-wasm-executor: another thread of the pipeline failed');
    };
    const wait = (i, value) => {
      stopIfFailed();
      Atomics.wait(view(), i, value, TICK);
      stopIfFailed();
    };
    const lock = (p) => {
      const i = word(p);
      const m = self.m;
      let s = Atomics.compareExchange(m, i, 0, 1);
      if (s === 0) return 0;
      for (let spin = 0; spin < 64 && s !== 0; spin++) s = Atomics.compareExchange(m, i, 0, 1);
      if (s === 0) return 0;
      if (s !== 2) s = Atomics.exchange(m, i, 2);
      while (s !== 0) {
        wait(i, 2);
        s = Atomics.exchange(self.m, i, 2);
      }
      return 0;
    };
    const unlock = (p) => {
      const i = word(p);
      const m = self.m;
      if (Atomics.sub(m, i, 1) !== 1) {
        Atomics.store(m, i, 0);
        Atomics.notify(m, i, 1);
      }
      return 0;
    };
    const zero = (p) => {
      Atomics.store(view(), word(p), 0);
      return 0;
    };
    this.imports = {
      pthread_mutex_init: zero,
      pthread_mutex_destroy: () => 0,
      pthread_mutex_lock: lock,
      pthread_mutex_unlock: unlock,
      pthread_cond_init: zero,
      pthread_cond_destroy: () => 0,
      pthread_cond_wait: (cv, mu) => {
        const i = word(cv);
        const seq = Atomics.load(self.m, i);
        unlock(mu);
        // No spinning before the sleep: measured, polling for up to ~40 us
        // changed nothing (Halide's own pool spins before it parks).
        wait(i, seq);
        lock(mu);
        return 0;
      },
      pthread_cond_signal: (cv) => {
        const i = word(cv);
        Atomics.add(self.m, i, 1);
        Atomics.notify(self.m, i, 1);
        return 0;
      },
      pthread_cond_broadcast: (cv) => {
        const i = word(cv);
        Atomics.add(self.m, i, 1);
        Atomics.notify(self.m, i);
        return 0;
      },
      sched_yield: () => 0,
      // _SC_NPROCESSORS_ONLN (84) and _SC_NPROCESSORS_CONF (83).
      sysconf: (name) => (name === 84 || name === 83 ? threads : -1),
      pthread_create: (thread, _attr, fn, arg) => {
        const c = self.c;
        for (let w = 0; w < c[WORKERS]; w++) {
          const s = SLOTS + 4 * w;
          if (Atomics.compareExchange(c, s, PARKED, CLAIMED) !== PARKED) continue;
          c[s + 1] = fn;
          c[s + 2] = arg;
          Atomics.store(c, s, ASSIGNED);
          Atomics.notify(c, s);
          Atomics.store(view(), word(thread), w + 1);
          return 0;
        }
        // Halide ignores the result: with no worker to run the thread, the
        // run cannot finish, so it fails now.
        fail(self.control, TRAP, `pthread_create: no free worker thread (the pool has ${c[WORKERS]}); the pipeline wants more threads than options.threads gives it`);
        stopIfFailed();
        return 11;
      },
      pthread_join: (thread) => {
        const w = (thread >>> 0) - 1;
        const c = self.c;
        if (w < 0 || w >= c[WORKERS]) return 3; // ESRCH
        const s = SLOTS + 4 * w;
        for (let st = Atomics.load(c, s); st !== DONE; st = Atomics.load(c, s)) {
          stopIfFailed();
          Atomics.wait(c, s, st, TICK);
        }
        // The thread may have ended by failing.
        stopIfFailed();
        return 0;
      },
    };
    this.badPointer = () => {
      throw new Stopped('halide-wasm-executor: a pthread object outside the guest memory');
    };
  }

  /// Worker `w`'s loop: parks until `pthread_create` hands it a function,
  /// runs it with `run(fn, arg)`, and marks the thread done. Returns when
  /// the pool failed.
  static serve(control, w, run) {
    const c = new Int32Array(control);
    const s = SLOTS + 4 * w;
    for (;;) {
      const st = Atomics.load(c, s);
      if (Atomics.load(c, FAILED) !== 0) return;
      if (st !== ASSIGNED) {
        Atomics.wait(c, s, st, 1000);
        continue;
      }
      Atomics.store(c, s, RUNNING);
      run(c[s + 1], c[s + 2]);
      Atomics.store(c, s, DONE);
      Atomics.notify(c, s);
    }
  }
}
