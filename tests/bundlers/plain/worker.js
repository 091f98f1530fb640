import { Pipeline, HalideError, init } from '../node_modules/halide-wasm-executor/lib/web.mjs';
import { check } from '../common/check.js';

const hwe = { Pipeline, HalideError, init };

check(hwe, { sync: true }).then((r) => postMessage(r));
