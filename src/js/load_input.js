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
/// 'bytes' (then `bytes(x)` gives them), 'url' (a `URL` or a string: then
/// `fetchSource(x)` gets it), 'blob' (a `Blob` or `File`: `blobBytes(x)`)
/// or 'none'.
export function sourceKind(x) {
  if (x instanceof WebAssembly.Module) return 'module';
  if (ArrayBuffer.isView(x) || x instanceof ArrayBuffer) return 'bytes';
  if (typeof x === 'string' || (typeof URL === 'function' && x instanceof URL)) return 'url';
  if (typeof Response === 'function' && x instanceof Response) return 'response';
  if (typeof Blob === 'function' && x instanceof Blob) return 'blob';
  const tag = isObject(x) ? Object.prototype.toString.call(x) : '';
  if (tag === '[object Response]') return 'response';
  if (tag === '[object URL]') return 'url';
  if (tag === '[object Blob]' || tag === '[object File]') return 'blob';
  if (isObject(x) && typeof x.then === 'function') return 'promise';
  return 'none';
}

const inNode = typeof process === 'object' && process !== null && typeof process.versions?.node === 'string';

/// Where a URL string or `URL` points, as an absolute URL string. In a page
/// or worker a relative string resolves against the document's (or the
/// worker's) address; in Node a string that is not a URL with a scheme
/// (`https:`, `file:`, `data:`...) is a file path, resolved against the
/// working directory.
export function urlOf(x) {
  const text = String(x);
  if (typeof x !== 'string') return new URL(text).href;
  if (inNode) {
    // A one-letter "scheme" is a Windows drive (C:\...), not a URL.
    if (/^[a-z][a-z0-9+.-]+:/i.test(text)) return new URL(text).href;
    return pathToFileUrl(text);
  }
  const base = globalThis.document?.baseURI ?? globalThis.location?.href;
  return new URL(text, base).href;
}

function pathToFileUrl(path) {
  const cwd = process.cwd();
  const sep = process.platform === 'win32' ? '\\' : '/';
  const abs = /^([a-z]:)?[\\/]/i.test(path) ? path : `${cwd}${sep}${path}`;
  const u = new URL('file://');
  u.pathname = abs.replaceAll('\\', '/');
  return u.href;
}

/// A promise of what `url` holds: a `Response` from `fetch`, or in Node the
/// bytes of a `file:` URL (Node's `fetch` does not read files). Rejects
/// with an Error naming the URL.
export function fetchSource(url) {
  if (inNode && url.startsWith('file:')) {
    // process.getBuiltinModule, not import('node:fs'): bundlers of web apps
    // follow an import() and fail on a node: module.
    return Promise.resolve()
      .then(() => process.getBuiltinModule('node:fs').promises.readFile(new URL(url)))
      .then((b) => new Uint8Array(b.buffer, b.byteOffset, b.byteLength))
      .catch((e) => {
        throw new Error(`${url} could not be read: ${e && e.message}`, { cause: e });
      });
  }
  if (typeof fetch !== 'function') return Promise.reject(new Error(`${url} could not be fetched: this host has no fetch()`));
  return fetch(url).catch((e) => {
    throw new Error(`${url} could not be fetched: ${e && e.message}${e && e.cause ? ` (${e.cause.message ?? e.cause})` : ''}`, { cause: e });
  });
}

/// The bytes of a `Blob` or `File`.
export function blobBytes(b) {
  return b.arrayBuffer().then((a) => new Uint8Array(a));
}

/// Why a `Response` cannot hold a module (a status that is not 2xx:
/// '404 Not Found from URL'), or '' when it can.
export function responseProblem(r) {
  if (r.ok) return '';
  const where = r.url ? ` from ${r.url}` : '';
  return `the server answered ${r.status}${r.statusText ? ` ${r.statusText}` : ''}${where}`;
}

/// Whether a `Response` says it holds `application/wasm`, which
/// `WebAssembly.compileStreaming` insists on; other responses are read
/// whole and compiled from their bytes (as wasm-bindgen's own init does).
export function isWasmResponse(r) {
  const type = r.headers?.get?.('content-type') ?? '';
  return type.split(';')[0].trim().toLowerCase() === 'application/wasm';
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
