// What `Pipeline.load` takes besides bytes: a URL or URL string (fetched
// from a local HTTP server, or a file: URL / path read from disk), a Blob
// or File, a DataView, a Response served without application/wasm; and
// what it says when the module is not there.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join, relative } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Pipeline, HalideError } from 'halide-wasm-executor';
import { wasmBytes, manifest, fixturesDir, caseNamed, prepare, compare } from './fixtures.mjs';

const quiet = { print: () => {} };
const bytes = wasmBytes('brighten_u8');
const wasmPath = join(fixturesDir, manifest.modules.brighten_u8.wasm);
let server;
let base;

before(async () => {
  server = createServer((req, res) => {
    if (req.url === '/brighten.wasm') {
      res.writeHead(200, { 'content-type': 'application/wasm' });
      res.end(bytes);
    } else if (req.url === '/octet.wasm') {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      res.end(bytes);
    } else {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not here');
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${server.address().port}`;
});
after(() => server.close());

/** Runs brighten_u8's fixture case on `p` and compares with native Halide. */
function runsRight(p) {
  const c = caseNamed('brighten_u8');
  const { args, outputs } = prepare(c);
  p.run(args);
  for (const o of outputs) assert.equal(compare(o.type, o.data, o.expected), null);
}

async function rejectsWith(promise, code, pattern) {
  await assert.rejects(promise, (e) => {
    assert.ok(e instanceof HalideError, `not a HalideError: ${e}`);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

test('a URL, a URL string and a file: URL or path are loaded', async () => {
  runsRight(await Pipeline.load(new URL('/brighten.wasm', base), quiet));
  runsRight(await Pipeline.load(`${base}/brighten.wasm`, quiet));
  runsRight(await Pipeline.load(pathToFileURL(wasmPath), quiet));
  runsRight(await Pipeline.load(pathToFileURL(wasmPath).href, quiet));
  runsRight(await Pipeline.load(wasmPath, quiet));
  runsRight(await Pipeline.load(relative(process.cwd(), wasmPath), quiet));
  // With a cap the fetched bytes are bounded before compiling.
  const capped = await Pipeline.load(`${base}/brighten.wasm`, { ...quiet, maxMemoryBytes: 64 << 20 });
  runsRight(capped);
});

test('a Response without application/wasm is compiled from its bytes', async () => {
  const r = await fetch(`${base}/octet.wasm`);
  assert.equal(r.headers.get('content-type'), 'application/octet-stream');
  runsRight(await Pipeline.load(r, quiet));
  runsRight(await Pipeline.load(fetch(`${base}/octet.wasm`), quiet));
  runsRight(await Pipeline.load(`${base}/octet.wasm`, quiet));
  runsRight(await Pipeline.load(new Response(bytes), quiet));
  runsRight(await Pipeline.load(new Response(bytes, { headers: { 'content-type': 'application/octet-stream' } }), { ...quiet, maxMemoryBytes: 64 << 20 }));
});

test('a Blob, a File and a DataView are loaded', async () => {
  runsRight(await Pipeline.load(new Blob([bytes]), quiet));
  runsRight(await Pipeline.load(new File([bytes], 'brighten.wasm'), quiet));
  const padded = new Uint8Array(bytes.length + 16);
  padded.set(bytes, 8);
  const view = new DataView(padded.buffer, 8, bytes.length);
  runsRight(await Pipeline.load(view, quiet));
  runsRight(Pipeline.loadSync(view, quiet));
});

test('a missing module is a HalideError naming the URL and the status', async () => {
  await rejectsWith(Pipeline.load(`${base}/nothing.wasm`, quiet), 'bad-argument', new RegExp(`could not be loaded: the server answered 404 Not Found from ${base}/nothing\\.wasm`));
  await rejectsWith(Pipeline.load(fetch(`${base}/nothing.wasm`), quiet), 'bad-argument', /404 Not Found/);
  await rejectsWith(Pipeline.load(join(fixturesDir, 'no-such.wasm'), quiet), 'bad-argument', /no-such\.wasm could not be read: ENOENT/);
  // Nobody listens on port 9 of this host.
  await rejectsWith(Pipeline.load('http://127.0.0.1:9/x.wasm', quiet), 'bad-argument', /http:\/\/127\.0\.0\.1:9\/x\.wasm could not be fetched/);
  await rejectsWith(Pipeline.load('http://[bad', quiet), 'bad-argument', /the module's URL could not be read/);
  // The text of a 404 page is not a module either way.
  await rejectsWith(Pipeline.load(new Blob(['not wasm']), quiet), 'bad-module', /not a valid WebAssembly module/);
});

test('load never throws synchronously for these inputs; loadSync refuses them by name', async () => {
  const p = Pipeline.load(`${base}/nothing.wasm`, quiet);
  assert.ok(p instanceof Promise);
  await assert.rejects(p);
  for (const x of [`${base}/brighten.wasm`, new URL(base), new Blob([bytes])]) {
    assert.throws(() => Pipeline.loadSync(x, quiet), (e) => e instanceof HalideError && e.code === 'bad-argument' && /use load\(\) for a URL, Blob/.test(e.message));
  }
  // A body already read cannot be read again.
  const r = await fetch(`${base}/octet.wasm`);
  await r.arrayBuffer();
  await rejectsWith(Pipeline.load(r, quiet), 'bad-argument', /the Response/);
});
