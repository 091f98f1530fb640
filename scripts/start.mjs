// `npm start`: set up and build when needed, then run a bundled example
// pipeline on the bundled photo with the command-line tool, writing
// out/example.png and printing what it did and how long it took.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setup, root } from './setup.mjs';

const t0 = performance.now();
setup({ doBuild: true });
const { cli } = await import('../cli/main.mjs');
const pipeline = join(root, 'fixtures', 'demo_local_contrast.wasm');
const input = join(root, 'www', 'assets', 'sample.png');
const output = join(root, 'out', 'example.png');
console.log(`[start] set-up checked in ${((performance.now() - t0) / 1000).toFixed(1)} s; running the example:\n`);
if (!cli(['info', pipeline])) cli(['run', pipeline, '--input', input, '--output', output, '--arg', 'strength=2']);
