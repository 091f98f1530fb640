#!/usr/bin/env python3
"""Times the threaded bench pipelines (par_blur_u16, bilateral_grid,
local_laplacian from scripts/bench_pipelines.py, the algorithms and
schedules scripts/gen_fixtures.py compiles to fixtures/*_threads.wasm)
natively with the `halide` package's JIT, on as many threads as
HL_NUM_THREADS says, for bench/run.mjs.

    HL_NUM_THREADS=2 python3 bench/native_threads.py '{"par_blur_u16": [1536, 1024], ..., "runs": 9}'

Prints one JSON object: {"halide": version, "threads": "2", "rows": {name:
{"native_ms": median ms of `runs` realizes into a preallocated output} or
{"native_ms": null, "native_error": str}}}. Inputs are random, like the
bench's (floats in [0, 1], integers over their whole range).
"""

import json
import os
import statistics
import sys
import time

import halide as hl
import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
import bench_pipelines  # noqa: E402

TYPES = {"par_blur_u16": np.uint16, "bilateral_grid": np.float32, "local_laplacian": np.uint16}


def time_one(name, shape, runs):
    f, inp, scalars, _simd = getattr(bench_pipelines, name)()
    dtype = TYPES[name]
    rng = np.random.default_rng(1)
    shape_np = tuple(reversed(shape))
    if np.issubdtype(dtype, np.floating):
        data = rng.uniform(0, 1, size=shape_np).astype(dtype)
    else:
        data = rng.integers(0, np.iinfo(dtype).max, size=shape_np, dtype=dtype, endpoint=True)
    inp.set(hl.Buffer(data))
    for p, v in scalars:
        p.set(v)
    out = hl.Buffer(np.zeros(shape_np, dtype=dtype))
    p = hl.Pipeline(f)
    t = hl.get_jit_target_from_environment()
    p.compile_jit(t)
    p.realize(out, t)
    times = []
    for _ in range(runs):
        s = time.perf_counter()
        p.realize(out, t)
        times.append((time.perf_counter() - s) * 1e3)
    return {"native_ms": statistics.median(times), "native_runs": runs, "native_target": str(t)}


def main():
    sizes = json.loads(sys.argv[1]) if len(sys.argv) > 1 else {}
    runs = sizes.pop("runs", 9)
    rows = {}
    for name, shape in sizes.items():
        try:
            rows[name] = time_one(name, shape, runs)
        except Exception as e:  # noqa: BLE001 - reported in the row
            rows[name] = {"native_ms": None, "native_error": f"{type(e).__name__}: {e}"}
    import importlib.metadata
    print(json.dumps({"halide": importlib.metadata.version("halide"), "threads": os.environ.get("HL_NUM_THREADS"),
                      "rows": rows}))


if __name__ == "__main__":
    main()
