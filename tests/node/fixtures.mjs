// The fixture corpus (fixtures/manifest.json, made by scripts/gen_fixtures.py
// with the real Halide compiler) as JavaScript values: modules' bytes,
// argument objects for `run`, and comparison with native Halide's outputs.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const fixturesDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'fixtures');
export const manifest = JSON.parse(readFileSync(join(fixturesDir, 'manifest.json'), 'utf8'));

export const wasmBytes = (module) => readFileSync(join(fixturesDir, manifest.modules[module].wasm));
export const caseNamed = (name) => {
  const c = manifest.cases.find((c) => c.name === name);
  if (!c) throw new Error(`no fixture case ${name}`);
  return c;
};

const ARRAYS = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  float16: Uint16Array, bfloat16: Uint16Array, int32: Int32Array, uint32: Uint32Array,
  float32: Float32Array, float64: Float64Array, int64: BigInt64Array, uint64: BigUint64Array,
};
export const arrayType = (type) => ARRAYS[type];

export function denseStrides(shape) {
  let s = 1;
  return shape.map((e) => ((s *= e), s / e));
}

export function span({ shape, strides }) {
  strides = strides ?? denseStrides(shape);
  if (shape.includes(0)) return 0;
  return 1 + shape.reduce((acc, e, i) => acc + (e - 1) * strides[i], 0);
}

export function readArray(type, file) {
  const b = readFileSync(join(fixturesDir, file));
  const A = ARRAYS[type];
  const copy = new Uint8Array(b.byteLength);
  copy.set(b);
  return new A(copy.buffer, 0, b.byteLength / A.BYTES_PER_ELEMENT);
}

function scalar(type, v) {
  if (type === 'int64' || type === 'uint64') return BigInt(v);
  return v;
}

/** `{ args, outputs: [{ name, type, data, expected }] }` for one case; outputs start zeroed. */
export function prepare(c) {
  const args = {};
  const outputs = [];
  for (const [name, a] of Object.entries(c.args)) {
    if (a.kind === 'scalar') {
      if ('value' in a) args[name] = scalar(a.type, a.value);
      continue;
    }
    const buf = { shape: a.shape };
    if (a.strides) buf.strides = a.strides;
    if (a.mins) buf.mins = a.mins;
    if (a.kind === 'input') {
      buf.data = readArray(a.type, a.file);
    } else {
      buf.data = new (ARRAYS[a.type])(span(a));
      outputs.push({ name, type: a.type, data: buf.data, expected: a.file ? readArray(a.type, a.file) : null });
    }
    args[name] = buf;
  }
  return { args, outputs };
}

const F16 = new Float32Array(1);
function halfToFloat(bits, bf16) {
  if (bf16) {
    const u = new Uint32Array(F16.buffer);
    u[0] = bits << 16;
    return F16[0];
  }
  const s = bits & 0x8000 ? -1 : 1;
  const e = (bits >> 10) & 0x1f;
  const m = bits & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/** Compares an output with native Halide's: exact unless `tolerance` (floats: relative above 1, absolute below; integers: absolute). Returns a message or null. */
export function compare(type, got, want, tolerance = 0) {
  if (got.length !== want.length) return `length ${got.length}, expected ${want.length}`;
  const float = ['float16', 'bfloat16', 'float32', 'float64'].includes(type);
  for (let i = 0; i < got.length; i++) {
    let a = got[i];
    let b = want[i];
    if (a === b) continue;
    if (!float && Math.abs(Number(a) - Number(b)) <= tolerance) continue;
    if (float && tolerance > 0) {
      if (type === 'float16' || type === 'bfloat16') {
        a = halfToFloat(a, type === 'bfloat16');
        b = halfToFloat(b, type === 'bfloat16');
      }
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      if (Math.abs(a - b) <= tolerance * Math.max(1, Math.abs(b))) continue;
    }
    return `element ${i} is ${got[i]}, native Halide gives ${want[i]}`;
  }
  return null;
}

/** JavaScript bodies of the fixtures' extern stages, by name. */
export const externs = {
  // ext[x] = pre[x] + pre[x + 1]: asks for one element more than it writes.
  ext_sum_next(pre, out) {
    if (pre.data === null) {
      pre.mins[0] = out.mins[0];
      pre.shape[0] = out.shape[0] + 1;
      return 0;
    }
    const at = out.mins[0] - pre.mins[0];
    for (let i = 0; i < out.shape[0]; i++) out.data[i * out.strides[0]] = pre.data[at + i] + pre.data[at + i + 1];
    return 0;
  },
};

/** Load options a case needs (its extern stages), plus `extra`. */
export function optionsFor(c, extra = {}) {
  const o = { ...extra };
  if (c.externs) o.externs = Object.fromEntries(c.externs.map((n) => [n, externs[n]]));
  return o;
}
