// The package in web apps, as a user gets it: the tarball `npm pack` makes,
// installed into a fresh project, imported by a tiny app (tests/bundlers/)
// built by each bundler with the README's own commands (its `sh app=NAME` blocks, run as written)
// (Vite, webpack 5, esbuild; and no bundler: the files served as they are
// installed), served cross-origin isolated (scripts/serve.mjs) and opened
// in Debian's Chromium (playwright-core). In the page and in a module
// Worker of the app's own, each runs real fixture pipelines: brighten_u8
// through run and runAsync, and bilateral_grid_threads through runAsync on
// two threads (the runner and its thread workers are the package's own
// workers, which the bundler must have emitted); the outputs must equal
// native Halide's (the fixtures' .bin files). Also: a bad module rejects
// with a HalideError, and with the executor's wasm missing, load rejects
// with a HalideError naming its URL (no uncaught error on the page). The
// Vite app is also opened from Vite's development server. The executor's
// wasm is fetched by the page and by the app's worker, and by none of the
// package's own workers (they are posted the compiled module).
// KEEP_BUNDLER_APPS=1 keeps the built apps (the temporary directory).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer } from '../../scripts/serve.mjs';
import { caseNamed, compare, fixturesDir, manifest, prepare } from './fixtures.mjs';
import { recipe } from './readme-blocks.mjs';
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
const CASES = ['brighten_u8', 'bilateral_grid_threads'];

function sh(cmd, args, options = {}) {
  const r = spawnSync(cmd, args, { cwd: ROOT, encoding: 'utf8', timeout: 180_000, ...options });
  if (r.error) throw r.error;
  const output = `$ ${[cmd, ...args].join(' ')} (in ${options.cwd ?? ROOT})\n${r.stdout}${r.stderr}`;
  assert.equal(r.status, 0, output);
  return r.stdout;
}

/** The fixture files the apps fetch, and cases.json: each case's module file and arguments. */
function writeFixtures(dir) {
  mkdirSync(dir, { recursive: true });
  const cases = {};
  for (const name of CASES) {
    const c = caseNamed(name);
    const wasm = manifest.modules[c.module].wasm;
    cases[name] = { wasm, args: c.args };
    cpSync(join(fixturesDir, wasm), join(dir, wasm));
    for (const a of Object.values(c.args)) if (a.kind === 'input') cpSync(join(fixturesDir, a.file), join(dir, a.file));
  }
  writeFileSync(join(dir, 'cases.json'), JSON.stringify(cases));
}

const filesUnder = (d) => readdirSync(d, { recursive: true, withFileTypes: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath ?? e.path, e.name));

/** Checks what one context (page or worker) of an app reported. */
function checkContext(t, what, r) {
  assert.equal(typeof r, 'object', `${what}: ${JSON.stringify(r)}`);
  assert.equal(r.error, undefined, `${what}: ${JSON.stringify(r.error)}`);
  assert.equal(r.crossOriginIsolated, true, `${what} is cross-origin isolated`);
  for (const [key, name] of [
    ['run', 'brighten_u8'],
    ['runAsync', 'brighten_u8'],
    ['threaded', 'bilateral_grid_threads'],
  ]) {
    assert.equal(r[key]?.error, undefined, `${what} ${key}: ${JSON.stringify(r[key]?.error)}`);
    const c = caseNamed(name);
    const [o] = prepare(c).outputs;
    const got = new o.data.constructor(r[key].output);
    assert.equal(compare(o.type, got, o.expected, c.tolerance), null, `${what} ${key} (${name}) equals native Halide's output`);
  }
  assert.equal(r.run.name, 'brighten_u8');
  assert.equal(r.badModule.isHalideError, true, `${what}: ${JSON.stringify(r.badModule)}`);
  assert.equal(r.badModule.code, 'bad-module');
}

test('the package under Vite, webpack 5, esbuild and no bundler, in a page and a module Worker, in Chromium', { timeout: 600_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser tests`);
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'hwe-bundlers-'));
  const servers = [];
  let browser;
  t.after(async () => {
    await browser?.close();
    for (const s of servers) await s.close();
    if (!process.env.KEEP_BUNDLER_APPS) rmSync(dir, { recursive: true, force: true });
  });

  // The tarball, installed as a user installs it.
  const packed = JSON.parse(sh('npm', ['pack', '--json', '--pack-destination', dir]).replace(/^[^[]*/s, ''));
  writeFileSync(
    join(dir, 'package.json'),
    JSON.stringify({ name: 'apps', version: '0.0.0', private: true, dependencies: { 'halide-wasm-executor': `file:./${packed[0].filename}` } }),
  );
  sh('npm', ['install', '--no-audit', '--no-fund', '--omit=optional'], { cwd: dir });
  cpSync(join(ROOT, 'tests', 'bundlers'), dir, { recursive: true });
  writeFixtures(join(dir, 'fixtures'));

  // The README's build commands for an app, as a package.json script runs
  // them: the bundlers (this repository's devDependencies) on PATH.
  const readmeRecipe = (name, d) =>
    sh('bash', ['-e', '-c', recipe(name)], { cwd: d, env: { ...process.env, PATH: `${join(ROOT, 'node_modules', '.bin')}:${process.env.PATH}` } });
  // Each app built as its README recipe says; `served` is the directory a server serves.
  const apps = {
    'no bundler': { served: dir, page: '/plain/index.html' },
    Vite: { build: (d) => readmeRecipe('vite', d), dir: 'vite', page: '/app.html' },
    'webpack 5': { build: (d) => readmeRecipe('webpack', d), dir: 'webpack', page: '/app.html' },
    esbuild: {
      build: (d) => readmeRecipe('esbuild', d),
      dir: 'esbuild',
      page: '/app.html',
    },
  };
  // (Vite serves public/ in development and copies it into the build.)
  writeFixtures(join(dir, 'vite', 'public', 'fixtures'));
  for (const app of Object.values(apps)) {
    if (!app.build) continue;
    const d = join(dir, app.dir);
    // The app's directory as the README's commands expect a project: its node_modules at hand.
    symlinkSync(join('..', 'node_modules'), join(d, 'node_modules'), 'dir');
    app.build(d);
    app.served = join(d, 'dist');
    // (Served as app.html: scripts/serve.mjs sends /index.html to its demo.)
    cpSync(join(existsSync(join(app.served, 'index.html')) ? app.served : d, 'index.html'), join(app.served, 'app.html'));
    writeFixtures(join(app.served, 'fixtures'));
  }

  // The executor's wasm is emitted once by the bundlers that emit it (the
  // glue's and web.mjs's references to it are the same file).
  const executorWasm = readFileSync(join(ROOT, 'pkg', 'web', 'halide_wasm_executor_bg.wasm'));
  for (const name of ['Vite', 'webpack 5']) {
    const copies = filesUnder(apps[name].served).filter((f) => f.endsWith('.wasm') && readFileSync(f).equals(executorWasm));
    assert.equal(copies.length, 1, `${name} emits the executor's wasm once: ${copies.join(', ')}`);
  }

  browser = await launchChromium();

  for (const [name, app] of Object.entries(apps)) {
    await t.test(name, async () => {
      const server = await startServer({ port: 0, root: app.served });
      servers.push(server);
      const page = await browser.newPage();
      const errors = [];
      page.on('pageerror', (e) => errors.push(e.message));
      const missing = [];
      page.on('response', (r) => r.status() >= 400 && missing.push(`${r.status()} ${r.url()}`));
      const executorFetches = [];
      page.on('request', (q) => /\.wasm$/.test(q.url()) && !new URL(q.url()).pathname.startsWith('/fixtures/') && executorFetches.push(q.url()));
      await page.goto(server.url + app.page);
      const r = await page
        .waitForFunction(() => window.result, null, { timeout: 30_000 })
        .then(() => page.evaluate(() => window.result))
        .catch((e) => assert.fail(`${e.message}\nerrors on the page: ${errors.join('; ')}\nmissing: ${missing.join('; ')}`));
      await page.close();
      checkContext(t, `${name}: the page`, r.page);
      checkContext(t, `${name}: its module Worker`, r.worker);
      // Once by the page and once by the app's worker; the package's own
      // workers (runAsync's runners, the threads) are handed it compiled.
      assert.equal(executorFetches.length, 2, `the executor's wasm is fetched by the page and the app's worker only: ${executorFetches.join(', ')}`);
      assert.deepEqual(errors, [], 'no uncaught error');
      assert.deepEqual(missing, [], 'every request found its file');
    });
  }

  await t.test("Vite's development server (vite dev; cross-origin isolation headers for the threaded pipeline)", async () => {
    const { createServer } = await import('vite');
    const server = await createServer({
      root: join(dir, 'vite'),
      configFile: false,
      logLevel: 'error',
      server: { port: 0, host: '127.0.0.1', headers: { 'Cross-Origin-Opener-Policy': 'same-origin', 'Cross-Origin-Embedder-Policy': 'require-corp' } },
    });
    await server.listen();
    servers.push(server);
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    const missing = [];
    page.on('response', (r) => r.status() >= 400 && missing.push(`${r.status()} ${r.url()}`));
    await page.goto(new URL('index.html', server.resolvedUrls.local[0]).href);
    const r = await page
      .waitForFunction(() => window.result, null, { timeout: 60_000 })
      .then(() => page.evaluate(() => window.result))
      .catch((e) => assert.fail(`${e.message}\nerrors on the page: ${errors.join('; ')}\nmissing: ${missing.join('; ')}`));
    await page.close();
    checkContext(t, 'vite dev: the page', r.page);
    checkContext(t, 'vite dev: its module Worker', r.worker);
    assert.deepEqual(errors, [], 'no uncaught error');
    assert.deepEqual(missing, [], 'every request found its file');
  });

  await t.test("no bundler: the executor's wasm missing: load rejects with a HalideError naming its URL", async () => {
    const server = servers[0];
    const page = await browser.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(`${server.url}/plain/index.html?missing-wasm`);
    const r = await page.evaluate(() => window.result);
    await page.close();
    assert.equal(r.isHalideError, true, JSON.stringify(r));
    assert.equal(r.code, 'init');
    assert.match(r.message, new RegExp(`${server.url}/nowhere/executor\\.wasm`));
    assert.match(r.message, /404/);
    assert.deepEqual(errors, [], 'no uncaught error');
  });
});
