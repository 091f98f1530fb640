'use strict';
// runAsync's runners in Node: a worker_thread running runner-worker.cjs,
// referenced only while a call is in flight (an idle runner never keeps the
// process alive). `liveRunners()` counts those not yet exited (for tests:
// dispose ends the runner).
const { Worker } = require('node:worker_threads');
const path = require('node:path');

const live = new Set();

function createRunner({ onMessage, onError }) {
  // The compiled executor goes with it: the worker compiles nothing again.
  const w = new Worker(path.join(__dirname, 'runner-worker.cjs'), { workerData: { executor: require('./executor-node.cjs').executorModule() } });
  w.unref();
  live.add(w);
  let ended = false;
  w.on('message', onMessage);
  w.on('error', (e) => {
    ended = true;
    onError(e);
  });
  w.on('exit', (code) => {
    live.delete(w);
    if (!ended) onError(new Error(`it exited with code ${code}`));
  });
  return {
    post: (m, transfer) => w.postMessage(m, transfer),
    ref: () => w.ref(),
    unref: () => w.unref(),
    terminate: () => {
      ended = true;
      w.terminate();
    },
  };
}

module.exports = { createRunner, liveRunners: () => live.size };
