// Seeded fuzzing of the loader and of run(): truncated, bit-flipped and
// spliced fixture modules, and wrong argument sets. Every outcome must be a
// success or a HalideError with a message; never another exception, a hang,
// or a Pipeline that stops working. FUZZ_CASES=50000 for a longer run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Pipeline, HalideError } from 'halide-wasm-executor';
import { rng } from './rng.mjs';
import { manifest, wasmBytes, prepare, caseNamed, compare } from './fixtures.mjs';

const CASES = Number(process.env.FUZZ_CASES ?? 2000);
const quiet = { print: () => {} };


function expectHalideOrOk(fn, what) {
  try {
    return fn();
  } catch (e) {
    assert.ok(e instanceof HalideError, `${what}: ${e && e.stack}`);
    assert.ok(typeof e.message === 'string' && e.message.length > 10, `${what}: empty message`);
    assert.ok(e.code !== undefined, `${what}: no code`);
    return undefined;
  }
}

test(`Pipeline.loadSync survives ${Math.round(CASES / 4)} corrupted modules`, () => {
  const r = rng(1);
  const modules = Object.keys(manifest.modules).map((m) => wasmBytes(m));
  for (let i = 0; i < CASES / 4; i++) {
    const src = modules[Math.floor(r() * modules.length)];
    let bytes = Uint8Array.from(src);
    const kind = Math.floor(r() * 3);
    if (kind === 0) bytes = bytes.subarray(0, Math.floor(r() * bytes.length));
    else if (kind === 1) for (let k = 0; k < 1 + r() * 8; k++) bytes[Math.floor(r() * bytes.length)] ^= 1 << Math.floor(r() * 8);
    else {
      const other = modules[Math.floor(r() * modules.length)];
      const cut = Math.floor(r() * bytes.length);
      const from = Math.floor(r() * other.length);
      bytes = Uint8Array.from([...bytes.subarray(0, cut), ...other.subarray(from, from + Math.floor(r() * 4096))]);
    }
    expectHalideOrOk(() => Pipeline.loadSync(bytes, quiet), `mutation ${i} (${kind})`);
  }
});

test(`run() survives ${CASES} wrong argument sets and keeps working`, () => {
  const r = rng(2);
  const names = ['brighten_u8', 'every_scalar', 'mins', 'reductions', 'half_f16', 'invert_rgba'];
  const pipelines = Object.fromEntries(names.map((n) => [n, Pipeline.loadSync(wasmBytes(caseNamed(n).module), quiet)]));
  const values = [undefined, null, NaN, Infinity, -1, 0, 1.5, 2 ** 31, -(2 ** 53), 1n, -1n, 2n ** 64n, true, 'x', {}, [], [1, 2],
    new Uint8Array(3), new Float64Array(2), new BigInt64Array(1)];
  const pick = (a) => a[Math.floor(r() * a.length)];
  for (let i = 0; i < CASES; i++) {
    const name = pick(names);
    const { args } = prepare(caseNamed(name));
    const keys = Object.keys(args);
    const key = pick(keys);
    const a = { ...args };
    const buf = a[key] && a[key].data ? { ...a[key] } : null;
    switch (Math.floor(r() * 7)) {
      case 0: delete a[key]; break;
      case 1: a[`extra${i % 3}`] = 1; break;
      case 2: a[key] = pick(values); break;
      case 3: if (buf) { buf.shape = buf.shape.map((e) => (r() < 0.5 ? e : pick([-1, 0, 2 ** 31, 1e9, 0.5]))); a[key] = buf; } break;
      case 4: if (buf) { buf.strides = buf.shape.map(() => pick([0, 1, 7, 2 ** 30, -4])); a[key] = buf; } break;
      case 5: if (buf) { buf.data = pick(values); a[key] = buf; } break;
      case 6: if (buf) { buf.mins = buf.shape.map(() => pick([0, -5, 2 ** 31 - 1, 3.5])); a[key] = buf; } break;
    }
    expectHalideOrOk(() => pipelines[name].run(a), `run ${i} of ${name}`);
  }
  // Every pipeline still gives native Halide's answer.
  for (const n of names) {
    const { args, outputs } = prepare(caseNamed(n));
    pipelines[n].run(args);
    for (const o of outputs) assert.equal(compare(o.type, o.data, o.expected, caseNamed(n).tolerance), null, n);
  }
});
