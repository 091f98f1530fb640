// What browser-threads.test.mjs runs in Chromium, in a page or a worker:
// fixture cases fetched from the server (as tests/node/fixtures.mjs reads
// them in Node) and the package's browser entry.
const ARRAYS = {
  bool: Uint8Array, uint8: Uint8Array, int8: Int8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, float32: Float32Array, float64: Float64Array,
};

let manifest;
async function getManifest() {
  manifest ??= await (await fetch('/fixtures/manifest.json')).json();
  return manifest;
}

export const wasmUrl = async (module) => `/fixtures/${(await getManifest()).modules[module].wasm}`;

/** `{ c, args, outputs: [{ name, data }] }` for a case; outputs zeroed, laid out as the case says (dense unless it gives strides). */
export async function prepare(name) {
  const c = (await getManifest()).cases.find((x) => x.name === name);
  const args = {};
  const outputs = [];
  for (const [key, a] of Object.entries(c.args)) {
    if (a.kind === 'scalar') {
      if ('value' in a) args[key] = a.value;
      continue;
    }
    const A = ARRAYS[a.type];
    const buf = { shape: a.shape };
    if (a.strides) buf.strides = a.strides;
    if (a.mins) buf.mins = a.mins;
    if (a.kind === 'input') {
      buf.data = new A(await (await fetch(`/fixtures/${a.file}`)).arrayBuffer());
    } else {
      buf.data = new A(a.shape.reduce((x, y) => x * y, 1));
      outputs.push({ name: key, data: buf.data });
    }
    args[key] = buf;
  }
  return { c, args, outputs };
}

/** A thrown value as plain data for the test. */
export const describe = (e) => ({ name: e?.name, code: e?.code, halideCode: e?.halideCode, message: String(e?.message ?? e) });

/**
 * `args` with its input buffer (`input`) given every other element of an
 * array twice its size (stride 2): Halide's default constraint (a dense
 * innermost dimension) makes the run abort with halide code -8.
 */
export function withStridedInput(args) {
  const { data, shape } = args.input;
  let stride = 2;
  const strides = shape.map((e) => ((stride *= e), stride / e));
  return { ...args, input: { data: new data.constructor(2 * data.length), shape, strides } };
}

/** Posts `message` to a new worker.mjs and resolves with its one reply (then ends it), or `{ error }` if it failed to load. */
export function inWorker(message) {
  return new Promise((resolve) => {
    const w = new Worker(new URL('./worker.mjs', import.meta.url), { type: 'module' });
    w.onmessage = (e) => {
      w.terminate();
      resolve(e.data);
    };
    w.onerror = (e) => resolve({ error: { message: e.message } });
    w.postMessage(message);
  });
}
