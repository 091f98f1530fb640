// Every fenced code block of README.md runs as written, in order, in one
// scratch directory (tests/artifacts/readme/) laid out like a user's project:
// node_modules/halide-wasm-executor is this package (a symlink, as `npm link`
// makes it, until the README's `npm install halide-wasm-executor` installs
// the tarball `npm pack` makes of it: the package is not on the registry,
// so that one command is given the tarball's path) with its
// `halide-wasm-run` in node_modules/.bin. What a block does is told by its
// info string:
//   python            python3 (the Halide compiler from PyPI)
//   sh                bash -e, with node_modules/.bin on PATH and rust-lld's
//                     directory not (the block must say how)
//   sh app=NAME       a bundler's build commands: bundlers.test.mjs runs them
//                     as written in its app NAME (tests/bundlers/)
//   js                an ES module run by node
//   cjs               a CommonJS script run by node
//   js browser        an ES module on a page served from the scratch
//                     directory, cross-origin isolated, in Debian's Chromium;
//                     it must end without a page error, and what it logs is
//                     checked like a node block's output
//   ts                type-checked with tsc --strict (not run)
//   LANG file=PATH    an excerpt of PATH, a file another test runs: each of
//                     its lines (less a trailing // comment) is in the file,
//                     in order
//   text              output shown to the reader: not code
// A line `// → X` (or `# → X` in sh and python) after a statement says what
// it prints: the block's output must contain X. A block with another info
// string fails this test, so no example goes unchecked.
//
// The first block (npm start / npm test) is the repository's own: its
// `npm start` runs in the repository, and its `npm test` is this very run.
// The files a reader is assumed to have (a photo, a folder of photos, a raw
// file) are written by prepare() below, before the first block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync, copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { readmeBlocks } from './readme-blocks.mjs';
import { CHROMIUM, launchChromium } from '../../scripts/chromium.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const WORK = join(ROOT, 'tests', 'artifacts', 'readme');

/** What a block says it prints: the `→ X` comments, in order. */
const expectedOutput = (code) => [...code.matchAll(/(?:\/\/|#) → (.+)$/gm)].map((m) => m[1].trim());

function checkOutput(block, out) {
  for (const want of expectedOutput(block.code)) {
    assert.ok(out.includes(want), `README line ${block.line}: its output should contain ${JSON.stringify(want)}; it printed:\n${out}`);
  }
}

/** A scratch project with this package installed, and the files a reader has. */
function prepare() {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(join(WORK, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(ROOT, join(WORK, 'node_modules', 'halide-wasm-executor'), 'dir');
  symlinkSync(join('..', 'halide-wasm-executor', 'bin', 'halide-wasm-run.mjs'), join(WORK, 'node_modules', '.bin', 'halide-wasm-run'));
  writeFileSync(join(WORK, 'package.json'), JSON.stringify({ name: 'readme-example', private: true, type: 'module' }, null, 2));
  // A photo (PNG and JPEG) and a folder of photos.
  const png = pngjs.PNG.sync.read(readFileSync(join(ROOT, 'www', 'assets', 'sample.png')));
  copyFileSync(join(ROOT, 'www', 'assets', 'sample.png'), join(WORK, 'photo.png'));
  const jpg = jpeg.encode({ data: png.data, width: png.width, height: png.height }, 90).data;
  writeFileSync(join(WORK, 'photo.jpg'), jpg);
  mkdirSync(join(WORK, 'photos'));
  writeFileSync(join(WORK, 'photos', 'a.jpg'), jpg);
  copyFileSync(join(WORK, 'photo.png'), join(WORK, 'photos', 'b.png'));
  // 640x480 RGB, 8-bit, raw.
  const raw = new Uint8Array(640 * 480 * 3);
  for (let i = 0; i < raw.length; i++) raw[i] = (i * 7) & 0xff;
  writeFileSync(join(WORK, 'in.bin'), raw);
}

/** PATH without rust-lld's directory (as on a user's machine). */
const userPath = () =>
  [join(WORK, 'node_modules', '.bin'), ...process.env.PATH.split(':').filter((d) => !existsSync(join(d, 'rust-lld')))].join(':');

function runProcess(block, command, args, cwd = WORK) {
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, PATH: userPath() }, timeout: 240_000 });
  const out = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  assert.equal(r.status, 0, `README line ${block.line} (${block.info}) failed (${r.error?.message ?? `exit ${r.status}`}):\n${block.code}\n--- output:\n${out}`);
  checkOutput(block, out);
  return out;
}

/** Each line of an excerpt block, less a trailing // comment, is in the file, in order. */
function checkExcerpt(block, path) {
  const file = readFileSync(join(ROOT, path), 'utf8').split('\n');
  let at = 0;
  for (const raw of block.code.split('\n')) {
    const line = raw.replace(/\s+\/\/ .*$/, '').trim();
    if (!line) continue;
    while (at < file.length && !file[at].includes(line)) at++;
    assert.ok(at < file.length, `README line ${block.line}: ${JSON.stringify(line)} is not in ${path} (in order): keep the excerpt and the file the same`);
    at++;
  }
}

/** The package as `npm pack` makes it (once). */
let packed;
function tarball() {
  if (!packed) {
    const r = spawnSync('npm', ['pack', '--json', '--pack-destination', WORK], { cwd: ROOT, encoding: 'utf8' });
    assert.equal(r.status, 0, `npm pack: ${r.stderr}`);
    packed = join(WORK, JSON.parse(r.stdout.replace(/^[^[]*/s, ''))[0].filename);
  }
  return packed;
}

let browser;
let server;
async function runInPage(block, n) {
  if (!browser) {
    const { startServer } = await import('../../scripts/serve.mjs');
    server = await startServer({ port: 0, root: WORK });
    browser = await launchChromium();
  }
  const file = `block${n}.mjs`;
  writeFileSync(join(WORK, file), block.code);
  writeFileSync(join(WORK, `block${n}.html`), `<!doctype html><meta charset="utf-8"><script type="module" src="./${file}"></script>\n`);
  const page = await browser.newPage();
  const logs = [];
  const errors = [];
  page.on('console', (m) => logs.push(m.text()));
  page.on('pageerror', (e) => errors.push(e.message));
  try {
    await page.goto(`${server.url}/block${n}.html`);
    const wants = expectedOutput(block.code);
    const deadline = Date.now() + 60_000;
    while (errors.length === 0 && !wants.every((w) => logs.some((l) => l.includes(w))) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.deepEqual(errors, [], `README line ${block.line} (js browser): page errors`);
    checkOutput(block, logs.join('\n'));
  } finally {
    await page.close();
  }
}

test('every code block of the README runs as written', { timeout: 600_000 }, async (t) => {
  const blocks = readmeBlocks();
  assert.ok(blocks.length >= 5, 'the README has its examples');
  prepare();
  t.after(async () => {
    await browser?.close();
    await server?.close();
  });
  let n = 0;
  for (const block of blocks) {
    n++;
    const where = `README line ${block.line}`;
    if (n === 1) {
      // The repository's own commands.
      assert.match(block.code, /^npm start\b/m, `${where}: the first block shows npm start`);
      assert.match(block.code, /^npm test\b/m, `${where}: the first block shows npm test`);
      assert.match(readFileSync(join(ROOT, '.ci', 'run'), 'utf8'), /^npm test$/m, 'CI runs the README test command');
      runProcess(block, 'npm', ['start'], ROOT);
      continue;
    }
    switch (block.info) {
      case 'text':
        break;
      case 'python':
        writeFileSync(join(WORK, `block${n}.py`), block.code);
        runProcess(block, 'python3', [`block${n}.py`]);
        break;
      case 'sh':
        writeFileSync(join(WORK, `block${n}.sh`), block.code.replace(/^npm install halide-wasm-executor$/m, `npm install --no-audit --no-fund ${tarball()}`));
        runProcess(block, 'bash', ['-e', `block${n}.sh`]);
        break;
      case 'js':
        writeFileSync(join(WORK, `block${n}.mjs`), block.code);
        runProcess(block, process.execPath, [`block${n}.mjs`]);
        break;
      case 'cjs':
        writeFileSync(join(WORK, `block${n}.cjs`), block.code);
        runProcess(block, process.execPath, [`block${n}.cjs`]);
        break;
      case 'js browser':
        if (!existsSync(CHROMIUM)) {
          t.diagnostic(`${where}: ${CHROMIUM} is missing; the browser example was not run`);
          break;
        }
        await runInPage(block, n);
        break;
      case 'ts': {
        writeFileSync(join(WORK, `block${n}.ts`), block.code);
        const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
        runProcess(block, process.execPath, [
          tsc, '--strict', '--noEmit', '--target', 'es2022', '--module', 'nodenext', '--moduleResolution', 'nodenext',
          '--lib', 'es2022,esnext.disposable,dom', `block${n}.ts`,
        ]);
        break;
      }
      default:
        if (/^sh app=\w+$/.test(block.info)) break; // bundlers.test.mjs
        if (/^\w+ file=\S+$/.test(block.info)) {
          checkExcerpt(block, block.info.split('file=')[1]);
          break;
        }
        assert.fail(`${where}: a code block with info string '${block.info}', which this test does not know how to run`);
    }
  }
  // The python block needs Halide; without it nothing above would pass.
  assert.ok(existsSync(join(WORK, 'brighten.wasm')), 'the quick start compiled and linked brighten.wasm');
});
