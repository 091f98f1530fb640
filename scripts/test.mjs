// `npm test`: every test suite, in order, stopping at the first failure.
//   1. cargo fmt --check
//   2. cargo clippy -D warnings (wasm32, and native with the tests)
//   3. cargo test (the pure-Rust core, natively)
//   4. wasm-pack test --node (the crate's wasm tests in Node)
//   5. the same wasm tests in Debian's Chromium (scripts/wasm-browser-test.mjs)
//   6. node --test tests/node (the npm package, over the fixture corpus)
// Set-up (Rust target, wasm-pack, node modules, chromium, Halide from PyPI,
// the build) is done
// first when anything is missing.
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { setup, run, root } from './setup.mjs';

const steps = [];
const step = (name, fn) => steps.push([name, fn]);

step('set-up and build', () => setup({ browser: true, python: true, doBuild: true }));
step('cargo fmt --check', () => run('cargo', ['fmt', '--all', '--check']));
step('cargo clippy (wasm32)', () =>
  run('cargo', ['clippy', '--workspace', '--target', 'wasm32-unknown-unknown', '--all-targets', '--', '-D', 'warnings']),
);
step('cargo clippy (native)', () => run('cargo', ['clippy', '--workspace', '--all-targets', '--', '-D', 'warnings']));
step('cargo test', () => run('cargo', ['test']));
step('wasm-pack test --node', () => run('wasm-pack', ['test', '--node']));
// The same tests in Debian's Chromium, through playwright-core (see the
// script for why not `wasm-pack test --headless --chrome`).
step('wasm tests in headless Chromium', () => run(process.execPath, [join(root, 'scripts', 'wasm-browser-test.mjs')]));
step('node --test', () => {
  const dir = join(root, 'tests', 'node');
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.test.mjs') || f.endsWith('.test.cjs'))
    .map((f) => join('tests', 'node', f));
  run(process.execPath, ['--test', '--test-concurrency=1', ...files]);
});

const only = process.argv.slice(2);
for (const [name, fn] of steps) {
  if (only.length && !only.some((o) => name.includes(o))) continue;
  console.log(`\n=== ${name}`);
  try {
    fn();
  } catch (e) {
    console.error(`\n=== FAILED: ${name}: ${e.message}`);
    process.exit(1);
  }
}
