// What `Pipeline.load` is handed, read once, in JavaScript (Rust side:
// src/js/load.rs).
//
// A caller's options and module bytes can throw when read: a getter, a
// Proxy trap, a detached ArrayBuffer. A JavaScript exception that crosses
// Rust frames runs no destructors, and inside `load`'s task it would escape
// the returned promise altogether. So everything a caller handed to `load`
// is read here, inside a `catch` import: Rust gets plain data or an
// exception it turns into a HalideError (the exception as `cause`), and
// checks the plain data itself.

/// A snapshot of `options`: its own enumerable keys, each property read
/// once, with `env`, `externs` and `arguments` copied into plain objects
/// and arrays. Throws what reading throws.
export function readOptions(options) {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' && typeof options !== 'function') return options;
  const out = {};
  for (const key of Object.keys(options)) out[key] = options[key];
  if (isObject(out.env)) out.env = plainEntries(out.env);
  if (isObject(out.externs)) {
    const externs = {};
    for (const [name, e] of Object.entries(out.externs)) {
      if (isObject(e) && typeof e !== 'function') {
        const { fn, args } = e;
        externs[name] = { fn, args: Array.isArray(args) ? Array.from(args) : args };
      } else {
        externs[name] = e;
      }
    }
    out.externs = externs;
  }
  if (Array.isArray(out.arguments)) {
    out.arguments = Array.from(out.arguments, (a) =>
      isObject(a) ? { name: a.name, kind: a.kind, type: a.type, dimensions: a.dimensions } : a,
    );
  }
  return out;
}

function isObject(v) {
  return (typeof v === 'object' && v !== null) || typeof v === 'function';
}

function plainEntries(o) {
  const out = {};
  for (const [k, v] of Object.entries(o)) out[k] = v;
  return out;
}

/// The items of a list of modules (a copy), or null when `x` is not an
/// array. Throws what reading throws.
export function listOf(x) {
  return Array.isArray(x) ? Array.from(x) : null;
}

/// What kind of module source `x` is: 'promise', 'response', 'module',
/// 'bytes' (then `bytes(x)` gives them) or 'none'.
export function sourceKind(x) {
  if (x instanceof WebAssembly.Module) return 'module';
  if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer) return 'bytes';
  if (typeof Response === 'function' && x instanceof Response) return 'response';
  if (isObject(x) && Object.prototype.toString.call(x) === '[object Response]') return 'response';
  if (isObject(x) && typeof x.then === 'function') return 'promise';
  return 'none';
}

/// The module's bytes as a Uint8Array over the same memory (any
/// ArrayBufferView, DataView included, or an ArrayBuffer). Throws for a
/// detached buffer.
export function bytesOf(x) {
  const u8 = ArrayBuffer.isView(x) ? new Uint8Array(x.buffer, x.byteOffset, x.byteLength) : new Uint8Array(x);
  if (u8.byteLength === 0 && (x.byteLength !== 0 || (x.buffer ?? x).detached === true)) {
    throw new TypeError('the ArrayBuffer is detached');
  }
  return u8;
}

/// The body of a `Response`, as a promise of its bytes.
export function responseBytes(r) {
  return r.arrayBuffer().then((b) => new Uint8Array(b));
}

/// A copy of a `Response`, to read its body after the original streamed.
export function cloneResponse(r) {
  return r.clone();
}

/// `bytes` with `[start, end)` replaced by `section` (a new array).
export function splice(bytes, start, end, section) {
  const out = new Uint8Array(bytes.length - (end - start) + section.length);
  out.set(bytes.subarray(0, start), 0);
  out.set(section, start);
  out.set(bytes.subarray(end), start + section.length);
  return out;
}
