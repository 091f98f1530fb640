'use strict';
// One worker thread of a threaded pipeline, in Node (started by
// threads-node.cjs, with the compiled executor in its workerData): it
// initialises the executor from it and spends its life in threadWorkerMain,
// which instantiates the pipeline's module on the shared memory and serves
// pthread_create until the pool ends.
const { workerData } = require('node:worker_threads');
const wasm = require('./executor-node.cjs');

const { executor, ...data } = workerData;
wasm.threadWorkerMain(data);
