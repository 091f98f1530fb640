// The smallest honest plain-JavaScript host for a Halide ahead-of-time wasm
// module: the baseline `bench/run.mjs` measures the executor against.
//
// Everything the executor does in Rust is done here directly in JavaScript,
// with no checks beyond what keeps the benchmark correct:
//   - `env` imports written in JS: a bump allocator with exact-size free
//     lists over the module's own memory (from __heap_base, growing it),
//     mem*/str* on a Uint8Array view, stdio stubs, libm from `Math`;
//   - halide_buffer_t laid out by hand (wasm32: 40-byte header, then
//     16-byte halide_dimension_t's), dense x-first strides only;
//   - NAME_argv called with an array of pointers (a scalar's entry points to
//     its value), inputs copied in and outputs copied out with TypedArray.set.
//
// API: `const h = await PlainHost.load(bytes, { print? })`;
// `h.arguments` (from NAME_metadata); `h.run({ name: value | { data, shape } })`.
// `h.place(args)` / `h.call(placed)` / `h.release(placed)` split a run so the
// pipeline can be called on buffers already in guest memory (no copies).

const PAGE = 65536;

// C libm by `Math` (the float32 variants are the same functions: the wasm
// import signature converts f64 <-> f32). Not bit-exact with C: a plain host
// would do exactly this.
const cRound = (x) => (x < 0 ? -Math.round(-x) : Math.round(x));
const LIBM = {
  sin: Math.sin, cos: Math.cos, tan: Math.tan, asin: Math.asin, acos: Math.acos,
  atan: Math.atan, atan2: Math.atan2, sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh,
  asinh: Math.asinh, acosh: Math.acosh, atanh: Math.atanh, exp: Math.exp,
  exp2: (x) => 2 ** x, expm1: Math.expm1, log: Math.log, log2: Math.log2,
  log10: Math.log10, log1p: Math.log1p, pow: Math.pow, sqrt: Math.sqrt, cbrt: Math.cbrt,
  floor: Math.floor, ceil: Math.ceil, trunc: Math.trunc, round: cRound, fabs: Math.abs,
  fmod: (a, b) => a % b, hypot: Math.hypot,
  fmin: (a, b) => (a !== a ? b : b !== b ? a : Math.min(a, b)),
  fmax: (a, b) => (a !== a ? b : b !== b ? a : Math.max(a, b)),
};

export class PlainHost {
  static async load(bytes, options = {}) {
    const h = new PlainHost(options);
    const { instance } = await WebAssembly.instantiate(bytes, h.imports);
    h.attach(instance);
    return h;
  }

  constructor({ print } = {}) {
    this.print = print ?? ((s) => process.stderr.write(s));
    this.lastText = '';
    this.imports = { env: this.makeEnv() };
  }

  // ---- the env import object -------------------------------------------
  makeEnv() {
    const self = this;
    const dec = new TextDecoder();
    const cstr = (p) => {
      const u8 = self.u8();
      return dec.decode(u8.subarray(p, u8.indexOf(0, p)));
    };
    const env = {
      malloc: (n) => self.malloc(n),
      free: (p) => self.free(p),
      memcpy: (d, s, n) => (self.u8().copyWithin(d, s, s + n), d),
      memmove: (d, s, n) => (self.u8().copyWithin(d, s, s + n), d),
      memset: (p, c, n) => (self.u8().fill(c, p, p + n), p),
      memcmp: (a, b, n) => {
        const u8 = self.u8();
        for (let i = 0; i < n; i++) if (u8[a + i] !== u8[b + i]) return u8[a + i] - u8[b + i];
        return 0;
      },
      strlen: (p) => self.u8().indexOf(0, p) - p,
      strcmp: (a, b) => {
        const u8 = self.u8();
        for (;;) {
          const x = u8[a++], y = u8[b++];
          if (x !== y || x === 0) return x - y;
        }
      },
      strncmp: (a, b, n) => {
        const u8 = self.u8();
        for (let i = 0; i < n; i++) {
          const x = u8[a + i], y = u8[b + i];
          if (x !== y || x === 0) return x - y;
        }
        return 0;
      },
      strstr: (h, n) => {
        const i = cstr(h).indexOf(cstr(n)); // ASCII in practice (Halide's own strings)
        return i < 0 ? 0 : h + i;
      },
      strchr: (s, c) => {
        const u8 = self.u8();
        for (;; s++) {
          if (u8[s] === (c & 255)) return s;
          if (u8[s] === 0) return 0;
        }
      },
      getenv: () => 0,
      write: (fd, p, n) => {
        const t = dec.decode(self.u8().subarray(p, p + n));
        self.lastText += t;
        if (!t.startsWith('Error')) self.print(t);
        return n;
      },
      abort: () => {
        throw new Error(`pipeline aborted: ${self.lastText.trim()}`);
      },
      fopen: () => 0,
      fileno: () => -1,
      fclose: () => 0,
      fwrite: (_p, _s, n) => n,
      __cxa_atexit: () => 0,
    };
    for (const [name, f] of Object.entries(LIBM)) env[name] = env[name + 'f'] = f;
    return env;
  }

  attach(instance) {
    const ex = this.attachMemory(instance);
    const argvName = Object.keys(ex).find((k) => k.endsWith('_argv'));
    this.name = argvName.slice(0, -5);
    this.entry = ex[argvName];
    this.arguments = this.readMetadata(ex[this.name + '_metadata']());
  }

  /** Binds the instance's memory and heap (all a module without Halide metadata needs). */
  attachMemory(instance) {
    this.instance = instance;
    const ex = instance.exports;
    this.memory = ex.memory;
    this.view = new Uint8Array(this.memory.buffer);
    this.top = (ex.__heap_base.value + 15) & ~15;
    this.bins = new Map(); // size -> [free pointers of exactly that size]
    return ex;
  }

  u8() {
    // memory.grow detaches the old buffer: remake the view when it changed.
    if (this.view.buffer !== this.memory.buffer) this.view = new Uint8Array(this.memory.buffer);
    return this.view;
  }

  // ---- allocator: 16-byte aligned bump pointer, exact-size free lists ----
  // Each block has a 16-byte header whose first word is the block size.
  malloc(n) {
    const size = (Math.max(n, 1) + 15) & ~15;
    const bin = this.bins.get(size);
    if (bin && bin.length) return bin.pop();
    const p = this.top + 16;
    const end = p + size;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      try {
        this.memory.grow(Math.ceil((end - have) / PAGE));
      } catch {
        return 0;
      }
    }
    this.top = end;
    new Uint32Array(this.memory.buffer, p - 16, 1)[0] = size;
    return p;
  }

  free(p) {
    if (!p) return;
    const size = new Uint32Array(this.memory.buffer, p - 16, 1)[0];
    let bin = this.bins.get(size);
    if (!bin) this.bins.set(size, (bin = []));
    bin.push(p);
  }

  // ---- metadata (halide_filter_metadata_t, wasm32) ----------------------
  readMetadata(md) {
    const dv = new DataView(this.memory.buffer);
    const dec = new TextDecoder();
    const str = (p) => {
      const u8 = this.u8();
      return dec.decode(u8.subarray(p, u8.indexOf(0, p)));
    };
    const n = dv.getInt32(md + 4, true);
    const args = dv.getUint32(md + 8, true);
    const out = [];
    for (let i = 0; i < n; i++) {
      const a = args + 36 * i; // halide_filter_argument_t
      const code = dv.getUint8(a + 12), bits = dv.getUint8(a + 13);
      const type = ['int', 'uint', 'float', 'handle'][code] + bits;
      out.push({
        name: str(dv.getUint32(a, true)),
        kind: ['scalar', 'input', 'output'][dv.getInt32(a + 4, true)],
        dimensions: dv.getInt32(a + 8, true),
        type,
        code,
        bits,
      });
    }
    return out;
  }

  // ---- one run ------------------------------------------------------------
  /** Lays out every argument in guest memory (inputs copied in). */
  place(values, { copyIn = true } = {}) {
    const n = this.arguments.length;
    const argv = this.malloc(12 * n);
    const blocks = [argv];
    const outs = [];
    let dv = new DataView(this.memory.buffer);
    for (let i = 0; i < n; i++) {
      const a = this.arguments[i];
      const v = values[a.name];
      let ptr;
      if (a.kind === 'scalar') {
        ptr = argv + 4 * n + 8 * i;
        dv = this.dv(dv);
        if (a.code === 2) {
          if (a.bits === 32) dv.setFloat32(ptr, v, true);
          else dv.setFloat64(ptr, v, true);
        } else if (a.bits === 64) dv.setBigInt64(ptr, BigInt(v), true);
        else if (a.bits === 32) dv.setInt32(ptr, v, true);
        else if (a.bits === 16) dv.setInt16(ptr, v, true);
        else dv.setInt8(ptr, Number(v));
      } else {
        const { data, shape } = v;
        const dims = shape.length;
        const bytes = data.byteLength;
        const head = 40 + 16 * dims;
        const dataOff = (head + 63) & ~63;
        const block = this.malloc(dataOff + bytes + 64);
        blocks.push(block);
        const host = (block + dataOff + 63) & ~63;
        dv = this.dv(dv);
        for (let k = 0; k < 40; k += 4) dv.setUint32(block + k, 0, true);
        dv.setUint32(block + 12, host, true);
        dv.setUint8(block + 24, a.code);
        dv.setUint8(block + 25, a.bits);
        dv.setUint16(block + 26, 1, true);
        dv.setInt32(block + 28, dims, true);
        dv.setUint32(block + 32, block + 40, true);
        let stride = 1;
        for (let d = 0; d < dims; d++) {
          const p = block + 40 + 16 * d;
          dv.setInt32(p, 0, true);
          dv.setInt32(p + 4, shape[d], true);
          dv.setInt32(p + 8, stride, true);
          dv.setUint32(p + 12, 0, true);
          stride *= shape[d];
        }
        if (a.kind === 'input' && copyIn) {
          this.u8().set(new Uint8Array(data.buffer, data.byteOffset, bytes), host);
        }
        if (a.kind === 'output') outs.push({ host, data });
        ptr = block;
      }
      dv.setUint32(argv + 4 * i, ptr, true);
    }
    return { argv, blocks, outs };
  }

  dv(old) {
    return old.buffer === this.memory.buffer ? old : new DataView(this.memory.buffer);
  }

  /** Calls the pipeline on placed arguments; throws on a Halide error. */
  call(placed) {
    this.lastText = '';
    const code = this.entry(placed.argv);
    if (code !== 0) throw new Error(`${this.name} returned ${code}: ${this.lastText.trim()}`);
  }

  copyOut(placed) {
    const u8 = this.u8();
    for (const { host, data } of placed.outs) {
      new Uint8Array(data.buffer, data.byteOffset, data.byteLength).set(
        u8.subarray(host, host + data.byteLength),
      );
    }
  }

  release(placed) {
    for (const b of placed.blocks) this.free(b);
  }

  /** One complete run: lay out, copy in, call, copy out, free. */
  run(values) {
    const placed = this.place(values);
    try {
      this.call(placed);
      this.copyOut(placed);
    } finally {
      this.release(placed);
    }
  }
}

