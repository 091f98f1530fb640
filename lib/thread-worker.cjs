'use strict';
// One worker thread of a threaded pipeline, in Node (started by
// threads-node.cjs): it loads the executor and spends its life in
// threadWorkerMain, which instantiates the pipeline's module on the shared
// memory and serves pthread_create until the pool ends.
const { workerData } = require('node:worker_threads');
const wasm = require('../pkg/node/halide_wasm_executor.js');

wasm.threadWorkerMain(workerData);
