// The crate's wasm tests (tests/*.rs) in headless Chromium, driven by
// playwright-core rather than ChromeDriver.
//
// `wasm-pack test --headless --chrome` drives Chromium through ChromeDriver.
// With Chromium 156, wasm-bindgen-test-runner 0.2.130 and the threaded
// executor, about half of those runs of a test binary ended in "Timed out
// receiving message from renderer" after 300 s with no report, and pages
// opened by playwright-core went idle now and then ("Loading scripts...").
// The cause is the runner's HTTP server (tiny_http 0.12, under rouille):
// its pool keeps four threads, a thread serves one connection until the
// client closes it, and a connection handed to the pool in a burst can be
// queued with no thread to take it (the pool counts a thread it has just
// woken as still waiting, so it neither wakes nor starts one). Chromium
// keeps its connections open and fetches a module's imports in parallel:
// since the executor has six JavaScript snippets (threads.js and
// shared_heap.js came with threads) a page opens six connections at once,
// and the requests of the last ones sat unread in their sockets (seen with
// `ss`: bytes in the server's receive queue; the same URLs fetched from
// Node meanwhile were served at once). So the page talks to a proxy here,
// which sends each request to the runner on a connection of its own and
// closes it: no runner thread stays tied to an idle connection. A page that
// still gives no report in time is opened again (ATTEMPTS), and says so.
// Each test binary is built by cargo as wasm-pack would, served by
// wasm-bindgen-test-runner in its interactive mode (the page runs the tests
// on its main thread), opened in /usr/bin/chromium, and its report read
// from the page; a binary passes only when its report says
// `test result: ok`.
//
//   node scripts/wasm-browser-test.mjs
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import { readFileSync, readdirSync, statSync, existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { root } from './setup.mjs';

// A page that shows no report by then is opened again, up to ATTEMPTS
// times (with the proxy, none has needed it); a failed test is a report,
// never retried.
const TIMEOUT_MS = Number(process.env.HWE_WASM_TEST_TIMEOUT_MS ?? 30000);
const ATTEMPTS = 5;

function wasmBindgenVersion() {
  const lock = readFileSync(join(root, 'Cargo.lock'), 'utf8');
  const m = lock.match(/name = "wasm-bindgen"\nversion = "([^"]+)"/);
  if (!m) throw new Error('wasm-bindgen is not in Cargo.lock');
  return m[1];
}

/** The test runner wasm-pack installed for this wasm-bindgen (wasm-pack test --node runs first). */
function runner() {
  const v = wasmBindgenVersion();
  const p = join(homedir(), '.cache', '.wasm-pack', `wasm-bindgen-cargo-install-${v}`, 'wasm-bindgen-test-runner');
  if (!existsSync(p)) throw new Error(`${p} is missing: run wasm-pack test --node first (it installs it)`);
  return p;
}

/** Builds the wasm test binaries; returns the newest binary of each test target. */
function build() {
  const r = spawnSync('cargo', ['test', '--target', 'wasm32-unknown-unknown', '--no-run', '--message-format', 'json'], {
    cwd: root, encoding: 'utf8', maxBuffer: 1 << 26, stdio: ['ignore', 'pipe', 'inherit'],
  });
  if (r.status !== 0) throw new Error('cargo test --no-run failed');
  const bins = [];
  for (const line of r.stdout.split('\n')) {
    if (!line.startsWith('{')) continue;
    const m = JSON.parse(line);
    if (m.reason === 'compiler-artifact' && m.executable && m.target.kind.includes('test') && m.target.src_path.includes('/tests/')) {
      bins.push({ name: m.target.name, file: m.executable });
    }
  }
  return bins;
}

/**
 * A proxy in front of the runner's server: each request goes to the runner
 * on a connection of its own, closed after the response (see the note at
 * the top). Resolves to `{ url, close }`.
 */
function proxy(target) {
  const { hostname, port } = new URL(target);
  const server = http.createServer((req, res) => {
    const headers = { ...req.headers, connection: 'close' };
    const up = http.request({ hostname, port, path: req.url, method: req.method, headers, agent: false }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', (e) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${e.message}\n`);
    });
    req.pipe(up);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({
        url: `http://127.0.0.1:${server.address().port}/`,
        close: () => {
          server.closeAllConnections?.();
          server.close();
        },
      });
    });
  });
}

/** Serves `file` with the runner's interactive mode; resolves to `{ url, child }`. */
function serve(file) {
  return new Promise((resolve, reject) => {
    const child = spawn(runner(), [file], {
      cwd: root,
      env: { ...process.env, NO_HEADLESS: '1', WASM_BINDGEN_TEST_ADDRESS: '127.0.0.1:0', WASM_BINDGEN_USE_BROWSER: '1', WASM_BINDGEN_TEST_ONLY_WEB: '1' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/available at (http:\/\/\S+)/);
      if (m) resolve({ url: m[1], child });
    });
    child.on('exit', (code) => reject(new Error(`wasm-bindgen-test-runner exited (${code}) before serving: ${out}`)));
  });
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--no-first-run'],
});
let failed = 0;
try {
  for (const { name, file } of build()) {
    let text = '';
    for (let attempt = 1; attempt <= ATTEMPTS && !/test result/.test(text); attempt++) {
      if (attempt > 1) console.log(`tests/${name}.rs: the page gave no report within ${TIMEOUT_MS / 1000} s; opening it again (attempt ${attempt} of ${ATTEMPTS})`);
      text = await runOnce(file);
    }
    console.log(`\n     Running tests/${name}.rs in Chromium\n${text.replace(/^Loading[^\n]*\n/, '').trim()}`);
    if (!/test result: ok\./.test(text)) {
      failed++;
      if (!/test result/.test(text)) console.log(`tests/${name}.rs: no report in ${ATTEMPTS} attempts`);
    }
  }
} finally {
  await browser.close();
}

/** Serves and opens one test binary's page; its report, or what it showed when the time ran out. */
async function runOnce(file) {
  const { url: direct, child } = await serve(file);
  const { url, close } = await proxy(direct);
  const page = await browser.newPage();
  try {
    await page.goto(url, { waitUntil: 'commit' });
    const end = Date.now() + TIMEOUT_MS;
    let text = '';
    while (Date.now() < end) {
      text = await page.evaluate(() => document.getElementById('output')?.textContent ?? '');
      if (/test result: (ok|FAILED)/.test(text)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    return text;
  } finally {
    await page.close();
    close();
    child.kill();
  }
}
if (failed) {
  console.error(`${failed} wasm test binary(ies) failed in Chromium`);
  process.exit(1);
}
