#!/usr/bin/env python3
"""Times the bench_* pipelines natively with the `halide` package's JIT on one
thread, and (when it works) with Halide's own wasm JIT executor (target
wasm-32-wasmrt[-wasm_simd128]), for bench/run.mjs.

The algorithms and schedules come from scripts/bench_pipelines.py, which
scripts/gen_fixtures.py compiles to fixtures/bench_*.wasm. Usage:

    HL_NUM_THREADS=1 python3 bench/native.py '{"blur": [1920, 1080], ...}'

(the sizes default to the full bench; see SIZES). Prints one JSON object:
{"halide": version, "rows": {name: {"native_ms": .., "native_runs": n,
 "wasm_jit_ms": .. | null, "wasm_jit_error": str | null, ...}}}. Times are
medians of N runs of `realize` into a preallocated output (bench_tiny: the
median per-call time over batches of calls, in microseconds, fields *_us).
"""

import json
import os
import statistics
import sys
import time

os.environ.setdefault("HL_NUM_THREADS", "1")

import halide as hl  # noqa: E402
import numpy as np  # noqa: E402

SIZES = {
    "blur": [1920, 1080],
    "brighten": [1920, 1080],
    "libm": 1 << 20,
    "multistage": [1024, 1024],
    "tiny_calls": 10000,
    "runs": 9,
    "wasm_jit": True,
}

# The same algorithms and schedules that scripts/gen_fixtures.py compiles to
# fixtures/bench_*.wasm, from their one definition.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "scripts"))
from bench_pipelines import (  # noqa: E402
    atan2f_f32, blur_u16, brighten_rgb, cosf_f32, libm16_f32, libm_f32, multistage, sinf_f32, tiny)


def median_ms(fn, runs):
    fn()  # warm up (and JIT-compile)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1e3)
    return statistics.median(times), times


def bench(make, shape_np, dtype, out_dtype, runs, calls=1, wasm_runs=None, wasm_calls=None):
    """Median time of `calls` realizes of the pipeline natively (and in
    Halide's wasm JIT), with a preallocated input and output."""
    rng = np.random.default_rng(1)
    if np.issubdtype(dtype, np.floating):
        data = rng.uniform(-3, 3, size=shape_np).astype(dtype)
    else:
        data = rng.integers(0, np.iinfo(dtype).max, size=shape_np, dtype=dtype, endpoint=True)
    row = {}
    for label, target in (("native", None), ("wasm_jit", "wasm")):
        if target == "wasm" and not SIZES["wasm_jit"]:
            row["wasm_jit_ms"] = None
            row["wasm_jit_error"] = "skipped"
            continue
        try:
            f, inp, scalars, simd = make()
            if target is None:
                t = hl.get_jit_target_from_environment()
            else:
                t = hl.Target("wasm-32-wasmrt" + ("-wasm_simd128" if simd else ""))
            inp.set(hl.Buffer(data))
            for p, v in scalars:
                p.set(v)
            out = hl.Buffer(np.zeros(shape_np, dtype=out_dtype))
            p = hl.Pipeline(f)
            p.compile_jit(t)
            n = calls if target is None else (wasm_calls or calls)
            r = runs if target is None else (wasm_runs or runs)

            def go():
                for _ in range(n):
                    p.realize(out, t)

            ms, _ = median_ms(go, r)
            row[label + "_target"] = str(t)
            if calls > 1:
                row[label + "_us"] = ms * 1e3 / n
            else:
                row[label + "_ms"] = ms
            row[label + "_runs"] = r
            row[label + "_calls"] = n
            if target is not None:
                row["wasm_jit_error"] = None
        except Exception as e:  # noqa: BLE001 - reported in the row
            row[label + ("_us" if calls > 1 else "_ms")] = None
            row[label + "_error"] = f"{type(e).__name__}: {e}"
    return row


def main():
    if len(sys.argv) > 1:
        SIZES.update(json.loads(sys.argv[1]))
    runs = SIZES["runs"]
    wasm_runs = max(1, min(runs, 3))
    bw, bh = SIZES["blur"]
    rw, rh = SIZES["brighten"]
    mw, mh = SIZES["multistage"]
    rows = {
        "bench_blur_u16": bench(blur_u16, (bh, bw), np.uint16, np.uint16, runs, wasm_runs=wasm_runs),
        "bench_brighten_rgb": bench(brighten_rgb, (3, rh, rw), np.uint8, np.uint8, runs, wasm_runs=wasm_runs),
        "bench_libm_f32": bench(libm_f32, (SIZES["libm"],), np.float32, np.float32, runs, wasm_runs=wasm_runs),
        "bench_libm16_f32": bench(libm16_f32, (SIZES["libm"],), np.float32, np.float32, runs,
                                  wasm_runs=wasm_runs),
        **{f"bench_{fn}": bench(make, (SIZES["libm"],), np.float32, np.float32, runs, wasm_runs=wasm_runs)
           for fn, make in (("sinf", sinf_f32), ("cosf", cosf_f32), ("atan2f", atan2f_f32))},
        "bench_multistage": bench(multistage, (mh, mw), np.float32, np.float32, runs, wasm_runs=wasm_runs),
        "bench_tiny": bench(tiny, (4, 4), np.int32, np.int32, runs, calls=SIZES["tiny_calls"],
                            wasm_runs=wasm_runs, wasm_calls=max(1, SIZES["tiny_calls"] // 10)),
    }
    print(json.dumps({
        "halide": getattr(hl, "__version__", None) or _version(),
        "threads": os.environ.get("HL_NUM_THREADS"),
        "sizes": SIZES,
        "rows": rows,
    }))


def _version():
    try:
        import importlib.metadata
        return importlib.metadata.version("halide")
    except Exception:  # noqa: BLE001
        return None


if __name__ == "__main__":
    main()
