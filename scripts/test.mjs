// `npm test`: every test suite, in order, stopping at the first failure.
//   1. cargo fmt --check
//   2. cargo clippy -D warnings (wasm32, and native with the tests)
//   3. cargo test (the pure-Rust core, natively)
//   4. wasm-pack test --node (the crate's wasm tests in Node)
//   5. wasm-pack test --headless --chrome (the same in Debian's Chromium)
//   6. node --test tests/node (the npm package, over the fixture corpus)
// Set-up (Rust target, wasm-pack, node modules, chromium, the build) is done
// first when anything is missing.
import { join } from 'node:path';
import { readdirSync } from 'node:fs';
import { setup, run, root, chromedriver } from './setup.mjs';

const steps = [];
const step = (name, fn) => steps.push([name, fn]);

step('set-up and build', () => setup({ browser: true, doBuild: true }));
step('cargo fmt --check', () => run('cargo', ['fmt', '--all', '--check']));
step('cargo clippy (wasm32)', () =>
  run('cargo', ['clippy', '--workspace', '--target', 'wasm32-unknown-unknown', '--all-targets', '--', '-D', 'warnings']),
);
step('cargo clippy (native)', () => run('cargo', ['clippy', '--workspace', '--all-targets', '--', '-D', 'warnings']));
step('cargo test', () => run('cargo', ['test']));
step('wasm-pack test --node', () => run('wasm-pack', ['test', '--node']));
step('wasm-pack test --headless --chrome', () =>
  run('wasm-pack', ['test', '--headless', '--chrome', '--chromedriver', chromedriver], {
    env: { ...process.env, CHROMEDRIVER: chromedriver, WASM_BINDGEN_USE_BROWSER: '1' },
  }),
);
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
