// Set-up that `npm start`, `npm test`, `npm run bench` and `npm run serve`
// do for themselves on a fresh machine (one with rustup/cargo, node/npm,
// python3 and apt), and that costs nothing when everything is in place:
//   - the wasm32-unknown-unknown Rust target (rustup)
//   - wasm-pack (cargo install; it then installs wasm-bindgen's CLI itself)
//   - node_modules (npm install; brings binaryen's wasm-opt for release builds)
//   - Debian's chromium and chromium-driver for browser tests (apt-get)
//   - the Halide compiler and numpy from PyPI (pip), for the README's
//     examples and the fixture generator
//   - pkg/web (the executor's one build), rebuilt when a source is newer than the build
//
// Usage: node scripts/setup.mjs [--browser] [--python] [--build] [--force-build]
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import { CHROMIUM as chromium } from './chromium.mjs';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

const cargoBin = join(os.homedir(), '.cargo', 'bin');
// Tools installed by this script must be found by the ones it runs next.
process.env.PATH = [join(root, 'node_modules', '.bin'), cargoBin, process.env.PATH].join(delimiter);

function log(msg) {
  console.log(`[setup] ${msg}`);
}

/** Runs a command, inheriting stdio; throws when it fails. */
export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

function output(cmd, args) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', cwd: root });
  return r.status === 0 ? r.stdout : null;
}

function ensureRustTarget() {
  const installed = output('rustup', ['target', 'list', '--installed']) ?? '';
  if (!installed.split('\n').includes('wasm32-unknown-unknown')) {
    log('adding the wasm32-unknown-unknown target');
    run('rustup', ['target', 'add', 'wasm32-unknown-unknown']);
  }
}

function ensureWasmPack() {
  if (output('wasm-pack', ['--version']) === null) {
    log('installing wasm-pack (cargo install; a few minutes, once)');
    run('cargo', ['install', '--locked', 'wasm-pack']);
  }
}

function ensureNodeModules() {
  const stamp = join(root, 'node_modules', '.package-lock.json');
  const newer = (f) => existsSync(join(root, f)) && statSync(join(root, f)).mtimeMs > statSync(stamp).mtimeMs;
  if (!existsSync(stamp) || newer('package.json') || newer('package-lock.json')) {
    log('installing node modules');
    run('npm', [existsSync(join(root, 'package-lock.json')) ? 'ci' : 'install', '--no-audit', '--no-fund']);
  }
}

export const chromedriver = '/usr/bin/chromedriver';

function ensureBrowser() {
  if (existsSync(chromium) && existsSync(chromedriver)) return;
  log("installing Debian's chromium and chromium-driver");
  const sudo = process.getuid && process.getuid() !== 0 ? ['sudo'] : [];
  const apt = (args) => (sudo.length ? run('sudo', ['apt-get', ...args]) : run('apt-get', args));
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  apt(['update']);
  const r = spawnSync(sudo.length ? 'sudo' : 'apt-get', [...(sudo.length ? ['apt-get'] : []), 'install', '-y', 'chromium', 'chromium-driver'], { stdio: 'inherit', env });
  if (r.status !== 0) throw new Error('apt-get install chromium chromium-driver failed');
}

function ensurePython() {
  if (output('python3', ['-c', 'import halide, numpy']) !== null) return;
  log('installing the Halide compiler and numpy (pip install -r scripts/requirements.txt)');
  run('python3', ['-m', 'pip', 'install', '--disable-pip-version-check', '-r', join(root, 'scripts', 'requirements.txt')]);
}

function newest(dir) {
  let t = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : statSync(p).mtimeMs);
  }
  return t;
}

/**
 * Builds pkg/web (release, optimised by binaryen's wasm-opt) when stale: the
 * package's one build of the executor, used by browsers and bundlers
 * (lib/web.mjs) and by Node (lib/executor-node.cjs require()s the same
 * ES module glue and initialises it synchronously from the same wasm).
 */
export function build({ force = false } = {}) {
  const sources = Math.max(newest(join(root, 'src')), statSync(join(root, 'Cargo.toml')).mtimeMs);
  const dir = 'pkg/web';
  const stamp = join(root, dir, 'halide_wasm_executor_bg.wasm');
  // The Node build of earlier versions (the same wasm a second time).
  rmSync(join(root, 'pkg', 'node'), { recursive: true, force: true });
  if (force || !existsSync(stamp) || statSync(stamp).mtimeMs < sources) {
    log(`building ${dir} (wasm-pack --target web)`);
    // wasm-bindgen adds JS snippets but never removes old ones.
    rmSync(join(root, dir, 'snippets'), { recursive: true, force: true });
    run('wasm-pack', ['build', '--release', '--target', 'web', '--out-dir', dir, '--no-pack', '--weak-refs']);
  }
  // wasm-pack writes a `*` .gitignore into its output, which npm pack would
  // honour, leaving the package without its wasm: the build is ours to ship.
  rmSync(join(root, dir, '.gitignore'), { force: true });
  // wasm-bindgen also copies our package.json's dependencies into a
  // package.json there (it does so for crates with JS snippets). What the
  // directory needs instead is to say that its .js files are ES modules
  // (the root package.json says "type": "commonjs"): webpack refuses ES
  // module syntax in a CommonJS scope, and Node's require() of the glue
  // (lib/executor-node.cjs) needs to know it.
  writeFileSync(join(root, dir, 'package.json'), '{ "type": "module" }\n');
}

export function setup({ browser = false, python = false, doBuild = false, forceBuild = false } = {}) {
  ensureRustTarget();
  ensureWasmPack();
  ensureNodeModules();
  if (browser) ensureBrowser();
  if (python) ensurePython();
  if (doBuild || forceBuild) build({ force: forceBuild });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const a = process.argv.slice(2);
  try {
    setup({ browser: a.includes('--browser'), python: a.includes('--python'), doBuild: a.includes('--build'), forceBuild: a.includes('--force-build') });
  } catch (e) {
    console.error(`[setup] ${e.message}`);
    process.exit(1);
  }
}
