'use strict';
// How the executor starts worker threads in Node: worker_threads running
// thread-worker.cjs, unref'd so that a pipeline never keeps the process
// alive. `liveWorkers()` counts those not yet exited (for tests: no worker
// outlives its pipeline).
const { Worker } = require('node:worker_threads');
const os = require('node:os');
const path = require('node:path');

const live = new Set();

function install(wasm) {
  const spawn = (data) => {
    // The compiled executor goes with it: the worker compiles nothing again.
    const w = new Worker(path.join(__dirname, 'thread-worker.cjs'), { workerData: { ...data, executor: wasm.executorModule() } });
    w.unref();
    live.add(w);
    w.on('exit', () => live.delete(w));
    // An exception that escapes the worker (it failed to load): the pool's
    // failure, so that nothing waits for this worker.
    w.on('error', (e) => wasm.threadFailed(data.control, `a worker thread failed: ${e && e.message}`));
    return w;
  };
  // A worker_thread starts while the thread that made it blocks (waitReady).
  wasm.registerThreads(spawn, typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length, true);
}

module.exports = { install, liveWorkers: () => live.size };
