import * as hwe from 'halide-wasm-executor';
import { check } from '../common/check.js';

check(hwe, { sync: true }).then((r) => postMessage(r));
