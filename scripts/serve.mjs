// `npm run serve`: a small static server for the in-browser demo (www/).
//
// Serves the repository root with sirv, so the page reaches /lib (the ES
// module entry), /pkg/web (the wasm-bindgen build), /fixtures (the bundled
// pipelines) and /www (the page itself). `/` redirects to `/www/`. Every
// response is cross-origin isolated (COOP same-origin + COEP require-corp) so
// the page may use SharedArrayBuffer (threaded pipelines); tests that need a
// page without it pass `isolation: false`.
//
//   PORT=8080 HOST=127.0.0.1 node scripts/serve.mjs
//
// Tests import `startServer({ port: 0 })` and get `{ url, close }` back.
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';
import sirv from 'sirv';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const ISOLATION = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** The request handler: redirects, isolation headers, then static files. */
export function createHandler({ root = ROOT, isolation = true } = {}) {
  const files = sirv(root, {
    dev: true, // no caching: edits to www/ show up on reload
    dotfiles: false,
    setHeaders(res, pathname) {
      if (pathname.endsWith('.wasm')) res.setHeader('Content-Type', 'application/wasm');
      else if (pathname.endsWith('.mjs')) res.setHeader('Content-Type', 'text/javascript; charset=utf-8');
    },
  });
  return (req, res) => {
    if (isolation) for (const [k, v] of Object.entries(ISOLATION)) res.setHeader(k, v);
    const { pathname, search } = new URL(req.url, 'http://localhost');
    if (pathname === '/' || pathname === '/www' || pathname === '/index.html') {
      res.writeHead(302, { Location: `/www/${search}` });
      res.end();
      return;
    }
    const notFound = () => {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
      res.end(`404: ${pathname} not found\n`);
    };
    // sirv's dev mode reads the disk directly and would serve .git/ and other dotfiles.
    let decoded;
    try {
      decoded = decodeURIComponent(pathname);
    } catch {
      return notFound();
    }
    if (/(^|[\\/])\./.test(decoded)) return notFound();
    files(req, res, notFound);
  };
}

/**
 * Starts the server; resolves to `{ url, port, server, close }` once it
 * listens. `port: 0` picks a free port. `close()` resolves when it stopped.
 * `isolation: false` leaves out the cross-origin isolation headers.
 */
export function startServer({ port = Number(process.env.PORT ?? 8080), host = process.env.HOST ?? '127.0.0.1', root, isolation = true } = {}) {
  const server = http.createServer(createHandler({ root, isolation }));
  return new Promise((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      const addr = server.address();
      const shownHost = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
      const url = `http://${shownHost === '0.0.0.0' ? 'localhost' : shownHost}:${addr.port}`;
      const close = () =>
        new Promise((done) => {
          server.close(() => done());
          server.closeAllConnections?.();
        });
      resolvePromise({ url, port: addr.port, server, close });
    });
  });
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  // Like npm start: set up and build pkg/web when they are missing or stale.
  const { setup } = await import('./setup.mjs');
  setup({ doBuild: true });
  try {
    const { url, close } = await startServer();
    console.log(`halide-wasm-executor demo: ${url}/www/  (serving ${ROOT}; Ctrl-C to stop)`);
    const stop = () => close().then(() => process.exit(0));
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  } catch (e) {
    console.error(e.code === 'EADDRINUSE' ? `port ${e.port} is in use; set PORT to another one` : e.message);
    process.exit(1);
  }
}
