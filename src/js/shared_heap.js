// The guest heap of a threaded pipeline (`wasm_threads`), shared by every
// thread (Rust side: the `Heap::Shared` of src/js/guest.rs).
//
// Why here, and why JavaScript: a threaded guest calls `malloc`/`free` from
// every thread, so the allocator's state must be reachable from every
// thread. The executor's own wasm memory is not shared (a stable Rust
// toolchain cannot build a shared-memory wasm-bindgen module), so the state
// lives in the guest's own shared memory, at `__heap_base`, behind a
// futex-style lock word, and the code that reads it is JavaScript, which
// sees that memory directly (from Rust every access would cross into
// JavaScript). A JavaScript import costs ~4 ns a call against ~2.5 for a
// wasm one; Halide calls malloc a few hundred times a run.
//
// The algorithm is TLSF (two-level segregated fit): free blocks in 27x8
// size classes with two levels of bitmaps, so that malloc and free take
// constant time whatever the heap holds; boundary tags to coalesce. Each
// block has a 16-byte header, and payloads are 16-byte aligned:
//   word 0  the physically previous block (0 for the first)
//   word 1  size in bytes, header included (a multiple of 16) | FREE | PREV_FREE
//   word 2  next free block in its class (free blocks only)
//   word 3  previous free block in its class (free blocks only)
// A used block of size 16 (header only) ends the heap; growth moves it.
//
// The guest can write its whole memory, this state included: a guest that
// scribbles on it can corrupt its own heap (its memory is its own), but
// every loop here is bounded and every address is checked, so the host
// never hangs or faults on it; a `free` of something that is no live block
// is reported (`INVALID`).

const FREE = 1;
const PREV_FREE = 2;
const FLAGS = 3;
const HEADER = 16;
const MIN_BLOCK = 32;
const SL_LOG = 3;
const SL_COUNT = 1 << SL_LOG;
const FL_SHIFT = 5; // the smallest class holds blocks of 32..63 bytes
const FL_COUNT = 32 - FL_SHIFT;

// The control block at the heap's start, in words.
const LOCK = 0;
const FL_MAP = 1;
const SL_MAP = 2; // FL_COUNT words
const HEADS = SL_MAP + FL_COUNT; // FL_COUNT * SL_COUNT words
const IN_USE = HEADS + FL_COUNT * SL_COUNT;
const LIVE = IN_USE + 1;
const FIRST = LIVE + 1; // the first block
const END = FIRST + 1; // the end block
const MAX_BYTES = END + 1; // the memory's maximum, in bytes (0: 4 GiB)
const CONTROL_WORDS = MAX_BYTES + 1;
const CONTROL_BYTES = (CONTROL_WORDS * 4 + 15) & ~15;

/// What `free` returns for a pointer that is no live block.
export const INVALID = -1;

function clz(x) {
  return Math.clz32(x);
}
function ctz(x) {
  return 31 - Math.clz32(x & -x);
}

export class SharedHeap {
  /// The heap of `memory` (a shared WebAssembly.Memory). Its `malloc` and
  /// `free` exist before the instance does (they go into its import
  /// object); `bind` places the heap once the instance has initialised the
  /// memory, and until then `malloc` returns 0.
  constructor(memory) {
    this.memory = memory;
    this.base = 0;
    this.c = -1;
    this.m = new Int32Array(memory.buffer);
    const self = this;
    /// The guest's imports, bound to this heap.
    this.malloc = (n) => (self.c < 0 ? 0 : self.alloc(n >>> 0));
    this.free = (p) => {
      if (self.c >= 0 && self.release(p >>> 0) === INVALID) self.onInvalidFree(p >>> 0);
    };
    /// Called with a pointer `free` was handed that is no live block;
    /// it may throw into the guest.
    this.onInvalidFree = () => {};
  }

  /// Places the heap's control block at `base` (`__heap_base`); `init`
  /// lays it out (once per memory, before any thread allocates), a cap of
  /// `maxBytes` on the memory.
  bind(base, init, maxBytes) {
    this.base = (base + 15) & ~15;
    this.c = this.base >>> 2;
    if (init) this.init(maxBytes);
  }

  /// A view that covers the memory as it is now (views of a shared buffer
  /// do not see growth).
  view() {
    const m = this.m;
    if (m.byteLength !== this.memory.buffer.byteLength) this.m = new Int32Array(this.memory.buffer);
    return this.m;
  }

  init(maxBytes) {
    const m = this.view();
    const c = this.c;
    m.fill(0, c, c + CONTROL_WORDS);
    const first = this.base + CONTROL_BYTES;
    const size = this.memory.buffer.byteLength;
    m[c + MAX_BYTES] = maxBytes >= 2 ** 32 ? 0 : maxBytes | 0;
    m[c + FIRST] = first;
    const endAt = ((size - HEADER) & ~15) >>> 0;
    if (endAt >= first + MIN_BLOCK) {
      this.setEnd(m, endAt, 0);
      this.makeFree(m, first, endAt - first, 0);
    } else {
      this.setEnd(m, first, 0);
    }
  }

  setEnd(m, at, prev) {
    const w = at >>> 2;
    m[w] = prev;
    m[w + 1] = HEADER;
    m[this.c + END] = at;
  }

  size(m, b) {
    return (m[(b >>> 2) + 1] & ~FLAGS) >>> 0;
  }

  mapping(size) {
    const fl = 31 - clz(size);
    return [fl - FL_SHIFT, (size >>> (fl - SL_LOG)) ^ SL_COUNT];
  }

  insert(m, b, size) {
    const [fl, sl] = this.mapping(size);
    const head = this.c + HEADS + fl * SL_COUNT + sl;
    const w = b >>> 2;
    const next = m[head] >>> 0;
    m[w + 2] = next;
    m[w + 3] = 0;
    if (next) m[(next >>> 2) + 3] = b;
    m[head] = b;
    m[this.c + FL_MAP] |= 1 << fl;
    m[this.c + SL_MAP + fl] |= 1 << sl;
  }

  remove(m, b, size) {
    const [fl, sl] = this.mapping(size);
    const head = this.c + HEADS + fl * SL_COUNT + sl;
    const w = b >>> 2;
    const next = m[w + 2] >>> 0;
    const prev = m[w + 3] >>> 0;
    if (prev) m[(prev >>> 2) + 2] = next;
    else m[head] = next;
    if (next) m[(next >>> 2) + 3] = prev;
    if (m[head] === 0) {
      m[this.c + SL_MAP + fl] &= ~(1 << sl);
      if (m[this.c + SL_MAP + fl] === 0) m[this.c + FL_MAP] &= ~(1 << fl);
    }
  }

  /// Marks `[b, b + size)` free (after `prev`, a used block: two free
  /// blocks are never neighbours), inserts it, and tells the next block.
  makeFree(m, b, size, prev) {
    const w = b >>> 2;
    m[w] = prev;
    m[w + 1] = size | FREE;
    this.insert(m, b, size);
    const next = (b + size) >>> 2;
    m[next] = b;
    m[next + 1] |= PREV_FREE;
  }

  /// `size` rounded up to the next class boundary: any block of that
  /// class or above fits.
  roundUp(size) {
    const fl0 = 31 - clz(size);
    return fl0 >= SL_LOG + FL_SHIFT ? size + (1 << (fl0 - SL_LOG)) - 1 : size;
  }

  /// A free block of at least `size` bytes, taken out of its list, or 0.
  find(m, size) {
    const up = this.roundUp(size);
    if (up >= 2 ** 31) return 0;
    let [fl, sl] = this.mapping(up);
    if (fl >= FL_COUNT) return 0;
    let slMap = m[this.c + SL_MAP + fl] & (~0 << sl);
    if (slMap === 0) {
      const flMap = fl + 1 >= 32 ? 0 : m[this.c + FL_MAP] & (~0 << (fl + 1));
      if (flMap === 0) return 0;
      fl = ctz(flMap);
      slMap = m[this.c + SL_MAP + fl];
    }
    sl = ctz(slMap);
    const b = m[this.c + HEADS + fl * SL_COUNT + sl] >>> 0;
    if (b === 0) return 0;
    this.remove(m, b, this.size(m, b));
    return b;
  }

  lock() {
    const m = this.view();
    const i = this.c + LOCK;
    let s = Atomics.compareExchange(m, i, 0, 1);
    if (s === 0) return;
    for (let spin = 0; spin < 100 && s !== 0; spin++) s = Atomics.compareExchange(m, i, 0, 1);
    if (s === 0) return;
    if (s !== 2) s = Atomics.exchange(m, i, 2);
    while (s !== 0) {
      Atomics.wait(m, i, 2, 10);
      s = Atomics.exchange(m, i, 2);
    }
  }

  unlock() {
    const m = this.m;
    const i = this.c + LOCK;
    if (Atomics.sub(m, i, 1) !== 1) {
      Atomics.store(m, i, 0);
      Atomics.notify(m, i, 1);
    }
  }

  /// `malloc(n)`: a 16-byte aligned block, or 0.
  alloc(n) {
    if (n > 0x7fffffe0) return 0;
    const size = Math.max(MIN_BLOCK, (n + HEADER + 15) & ~15);
    this.lock();
    try {
      let m = this.view();
      let b = this.find(m, size);
      if (b === 0) {
        if (!this.grow(this.roundUp(size))) return 0;
        m = this.view();
        b = this.find(m, size);
        if (b === 0) return 0;
      }
      const w = b >>> 2;
      const have = this.size(m, b);
      const rest = have - size;
      if (rest >= MIN_BLOCK) {
        m[w + 1] = size | (m[w + 1] & PREV_FREE);
        this.makeFree(m, b + size, rest, b);
      } else {
        m[w + 1] = have | (m[w + 1] & PREV_FREE);
        const next = (b + have) >>> 2;
        m[next + 1] &= ~PREV_FREE;
      }
      m[this.c + IN_USE] += this.size(m, b);
      m[this.c + LIVE] += 1;
      return b + HEADER;
    } finally {
      this.unlock();
    }
  }

  /// Grows the memory so that a free block of `size` bytes exists; false
  /// when the memory may not grow that far.
  grow(size) {
    const m = this.view();
    const end = m[this.c + END] >>> 0;
    const prevFree = (m[(end >>> 2) + 1] & PREV_FREE) !== 0;
    const prev = m[end >>> 2] >>> 0;
    // The new free block starts at the end block, or at a free block
    // before it, and the new end block follows it.
    const start = prevFree ? prev : end;
    const need = start + size + HEADER - this.memory.buffer.byteLength;
    const pages = Math.ceil(Math.max(need, 0) / 65536);
    const max = m[this.c + MAX_BYTES] >>> 0 || 2 ** 32;
    if (this.memory.buffer.byteLength + pages * 65536 > max) return false;
    try {
      if (pages > 0) this.memory.grow(pages);
    } catch {
      return false;
    }
    const n = this.view();
    const newEnd = ((this.memory.buffer.byteLength - HEADER) & ~15) >>> 0;
    let at = end;
    let before = prev;
    if (prevFree) {
      this.remove(n, prev, this.size(n, prev));
      at = prev;
      before = n[prev >>> 2] >>> 0;
    }
    this.setEnd(n, newEnd, 0);
    this.makeFree(n, at, newEnd - at, before);
    return true;
  }

  /// Whether `b` is a block inside the heap's range.
  inHeap(m, b) {
    return b >= (m[this.c + FIRST] >>> 0) && b < (m[this.c + END] >>> 0) && (b & 15) === 0;
  }

  /// `free(p)`: 0, or INVALID when `p` is no live block.
  release(p) {
    if (p === 0) return 0;
    this.lock();
    try {
      const m = this.view();
      let b = p - HEADER;
      if (!this.inHeap(m, b) || m[(b >>> 2) + 1] & FREE) return INVALID;
      let size = this.size(m, b);
      if (size < MIN_BLOCK || b + size > (m[this.c + END] >>> 0)) return INVALID;
      m[this.c + IN_USE] -= size;
      m[this.c + LIVE] -= 1;
      let prev = m[b >>> 2] >>> 0;
      // Coalesce with the next block, then the previous one.
      const next = b + size;
      if (m[(next >>> 2) + 1] & FREE) {
        const ns = this.size(m, next);
        this.remove(m, next, ns);
        size += ns;
      }
      if (m[(b >>> 2) + 1] & PREV_FREE && this.inHeap(m, prev) && m[(prev >>> 2) + 1] & FREE) {
        // The absorbed header reads as free: freeing it again is seen.
        m[(b >>> 2) + 1] = FREE;
        const ps = this.size(m, prev);
        this.remove(m, prev, ps);
        size += ps;
        b = prev;
        prev = m[b >>> 2] >>> 0;
      }
      m[(b >>> 2) + 1] = 0;
      this.makeFree(m, b, size, prev);
      return 0;
    } finally {
      this.unlock();
    }
  }

  /// `[bytes in use, live allocations]`.
  stats() {
    const m = this.view();
    return [m[this.c + IN_USE] >>> 0, m[this.c + LIVE] >>> 0];
  }
}
