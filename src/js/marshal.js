// The JavaScript half of a run's hot path (Rust side: src/js/marshal.rs).
//
// Reading a caller's argument object property by property from Rust costs
// one wasm-to-JS crossing per property, about a hundred per run. Here one
// call reads every argument of the usual shape into a Float64Array that
// Rust decodes and checks; anything unusual makes `read` return BAIL and
// Rust reads the arguments itself, which also writes the precise error.
//
// The guest-memory half (`call`, `copyOut`) only performs writes and copies
// that GuestMem (Rust) has already laid out and bounds-checked: the header
// bytes staged in the executor's memory, and the caller's typed arrays.
//
// Nothing here decides anything: shapes, types, ranges, layout and errors
// are Rust's.

/// `read` returns this when Rust must read the arguments itself.
const BAIL = 0xffffffff;
// Argument kinds, as Rust's `marshal::ArgClass` numbers them.
const USER_CONTEXT = 0;
const SCALAR = 1;
// Typed-array kinds, as Rust's `ArrayKind` orders them.
const KIND_NAMES = [
  'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array', 'Float16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];
const KINDS = new Map(KIND_NAMES.map((name, i) => [name, i]));
// Constructors by kind, for copies without a byte view (Float16Array only
// where the engine has it).
const CTORS = KIND_NAMES.map((name) => globalThis[name]);
const EMPTY = [];
/// Integer arrays up to this many elements are copied by a loop: cheaper
/// than the view a `set` of part of the memory needs. (Not floats: a loop
/// through JavaScript numbers may change a NaN's bits; not bigints, which
/// it would allocate.)
const SMALL = 64;
const LOOPED = KIND_NAMES.map((name) => !/^(Float|Big)/.test(name));
const U32 = KINDS.get('Uint32Array');
/// Stages up to this many bytes are copied word by word: cheaper than the
/// subarray a `set` needs.
const SMALL_STAGE = 1024;
/// What `call` returns when the entry point threw, and when copying an
/// input in threw (the entry point itself returns integers): `takeThrown`
/// then hands the exception to Rust.
const THREW = NaN;
const COPY_IN_THREW = Infinity;

/// Copies `list[0..d]` into `out` at `k`; false unless it is an array of d numbers.
function numbers(list, d, out, k) {
  if (!Array.isArray(list) || list.length !== d) return false;
  for (let j = 0; j < d; j++) {
    const x = list[j];
    if (typeof x !== 'number') return false;
    out[k + j] = x;
  }
  return true;
}

export class Marshal {
  /// `names[i]`, `classes[i]` and `dims[i]` describe argument i; `home` is
  /// the executor's own memory, where Rust passes its buffers by address
  /// (views of it are made again after it grows).
  constructor(names, classes, dims, home) {
    this.names = names;
    this.classes = Array.from(classes);
    this.dims = Array.from(dims);
    this.home = home;
    this.homeF64 = new Float64Array(0);
    this.homeU8 = new Uint8Array(0);
    this.homeU32 = new Uint32Array(0);
    this.reading = false;
    /// The caller's typed arrays of the current run, by argument index,
    /// and their kinds when the batched reader read them.
    this.data = EMPTY;
    this.kinds = EMPTY;
    this.memory = null;
    /// Whether `memory` is shared (its buffer's length is checked per call).
    this.shared = false;
    this.u8 = new Uint8Array(0);
    /// Views of the guest memory by kind, made with `u8`.
    this.typed = [];
    this.kindsScratch = new Array(names.length).fill(0);
    /// What `call` or `copyOut` caught, until Rust takes it.
    this.thrown = undefined;
  }

  /// Views of the executor's memory, current (its growth detaches the old
  /// buffer, whose views then have no bytes).
  views() {
    if (this.homeU8.byteLength === 0) {
      const b = this.home.buffer;
      this.homeF64 = new Float64Array(b);
      this.homeU8 = new Uint8Array(b);
      this.homeU32 = new Uint32Array(b);
    }
  }

  /// Reads `args` into the executor's memory at `to`: per scalar
  /// [0 absent | 1 number | 2 boolean, value], per buffer [kind, length, byteOffset, inGuest,
  /// hasStrides, hasMins, shape..., strides..., mins...]. Returns the
  /// number of slots written, or BAIL.
  read(args, memory, to) {
    // A getter that runs this pipeline again gets the full reader.
    if (this.reading) return BAIL;
    this.reading = true;
    try {
      this.views();
      const home = this.homeF64;
      const k = this.readInto(args, memory, home, to >>> 3);
      // A getter that made this module's memory grow detached `home`, and
      // the writes were lost.
      return home.length === 0 ? BAIL : k;
    } catch {
      // A throwing getter or proxy trap: the full reader treats it as
      // Rust's Reflect::get does.
      return BAIL;
    } finally {
      this.reading = false;
    }
  }

  /// Writes the read-out into `out` from index `k`; its length, or BAIL.
  ///
  /// Only the object's own enumerable properties are arguments (as with
  /// `{ ...args }`). The batched reader reads each argument by name, which
  /// also finds inherited properties, so it takes only a plain object
  /// (whose prototype is Object.prototype), and only when the number of
  /// arguments it found equals the number of the object's own keys: then
  /// every argument it read was an own property (one inherited from a
  /// polluted Object.prototype, or named like one of its members, such as
  /// `constructor`, makes the counts differ or is no number or buffer).
  /// Anything else: Rust reads the arguments itself (own keys only) and
  /// says what is wrong. Each argument is read whole (its data's facts
  /// before its shape, strides and mins) before the next.
  readInto(args, memory, out, k) {
    if (typeof args !== 'object' || args === null || Object.getPrototypeOf(args) !== Object.prototype) return BAIL;
    const { names, classes, dims } = this;
    const guest = memory ? memory.buffer : undefined;
    const data = new Array(names.length);
    // Numbers only: kept between runs (a nested run never writes them).
    const kinds = this.kindsScratch;
    const start = k;
    let present = 0;
    for (let i = 0; i < names.length; i++) {
      const cls = classes[i];
      if (cls === USER_CONTEXT) continue;
      const v = args[names[i]];
      if (v !== undefined) present++;
      if (cls === SCALAR) {
        if (typeof v === 'number') {
          out[k] = 1;
          out[k + 1] = v;
        } else if (v === undefined) {
          out[k] = 0;
          out[k + 1] = 0;
        } else if (typeof v === 'boolean') {
          out[k] = 2;
          out[k + 1] = v ? 1 : 0;
        } else {
          return BAIL;
        }
        k += 2;
        continue;
      }
      if (typeof v !== 'object' || v === null) return BAIL;
      const a = v.data;
      if (!ArrayBuffer.isView(a)) return BAIL;
      const kind = KINDS.get(a[Symbol.toStringTag]);
      if (kind === undefined) return BAIL;
      out[k] = kind;
      out[k + 1] = a.length;
      out[k + 2] = a.byteOffset;
      out[k + 3] = guest !== undefined && a.buffer === guest ? 1 : 0;
      const d = dims[i];
      const { shape, strides, mins } = v;
      const base = k + 6;
      if (!numbers(shape, d, out, base)) return BAIL;
      if (strides === undefined || strides === null) out[k + 4] = 0;
      else if (numbers(strides, d, out, base + d)) out[k + 4] = 1;
      else return BAIL;
      if (mins === undefined || mins === null) out[k + 5] = 0;
      else if (numbers(mins, d, out, base + 2 * d)) out[k + 5] = 1;
      else return BAIL;
      data[i] = a;
      kinds[i] = kind;
      k = base + 3 * d;
    }
    // An unknown key, a known one set to undefined, or one read from the
    // prototype: Rust says which, reading own keys only.
    if (Object.keys(args).length !== present) return BAIL;
    this.data = data;
    this.kinds = kinds;
    return k - start;
  }

  /// The caller's arrays for this run, when Rust read the arguments itself.
  setData(data) {
    this.data = data;
    this.kinds = EMPTY;
  }

  /// Lets go of the caller's arrays and of the guest memory (after a
  /// failed run its instance may be dropped; after dispose it is).
  release() {
    this.data = EMPTY;
    this.kinds = EMPTY;
    this.memory = null;
    this.shared = false;
    this.u8 = new Uint8Array(0);
    this.typed = [];
  }

  /// A byte view of the whole guest memory, made again after a growth.
  bytes(memory) {
    let u8 = this.u8;
    // A growth gives the memory a new buffer: a plain memory's old one is
    // detached (its views have no bytes); a shared memory's old views just
    // stop short, so a shared one's length is looked at too.
    if (this.memory !== memory || u8.byteLength === 0 || (this.shared && u8.byteLength !== memory.buffer.byteLength)) {
      const buffer = memory.buffer;
      u8 = this.u8 = new Uint8Array(buffer);
      this.memory = memory;
      this.shared = typeof SharedArrayBuffer === 'function' && buffer instanceof SharedArrayBuffer;
      this.typed = [];
    }
    return u8;
  }

  /// Argument i's typed array, when it can be copied element-wise with
  /// a view of its own kind (same type: a plain memmove), else undefined.
  /// `at` is 32-byte aligned, `bytes` the span the copy covers.
  typedView(i, a, bytes) {
    const kind = this.kinds[i];
    const C = kind === undefined ? undefined : CTORS[kind];
    if (C === undefined || a.length * C.BYTES_PER_ELEMENT !== bytes) return undefined;
    let v = this.typed[kind];
    if (v === undefined) v = this.typed[kind] = new C(this.u8.buffer);
    return v;
  }

  /// Writes the `stageLen` bytes at executor address `stage` to guest
  /// address `at`, copies the inputs (`nIns` triples [argument, guest
  /// address, bytes] at executor address `ins`), then calls `entry` with the
  /// argv table at `at`, or with the arguments in `direct` when that is an
  /// array (Halide's JIT flavour). Returns what `entry` returns, as a
  /// number (0 for nothing), THREW or COPY_IN_THREW.
  ///
  /// Exceptions are caught here rather than by a wasm-bindgen `catch`,
  /// whose wrapper makes a closure and an `arguments` object per call.
  call(memory, entry, direct, at, stage, stageLen, ins, nIns) {
    let entered = false;
    try {
      const u8 = this.bytes(memory);
      this.views();
      if (((stage | at | stageLen) & 3) === 0 && stageLen <= SMALL_STAGE) {
        let g = this.typed[U32];
        if (g === undefined) g = this.typed[U32] = new Uint32Array(u8.buffer);
        const h = this.homeU32;
        for (let i = stage >>> 2, j = at >>> 2, end = i + (stageLen >>> 2); i < end; i++, j++) g[j] = h[i];
      } else {
        u8.set(this.homeU8.subarray(stage, stage + stageLen), at);
      }
      const data = this.data;
      const ops = this.homeU32;
      for (let i = ins >>> 2, end = i + 3 * nIns; i < end; i += 3) {
        const a = data[ops[i]];
        const v = this.typedView(ops[i], a, ops[i + 2]);
        if (v === undefined) u8.set(new Uint8Array(a.buffer, a.byteOffset, ops[i + 2]), ops[i + 1]);
        else if (a.length > SMALL || !LOOPED[this.kinds[ops[i]]]) v.set(a, ops[i + 1] / v.BYTES_PER_ELEMENT);
        else for (let j = 0, to = ops[i + 1] / v.BYTES_PER_ELEMENT; j < a.length; j++) v[to + j] = a[j];
      }
      entered = true;
      const r = direct === undefined ? entry(at) : entry(...direct);
      return typeof r === 'number' ? r : Number(r ?? 0);
    } catch (e) {
      // Before the entry, only a caller's input array detached after it
      // was read (by a later getter) throws; then no guest code ran.
      this.thrown = e;
      return entered ? THREW : COPY_IN_THREW;
    }
  }

  /// Copies the outputs back (`nOuts` triples [argument, guest address,
  /// bytes] at executor address `outs`) and lets go of the caller's arrays.
  /// False when a copy threw (a callback detached a caller's array): then
  /// `takeThrown` has the exception.
  copyOut(memory, outs, nOuts) {
    try {
      const u8 = this.bytes(memory);
      this.views();
      const data = this.data;
      const ops = this.homeU32;
      // All or nothing: an array detached during the run (it then has no
      // bytes) fails the copy before any output is written. (A single
      // output fails on its own first write.)
      if (nOuts > 1) {
        for (let i = outs >>> 2, end = i + 3 * nOuts; i < end; i += 3) {
          if (data[ops[i]].byteLength < ops[i + 2]) throw new TypeError('its ArrayBuffer is detached');
        }
      }
      for (let i = outs >>> 2, end = i + 3 * nOuts; i < end; i += 3) {
        const a = data[ops[i]];
        const at = ops[i + 1];
        const v = this.typedView(ops[i], a, ops[i + 2]);
        if (v !== undefined) {
          const from = at / v.BYTES_PER_ELEMENT;
          if (a.length > SMALL || !LOOPED[this.kinds[ops[i]]]) a.set(v.subarray(from, from + a.length));
          else for (let j = 0; j < a.length; j++) a[j] = v[from + j];
        } else {
          new Uint8Array(a.buffer, a.byteOffset, ops[i + 2]).set(u8.subarray(at, at + ops[i + 2]));
        }
      }
      return true;
    } catch (e) {
      this.thrown = e;
      return false;
    } finally {
      this.data = EMPTY;
      this.kinds = EMPTY;
    }
  }

  /// What the last `call` or `copyOut` caught (once).
  takeThrown() {
    const e = this.thrown;
    this.thrown = undefined;
    return e;
  }
}
