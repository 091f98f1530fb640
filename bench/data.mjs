// Deterministic bench data, shared by bench/run.mjs (Node) and the pages it
// opens in Chromium (bench/browser/threads.mjs), so that both make the same
// inputs and can compare outputs by checksum.

/** xorshift32 in [0, 1). */
export function rng(seed) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>> 0) / 4294967296;
  };
}

/** A new `A` of `n` elements drawn uniformly from [lo, hi) (stored as `A` stores them). */
export function fill(A, n, seed, lo, hi) {
  const a = new A(n);
  const r = rng(seed);
  for (let i = 0; i < n; i++) a[i] = lo + r() * (hi - lo);
  return a;
}

/** FNV-1a (32 bits) of a typed array's bytes, as 8 hex digits. */
export function fnv1a(view) {
  const b = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i], 0x01000193);
  return (h >>> 0).toString(16).padStart(8, '0');
}

/**
 * Arguments for a threaded fixture at `shape`: its input random (float32 in
 * [0, 1), uint16 over the whole range; seed 7), its outputs zeroed, its
 * scalars as the fixture case `c` has them.
 */
export function threadedArgs(c, shape) {
  const n = shape.reduce((a, b) => a * b, 1);
  const args = {};
  for (const [key, a] of Object.entries(c.args)) {
    if (a.kind === 'scalar') args[key] = a.value;
    else if (a.kind === 'input') args[key] = { data: a.type === 'float32' ? fill(Float32Array, n, 7, 0, 1) : fill(Uint16Array, n, 7, 0, 65535), shape };
    else args[key] = { data: a.type === 'float32' ? new Float32Array(n) : new Uint16Array(n), shape };
  }
  return args;
}
