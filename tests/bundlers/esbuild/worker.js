import * as hwe from 'halide-wasm-executor';
import { check } from '../common/check.js';

hwe.init({ baseUrl: '/halide-wasm-executor/' });
check(hwe, { sync: true }).then((r) => postMessage(r));
