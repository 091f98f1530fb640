import { Pipeline, HalideError, init } from 'halide-wasm-executor';
import { check } from '../common/check.js';

const hwe = { Pipeline, HalideError, init };

check(hwe, { sync: true }).then((r) => postMessage(r));
