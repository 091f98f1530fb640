// The npm package as users get it: its TypeScript declarations (tests/types),
// the tarball `npm pack` makes (what is in it, and that it installs and runs
// a real fixture pipeline through both `require` and `import`), and the
// package linters publint and arethetypeswrong.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(root, 'node_modules', '.bin', name);
const fixturesHelper = pathToFileURL(join(root, 'tests', 'node', 'fixtures.mjs')).href;
const NAME = 'halide-wasm-executor';

/** Runs a command to completion; its output is in the assertion messages. */
function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', timeout: 60_000, ...options });
  if (r.error) throw r.error;
  r.output = `$ ${[cmd, ...args].join(' ')}\n${r.stdout}${r.stderr}`
    .split('\n')
    .filter((l) => !l.startsWith('npm warn Unknown user config'))
    .join('\n');
  return r;
}

const temps = [];
const tempDir = (prefix) => {
  const d = mkdtempSync(join(tmpdir(), prefix));
  temps.push(d);
  return d;
};
after(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

/** `npm pack` into a temporary directory, once: `{ tgz, files }`. */
let packed;
function pack() {
  if (packed) return packed;
  const dest = tempDir('hwe-pack-');
  const r = sh('npm', ['pack', '--json', '--pack-destination', dest]);
  assert.equal(r.status, 0, r.output);
  // Lifecycle scripts may print before npm's JSON.
  const [info] = JSON.parse(r.stdout.slice(r.stdout.search(/^\[/m)));
  packed = { tgz: join(dest, info.filename), files: info.files.map((f) => f.path).sort() };
  return packed;
}

/** The tarball installed into a fresh project, once: that project's directory. */
let consumer;
function install() {
  if (consumer) return consumer;
  const { tgz } = pack();
  const dir = tempDir('hwe-consumer-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '0.0.0', private: true }));
  const r = sh('npm', ['install', '--no-audit', '--no-fund', tgz], { cwd: dir, timeout: 120_000 });
  assert.equal(r.status, 0, r.output);
  consumer = dir;
  return dir;
}

/** Runs `source` as a script of the installed project; it prints `ok` when all is well. */
function runInConsumer(file, source) {
  const dir = install();
  writeFileSync(join(dir, file), source);
  const r = sh(process.execPath, [file], { cwd: dir });
  assert.equal(r.status, 0, r.output);
  assert.match(r.stdout, /^ok$/m, r.output);
}

// The body shared by the CommonJS and ES module checks: `Pipeline` and
// `HalideError` from the installed package, `fx` the fixtures helper.
const fixtureRun = `
  const c = fx.caseNamed('brighten_u8');
  for (const p of [
    Pipeline.loadSync(fx.wasmBytes(c.module), fx.optionsFor(c, { print() {} })),
    await Pipeline.load(fx.wasmBytes(c.module), fx.optionsFor(c, { print() {} })),
  ]) {
    assert.equal(p.name, 'brighten_u8');
    const { args, outputs } = fx.prepare(c);
    p.run(args);
    assert.ok(outputs.length > 0);
    for (const o of outputs) assert.equal(fx.compare(o.type, o.data, o.expected, c.tolerance), null, o.name);
    assert.throws(() => p.run({ ...args, nonsense: 1 }), (e) => e instanceof HalideError && e.code === 'bad-argument');
    p.dispose();
    assert.throws(() => p.run(args), (e) => e instanceof HalideError && e.code === 'disposed');
  }
  console.log('ok');
`;

// ------------------------------------------------------------------- types

test('TypeScript: tests/types compiles (good usage) and rejects every marked mistake', () => {
  const r = sh(bin('tsc'), ['-p', 'tests/types']);
  assert.equal(r.status, 0, r.output);
});

test('TypeScript: the declarations compile without DOM or Node typings (lib es2020)', () => {
  const r = sh(bin('tsc'), ['-p', 'tests/types/tsconfig.minimal.json']);
  assert.equal(r.status, 0, r.output);
});

// ----------------------------------------------------------------- tarball

test('the tarball holds what users need and nothing else', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const needed = [
    'package.json',
    'README.md',
    ...(existsSync(join(root, 'LICENSE')) ? ['LICENSE'] : []),
    'lib/node.cjs',
    'lib/node.mjs',
    'lib/executor-node.cjs',
    'lib/web.mjs',
    'lib/types.d.ts',
    'lib/node.d.cts',
    'lib/node.d.mts',
    'lib/web.d.mts',
    // Worker threads of threaded pipelines, in Node and in browsers.
    'lib/threads-node.cjs',
    'lib/thread-worker.cjs',
    'lib/thread-worker.mjs',
    // runAsync: the calling side, the runner's side, and its runner worker in Node and in browsers.
    'lib/run-async.mjs',
    'lib/runner-serve.mjs',
    'lib/runner-node.cjs',
    'lib/runner-worker.cjs',
    'lib/runner-worker.mjs',
    // toBuffer / toImageData (and the CLI's image layouts).
    'lib/image.mjs',
    // The executor's one build, for Node and browsers alike.
    'pkg/web/package.json',
    'pkg/web/halide_wasm_executor.js',
    'pkg/web/halide_wasm_executor_bg.wasm',
  ];
  // The command line tool, when package.json ships it.
  const bins = Object.values(typeof pkg.bin === 'string' ? { [pkg.name]: pkg.bin } : pkg.bin ?? {}).map((p) =>
    p.replace(/^\.\//, ''),
  );
  needed.push(...bins);
  // The executor's JavaScript half (wasm-bindgen snippets).
  const optional = [/^pkg\/web\/snippets\/halide_wasm_executor-[0-9a-f]+\/src\/js\/(marshal|libc|module_imports|load_input|shared_heap|threads)\.js$/];
  if ((pkg.files ?? []).some((f) => /^\.?\/?cli\/?$/.test(f))) optional.push(/^cli\/[\w.-]+\.(m?js|cjs)$/);

  const { files } = pack();
  for (const js of ['marshal.js', 'libc.js', 'module_imports.js']) {
    assert.ok(files.some((f) => f.startsWith('pkg/web/snippets/') && f.endsWith(`/${js}`)), `pkg/web ships ${js}`);
  }
  // The executor's wasm once: Node reads the browser build's.
  assert.deepEqual(files.filter((f) => f.endsWith('.wasm')), ['pkg/web/halide_wasm_executor_bg.wasm']);
  const missing = needed.filter((f) => !files.includes(f));
  assert.deepEqual(missing, [], `missing from the tarball, which holds:\n${files.join("\n")}`);
  const extra = files.filter((f) => !needed.includes(f) && !optional.some((re) => re.test(f)));
  assert.deepEqual(extra, [], 'files users do not need');
  const internal = files.filter((f) => /^(tests|fixtures|src|www|scripts|bench|target|out)\//.test(f));
  assert.deepEqual(internal, []);
});

test('installed from the tarball: require() runs a fixture pipeline', () => {
  runInConsumer(
    'check.cjs',
    `'use strict';
const assert = require('node:assert/strict');
const path = require('node:path');
const { Pipeline, HalideError } = require('${NAME}');
assert.ok(require.resolve('${NAME}').startsWith(path.join(__dirname, 'node_modules') + path.sep), require.resolve('${NAME}'));
assert.deepEqual(Object.keys(require('${NAME}')).sort(), ['HalideError', 'Pipeline', 'init', 'toBuffer', 'toImageData']);
(async () => {
  const fx = await import(${JSON.stringify(fixturesHelper)});
  ${fixtureRun}
})().catch((e) => { console.error(e); process.exit(1); });
`,
  );
});

test('installed from the tarball: import() runs a fixture pipeline', () => {
  runInConsumer(
    'check.mjs',
    `import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
const resolved = fileURLToPath(import.meta.resolve('${NAME}'));
assert.ok(resolved.startsWith(fileURLToPath(new URL('./node_modules/', import.meta.url))), resolved);
const { Pipeline, HalideError, default: cjs } = await import('${NAME}');
assert.equal(cjs.Pipeline, Pipeline);
assert.equal(cjs.HalideError, HalideError);
const fx = await import(${JSON.stringify(fixturesHelper)});
${fixtureRun}
`,
  );
});

test("installed from the tarball: import('halide-wasm-executor/web') works in Node too (init first for loadSync)", () => {
  runInConsumer(
    'web.mjs',
    `import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
const web = await import('${NAME}/web');
const { Pipeline, HalideError, init } = web;
const fx = await import(${JSON.stringify(fixturesHelper)});
const c = fx.caseNamed('brighten_u8');
// Before the executor is initialised, loadSync says what to do.
assert.throws(() => Pipeline.loadSync(fx.wasmBytes(c.module)), (e) => e instanceof HalideError && e.code === 'init' && /await init\\(\\)/.test(e.message));
const p = await Pipeline.load(fx.wasmBytes(c.module), { print() {} });
const { args, outputs } = fx.prepare(c);
p.run(args);
for (const o of outputs) assert.equal(fx.compare(o.type, o.data, o.expected, c.tolerance), null, o.name);
await init();
assert.equal(Pipeline.loadSync(fx.wasmBytes(c.module)).name, 'brighten_u8');
// Having no top-level await, the browser entry is require()able too (Node >= 20.19).
assert.equal(createRequire(import.meta.url)('${NAME}/web').Pipeline, Pipeline);
console.log('ok');
`,
  );
});

test('installed without optional dependencies: the library works; the CLI names what to install', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  assert.deepEqual(pkg.dependencies ?? {}, {}, 'the library has no runtime dependencies');
  assert.deepEqual(Object.keys(pkg.optionalDependencies ?? {}).sort(), ['cli-progress', 'jpeg-js', 'pngjs']);
  const { tgz } = pack();
  const dir = tempDir('hwe-no-optional-');
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', version: '0.0.0', private: true }));
  let r = sh('npm', ['install', '--no-audit', '--no-fund', '--omit=optional', tgz], { cwd: dir, timeout: 120_000 });
  assert.equal(r.status, 0, r.output);
  assert.equal(existsSync(join(dir, 'node_modules', 'pngjs')), false, 'pngjs was left out');
  writeFileSync(
    join(dir, 'check.cjs'),
    `const { Pipeline } = require('${NAME}');
const fs = require('node:fs');
const p = Pipeline.loadSync(fs.readFileSync(${JSON.stringify(join(root, 'fixtures', 'brighten_u8.wasm'))}));
import('${NAME}').then((m) => { if (m.Pipeline !== Pipeline || p.name !== 'brighten_u8') process.exit(1); console.log('ok'); });
`,
  );
  r = sh(process.execPath, ['check.cjs'], { cwd: dir });
  assert.equal(r.status, 0, r.output);
  assert.match(r.stdout, /^ok$/m, r.output);
  r = sh(join(dir, 'node_modules', '.bin', 'halide-wasm-run'), ['info', join(root, 'fixtures', 'brighten_u8.wasm')], { cwd: dir });
  assert.equal(r.status, 2, r.output);
  assert.match(r.stderr, /npm install pngjs jpeg-js cli-progress/, r.output);
  assert.match(r.stderr, /optional dependencies of halide-wasm-executor/, r.output);
  // With them (a default install, above), the same command works.
  r = sh(join(install(), 'node_modules', '.bin', 'halide-wasm-run'), ['info', join(root, 'fixtures', 'brighten_u8.wasm')]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.stdout, /brighten_u8/, r.output);
});

test('installed from the tarball: TypeScript resolves the types for import and require', () => {
  const dir = install();
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: 'node16',
        moduleResolution: 'node16',
        target: 'es2022',
        lib: ['es2022', 'dom'],
        types: [],
        skipLibCheck: false,
      },
      files: ['esm.mts', 'cjs.cts'],
    }),
  );
  writeFileSync(
    join(dir, 'esm.mts'),
    `import { Pipeline, HalideError, type Stats } from '${NAME}';
import * as web from '${NAME}/web';
const p = await Pipeline.load(new Uint8Array(8), { print: (t) => void t.length });
p.run({ input: { data: new Uint8Array(1), shape: [1] }, gain: 1.5 });
const s: Stats = p.stats();
const w: Pipeline = await web.Pipeline.load(fetch('x.wasm'));
// @ts-expect-error run takes an object of arguments
p.run(123);
export { s, w, HalideError };
`,
  );
  writeFileSync(
    join(dir, 'cjs.cts'),
    `import hwe = require('${NAME}');
const p: hwe.Pipeline = hwe.Pipeline.loadSync(new Uint8Array(8));
// @ts-expect-error 'memoryLimit' is not an option
hwe.Pipeline.loadSync(new Uint8Array(8), { memoryLimit: 1 });
export const code: hwe.HalideErrorCode | number = new hwe.HalideError('x', { code: 'trap' }).code;
export { p };
`,
  );
  const r = sh(bin('tsc'), ['-p', dir]);
  assert.equal(r.status, 0, r.output);
});

test('npm pack refuses to pack without the built executor (prepack)', () => {
  // A copy of the package's sources without pkg/, as a fresh clone has it.
  const dir = tempDir('hwe-unbuilt-');
  for (const f of ['package.json', 'README.md', 'LICENSE', 'lib', 'bin', 'cli', 'scripts/prepack.mjs']) {
    if (existsSync(join(root, f))) cpSync(join(root, f), join(dir, f), { recursive: true });
  }
  const r = sh('npm', ['pack', '--pack-destination', dir], { cwd: dir });
  assert.notEqual(r.status, 0, r.output);
  assert.match(r.output, /pkg\/web\/halide_wasm_executor_bg\.wasm is missing/);
  assert.match(r.output, /npm run build/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tgz')), [], 'no tarball was made');
});

test('no top-level await in the browser scripts: esbuild bundles each as an es2020 IIFE', () => {
  // (An IIFE cannot await at its top level; es2020 has no top-level await.)
  for (const entry of ['lib/web.mjs', 'lib/runner-worker.mjs', 'lib/thread-worker.mjs']) {
    const r = sh(bin('esbuild'), [entry, '--bundle', '--format=iife', '--target=es2020', '--log-level=error'], { maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.output.slice(0, 4000));
  }
});

// ---------------------------------------------------------------- linters

test('publint: no errors or warnings', () => {
  const r = sh(bin('publint'), ['--strict']);
  assert.equal(r.status, 0, r.output);
  assert.doesNotMatch(r.stdout, /Errors?:|Warnings?:/, r.output);
});

test('arethetypeswrong: the main entry point has no problems in any resolution mode', () => {
  const r = sh(bin('attw'), ['--pack', '.', '--exclude-entrypoints', './web', '--format', 'ascii']);
  assert.equal(r.status, 0, r.output);
  assert.match(r.stdout, /No problems found/, r.output);
});

test('arethetypeswrong: ./web has no problems beyond being ESM-only', () => {
  // lib/web.mjs is an ES module, so by design:
  // - cjs-resolves-to-esm: `require('halide-wasm-executor/web')` resolves to
  //   an ES module (node16 from CJS; Node >= 20.19 require()s it, having no
  //   top-level await; CommonJS code may also use import()).
  // - no-resolution: node10 resolution ignores "exports" and finds no
  //   web/ directory. (The main entry has "types" for node10 and is checked
  //   with no rules ignored above.)
  const r = sh(bin('attw'), [
    '--pack',
    '.',
    '--entrypoints',
    './web',
    '--ignore-rules',
    'cjs-resolves-to-esm',
    'no-resolution',
    '--format',
    'ascii',
  ]);
  assert.equal(r.status, 0, r.output);
  assert.match(r.stdout, /node16 \(from ESM\): 🟢 \(ESM\)/, r.output);
  assert.match(r.stdout, /bundler: 🟢/, r.output);
});
