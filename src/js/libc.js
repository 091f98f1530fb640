// The guest's memcpy, memmove, memset and __cxa_atexit as plain JavaScript
// functions (Rust side: src/js/imports.rs, which builds the import object
// with them).
//
// A wasm-bindgen closure costs about 34 ns a call in V8, a plain function
// about 4 ns, and these three may be called in a pipeline's inner loops
// (the executor's own wasm cannot reach the guest's memory). They
// only move bytes inside the guest's own memory, after checking the ranges;
// a range outside it goes to `fault` (the executor's export
// hwe_range_fault, src/js/libc_exports.rs) with the arguments, which records
// the guest fault and throws, ending the run as a trap.
//
// The functions exist before the instance does; its memory is bound after
// instantiation, and views are made again after it grows.

export class GuestLibc {
  constructor(fault) {
    this.memory = null;
    this.u8 = new Uint8Array(0);
    const bytes = () => {
      let u8 = this.u8;
      // A growth detaches the old buffer, leaving its views empty.
      if (u8.byteLength === 0 && this.memory !== null) u8 = this.u8 = new Uint8Array(this.memory.buffer);
      return u8;
    };
    // A view of the memory as it is now: a shared memory's old views do
    // not detach when it grows (another thread may have grown it), they
    // just stop short. Only a range past the view's end asks.
    const fresh = () => (this.memory === null ? this.u8 : (this.u8 = new Uint8Array(this.memory.buffer)));
    // Pointers and sizes arrive as signed i32: >>> 0 makes them unsigned.
    const move = (d, s, n) => {
      d >>>= 0;
      s >>>= 0;
      n >>>= 0;
      let u8 = bytes();
      if (d + n > u8.length || s + n > u8.length) {
        u8 = fresh();
        if (d + n > u8.length || s + n > u8.length) return fault(d, s, n);
      }
      u8.copyWithin(d, s, s + n);
      return d;
    };
    // Halide's runtime registers its destructors on every call; nothing
    // here ever runs them.
    this.__cxa_atexit = () => 0;
    this.memcpy = move;
    this.memmove = move;
    this.memset = (p, c, n) => {
      p >>>= 0;
      n >>>= 0;
      let u8 = bytes();
      if (p + n > u8.length) {
        u8 = fresh();
        if (p + n > u8.length) return fault(p, p, n);
      }
      u8.fill(c & 255, p, p + n);
      return p;
    };
  }

  /// Binds the instance's memory once it exists.
  bind(memory) {
    this.memory = memory;
    this.u8 = new Uint8Array(0);
  }
}
