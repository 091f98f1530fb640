'use strict';
// runAsync's runner in Node (started by runner-node.cjs): the whole package
// (so that a threaded pipeline starts its worker threads from here), serving
// the runs its pipeline posts (runner-serve.mjs).
const { parentPort } = require('node:worker_threads');
require('./node.cjs');
const wasm = require('./executor-node.cjs');
const { serveRunner } = require('./runner-serve.mjs');

serveRunner({
  loadForRunner: wasm.loadForRunner,
  whenPoolReady: wasm.whenPoolReady,
  post: (m, transfer) => parentPort.postMessage(m, transfer),
  listen: (f) => parentPort.on('message', f),
});
