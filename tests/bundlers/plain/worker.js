import * as hwe from '../node_modules/halide-wasm-executor/lib/web.mjs';
import { check } from '../common/check.js';

check(hwe, { sync: true }).then((r) => postMessage(r));
