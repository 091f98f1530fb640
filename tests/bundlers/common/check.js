// What each app of tests/node/bundlers.test.mjs runs, in its page and in
// its module Worker, with the package as the app's bundler (or none) made
// it: real fixture pipelines (fetched from /fixtures/, with the arguments
// of their manifest case in /fixtures/cases.json) through run, runAsync
// and, for a threaded build, runAsync on two threads. The outputs go back
// to the test, which compares them with native Halide's.
const ARRAYS = { uint8: Uint8Array, uint16: Uint16Array, float32: Float32Array };

async function prepare(c) {
  const args = {};
  let output = null;
  for (const [key, a] of Object.entries(c.args)) {
    if (a.kind === 'scalar') {
      if ('value' in a) args[key] = a.value;
      continue;
    }
    const A = ARRAYS[a.type];
    const buf = { shape: a.shape, strides: a.strides, mins: a.mins };
    if (a.kind === 'input') {
      buf.data = new A(await (await fetch(`/fixtures/${a.file}`)).arrayBuffer());
    } else {
      buf.data = new A(a.shape.reduce((x, y) => x * y, 1));
      output = buf.data;
    }
    args[key] = buf;
  }
  return { args, output };
}

const describe = (e) => ({ name: e?.name, code: e?.code, message: String(e?.message ?? e) });

/** `hwe`: the package's exports as the app imported them; `sync`: load with init() + loadSync (workers). */
export async function check(hwe, { sync = false } = {}) {
  const { Pipeline, HalideError, init } = hwe;
  const cases = await (await fetch('/fixtures/cases.json')).json();
  const out = { crossOriginIsolated: globalThis.crossOriginIsolated };
  const attempt = async (name, f) => {
    try {
      out[name] = await f();
    } catch (e) {
      out[name] = { error: describe(e) };
    }
  };

  const plain = cases.brighten_u8;
  let p;
  await attempt('run', async () => {
    if (sync) {
      await init();
      p = Pipeline.loadSync(new Uint8Array(await (await fetch(`/fixtures/${plain.wasm}`)).arrayBuffer()));
    } else {
      p = await Pipeline.load(fetch(`/fixtures/${plain.wasm}`));
    }
    const { args, output } = await prepare(plain);
    p.run(args);
    return { name: p.name, output: Array.from(output) };
  });
  await attempt('runAsync', async () => {
    const { args, output } = await prepare(plain);
    await p.runAsync(args);
    return { output: Array.from(output) };
  });
  await attempt('badModule', async () => {
    try {
      await Pipeline.load(new Uint8Array([1, 2, 3]));
      return 'loaded';
    } catch (e) {
      return { ...describe(e), isHalideError: e instanceof HalideError };
    }
  });
  await attempt('threaded', async () => {
    const c = cases.bilateral_grid_threads;
    const q = await Pipeline.load(fetch(`/fixtures/${c.wasm}`), { threads: 2 });
    const { args, output } = await prepare(c);
    await q.runAsync(args);
    q.dispose();
    return { output: Array.from(output) };
  });
  p?.dispose();
  return out;
}

/** What an app's own module Worker `w` posts back (its check), or why it failed to load. */
export function workerResult(w) {
  return new Promise((resolve) => {
    w.onmessage = (e) => resolve(e.data);
    w.onerror = (e) => resolve({ error: e.message || 'the worker failed to load' });
  });
}
