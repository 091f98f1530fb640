// CommonJS consumers with `import = require()`: the "require" condition
// (lib/node.d.cts). Uses no DOM or Node typings (also compiled with
// tsconfig.minimal.json).
import executor = require('halide-wasm-executor');

declare const bytes: Uint8Array;

export function brighten(pixels: Uint8Array, w: number, h: number): Uint8Array {
  const p: executor.Pipeline = executor.Pipeline.loadSync(bytes, { print: () => {} });
  const out = new Uint8Array(w * h * 3);
  try {
    p.run({ input: { data: pixels, shape: [w, h, 3] }, gain: 1.5, brighten_u8: { data: out, shape: [w, h, 3] } });
  } catch (e) {
    if (e instanceof executor.HalideError && e.code === 'bad-argument') throw new Error(e.message);
    throw e;
  } finally {
    p.dispose();
  }
  return out;
}
