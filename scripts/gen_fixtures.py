#!/usr/bin/env python3
"""Builds the fixture corpus: real Halide pipelines compiled for wasm, and the
outputs native Halide computes for the same inputs.

For every pipeline this script
  1. defines it with the `halide` package from PyPI (version 21),
  2. compiles it ahead of time for `wasm-32-wasmrt` (some also with
     `wasm_simd128`) to an object file, and links it into `fixtures/NAME.wasm`
     with `rust-lld -flavor wasm` (it ships with every Rust toolchain) or
     Debian's `wasm-ld`,
  3. runs the same pipeline natively through Halide's JIT on deterministic
     inputs and stores inputs and outputs as raw little-endian `.bin` files,
  4. describes everything in `fixtures/manifest.json`.

Buffers are stored exactly as the executor receives them: a flat array of
`span` elements (span = 1 + sum((extent - 1) * stride)) with the element at
the mins first, in any strides (dense, interleaved, padded). Native Halide
reads and writes the same flat arrays through strided numpy views, so the
expected output keeps the layout (and the zero gaps) the executor's caller
sees. Tolerances: 0 means bit exact. A float output's tolerance is relative
above 1 and absolute below; an integer output computed from float math may
be given 1, for values that native code rounds differently (it may contract
a multiply and an add into one FMA; wasm does not).

Quirks of the pip package (21.0.0) this script works around: `hl.Buffer`
takes no uint64 numpy array; `Param.set` takes no float16/bfloat16 value (the
native reference then reads their bit patterns through `reinterpret`);
`hl.require` takes only `Expr` message arguments; numpy arrays are wrapped
with their axes reversed, so views are built with the shape reversed and x
comes out as dimension 0.

Some pipelines with `parallel` schedules are also built with Halide's
`wasm_threads` feature (modules NAME_threads, `"threads": true` in the
manifest, next to NAME built without it): linked with `--shared-memory
--import-memory` (see THREAD_LINK), such a module imports a shared
`env.memory` (its limits are in the manifest as `imported_memory`) and the
pthread functions its thread pool calls, and exports what a host needs to
run it on several threads (THREAD_EXPORTS).

After writing, every module is compiled by Node (when `node` is on PATH) and
its imports and exports are checked against the manifest. The whole run is
deterministic (fixed seeds; temporary object files are removed).

Needs: `pip install -r scripts/requirements.txt`, and rust-lld or wasm-ld.
Run from the repository root: `python3 scripts/gen_fixtures.py`.
"""

import atexit
import glob
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tempfile

import bench_pipelines
import demo_pipelines
import halide as hl
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "fixtures")
x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")

NP = {
    "uint8": np.uint8, "uint16": np.uint16, "uint32": np.uint32, "uint64": np.uint64,
    "int8": np.int8, "int16": np.int16, "int32": np.int32, "int64": np.int64,
    "float16": np.float16, "bfloat16": np.uint16, "float32": np.float32,
    "float64": np.float64, "bool": np.uint8,
}
HL = {
    "uint8": hl.UInt(8), "uint16": hl.UInt(16), "uint32": hl.UInt(32), "uint64": hl.UInt(64),
    "int8": hl.Int(8), "int16": hl.Int(16), "int32": hl.Int(32), "int64": hl.Int(64),
    "float16": hl.Float(16), "bfloat16": hl.BFloat(16), "float32": hl.Float(32),
    "float64": hl.Float(64), "bool": hl.Bool(),
}


def linker():
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True).stdout.strip()
    found = glob.glob(os.path.join(sysroot, "lib/rustlib/*/bin/rust-lld"))
    found += glob.glob(os.path.expanduser("~/.rustup/toolchains/*/lib/rustlib/*/bin/rust-lld"))
    if found:
        return [found[0], "-flavor", "wasm"]
    if shutil.which("wasm-ld"):
        return ["wasm-ld"]
    sys.exit("no wasm linker: install a Rust toolchain (rust-lld) or Debian's lld (wasm-ld)")


LINK = linker()
TMP = tempfile.mkdtemp(prefix="hwe-fixtures-")
atexit.register(shutil.rmtree, TMP, ignore_errors=True)
modules = {}
cases = []


def wasm_interface(path):
    """What a wasm module imports and exports, read from its import and export
    sections: {"imports": the `env` function imports in order, "memory": the
    imported memory's limits (or None), "exports": export names}."""
    data = open(path, "rb").read()
    pos = 8

    def leb():
        nonlocal pos
        result = shift = 0
        while True:
            b = data[pos]
            pos += 1
            result |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                return result

    def name():
        nonlocal pos
        n = leb()
        s = data[pos:pos + n].decode()
        pos += n
        return s

    names, memory, exports = [], None, []
    while pos < len(data):
        sid = data[pos]
        pos += 1
        size = leb()
        end = pos + size
        if sid == 2:
            for _ in range(leb()):
                mod, field, kind = name(), name(), data[pos]
                pos += 1
                if mod != "env":
                    raise SystemExit(f"{path}: import from {mod!r}, not env")
                if kind == 0:
                    leb()
                    names.append(field)
                elif kind == 2 and memory is None:
                    # A memory (wasm_threads modules linked --import-memory):
                    # limits flags (1: has a maximum, 2: shared), initial and
                    # maximum sizes in 64 KiB pages.
                    flags = leb()
                    if flags & ~3:
                        raise SystemExit(f"{path}: memory import with flags {flags}")
                    initial = leb()
                    memory = {"module": mod, "name": field, "initial_pages": initial,
                              "maximum_pages": leb() if flags & 1 else None, "shared": bool(flags & 2)}
                else:
                    raise SystemExit(f"{path}: unexpected import kind {kind}")
        elif sid == 7:
            for _ in range(leb()):
                exports.append(name())
                pos += 1
                leb()
        pos = end
    return {"imports": names, "memory": memory, "exports": exports}


# What a module built with Halide's wasm_threads feature is linked with, and
# exports beside the usual: its memory is imported and shared (each worker
# thread instantiates the module on it), the host calls __wasm_call_ctors once
# per memory, gives each thread its own stack (__stack_pointer) and TLS block
# (__wasm_init_tls, __tls_*), and runs thread bodies from the function table.
# With --allow-undefined lld silently drops an --export of a symbol that is
# not defined (without it, it is an error), so build() checks that each of
# THREAD_EXPORTS is there; lld defines them all for a --shared-memory link.
THREAD_EXPORTS = ["__wasm_call_ctors", "__indirect_function_table", "__stack_pointer", "__wasm_init_tls",
                  "__tls_base", "__tls_size", "__tls_align"]
THREAD_LINK = ["--shared-memory", "--import-memory", "--max-memory=1073741824"] + [f"--export={e}" for e in THREAD_EXPORTS]


def build(name, outputs, args, purpose="test", simd=False, entry=None, threads=False):
    """Compiles `outputs` (a Func or a list of Funcs) for wasm and links NAME.wasm.
    threads: with Halide's wasm_threads feature (parallel loops on worker
    threads), linked with THREAD_LINK; else parallel loops run serially."""
    entry = entry or name
    features = "wasm-32-wasmrt" + ("-wasm_threads" if threads else "") + ("-wasm_simd128" if simd else "")
    obj = os.path.join(TMP, name + ".o")
    p = hl.Pipeline(outputs if isinstance(outputs, list) else [outputs])
    p.compile_to({hl.OutputFileType.object: obj}, args, entry, hl.Target(features))
    wasm = os.path.join(OUT, name + ".wasm")
    exports = [f"--export={e}" for e in ("__heap_base", "__data_end", entry, entry + "_argv", entry + "_metadata")]
    subprocess.run(LINK + ["--allow-undefined", "--no-entry", "-zstack-size=1048576", "--strip-debug", *exports,
                           *(THREAD_LINK if threads else []), obj, "-o", wasm], check=True)
    iface = wasm_interface(wasm)
    modules[name] = {"wasm": name + ".wasm", "entry": entry, "simd": simd, "imports": iface["imports"], "purpose": purpose}
    if threads:
        mem = iface["memory"]
        missing = [e for e in THREAD_EXPORTS if e not in iface["exports"]] + [i for i in ["pthread_create"] if i not in iface["imports"]]
        if not mem or (mem["module"], mem["name"]) != ("env", "memory") or not mem["shared"] or missing:
            raise SystemExit(f"{wasm}: not a wasm_threads module (memory import {mem}, missing {missing})")
        modules[name].update({"threads": True, "imported_memory": mem})
    elif iface["memory"]:
        raise SystemExit(f"{wasm}: imports a memory")
    return p


def dense(shape):
    s, out = 1, []
    for e in shape:
        out.append(s)
        s *= e
    return out


def span(shape, strides):
    if 0 in shape:
        return 0
    return 1 + sum((e - 1) * s for e, s in zip(shape, strides))


class Buf:
    """A buffer argument: its type and layout, and (for inputs) its data."""

    def __init__(self, type, shape, strides=None, mins=None, data=None):
        self.type, self.shape = type, list(shape)
        self.strides = list(strides) if strides else dense(shape)
        self.mins = list(mins) if mins else [0] * len(shape)
        n = span(self.shape, self.strides)
        self.flat = np.zeros(n, dtype=NP[type]) if data is None else np.ascontiguousarray(data, dtype=NP[type]).reshape(-1)[:n].copy()
        assert self.flat.size == n, (self.flat.size, n)

    def halide(self):
        isz = self.flat.itemsize
        view = np.lib.stride_tricks.as_strided(
            self.flat, shape=tuple(reversed(self.shape)), strides=tuple(s * isz for s in reversed(self.strides)), writeable=True)
        if self.type == "uint64":
            # hl.Buffer takes no uint64 numpy array: realize into a Halide
            # buffer and copy back element by element (small, 1-D).
            assert len(self.shape) == 1 and self.strides == [1]
            b = hl.Buffer(hl.UInt(64), self.shape)
            self.pending = b
            return b
        b = hl.Buffer(view)
        if self.shape:
            b.set_min(self.mins)
        return b

    def describe(self, kind, file):
        d = {"kind": kind, "type": self.type, "shape": self.shape, "strides": self.strides, "mins": self.mins}
        if file:
            d["file"] = file
        return d


def rand(type, n, rng, lo=None, hi=None):
    if type.startswith("float"):
        return rng.uniform(-1 if lo is None else lo, 1 if hi is None else hi, n)
    info = np.iinfo(NP[type])
    return rng.integers(info.min if lo is None else lo, (info.max if hi is None else hi), n, endpoint=True, dtype=NP[type])


def case(case_name, module, pipeline, inputs, scalars, outputs, tolerance=0, expect_error=None, realize=True, native=None):
    """Adds a case. inputs: [(ImageParam, Buf)], scalars: [(Param, type, value or None)], outputs: [(name, Buf)]."""
    args = {}
    for ip, b in inputs:
        f = f"{case_name}.{ip.name()}.bin"
        b.flat.tofile(os.path.join(OUT, f))
        args[ip.name()] = b.describe("input", f)
    for p, type, value in scalars:
        d = {"kind": "scalar", "type": type}
        if value is not None:
            d["value"] = str(int(value)) if type in ("int64", "uint64") else value
            if type not in ("float16", "bfloat16"):  # Param.set rejects these: such cases bring `native`
                p.set(value)
        elif type not in ("float16", "bfloat16"):
            p.set(DEFAULTS[p.name()])  # the run uses the pipeline's default
        args[p.name()] = d
    if realize and expect_error is None:
        if native:
            native()
        else:
            for ip, b in inputs:
                ip.set(b.halide())
            pipeline.realize([b.halide() for _, b in outputs], hl.get_jit_target_from_environment())
            for _, b in outputs:
                if getattr(b, "pending", None) is not None:
                    b.flat[:] = [b.pending[i] for i in range(b.shape[0])]
    for name, b in outputs:
        f = None
        if expect_error is None:
            f = f"{case_name}.{name}.bin"
            b.flat.tofile(os.path.join(OUT, f))
        args[name] = b.describe("output", f)
    cases.append({"name": case_name, "module": module, "args": args, "tolerance": tolerance, "expect_error": expect_error})


DEFAULTS = {}


def param(type, name, default=None, lo=None, hi=None):
    p = hl.Param(HL[type], name)
    if default is not None:
        p.parameter().set_default_value(hl.cast(HL[type], default))
        DEFAULTS[name] = default
    if lo is not None:
        p.set_range(hl.cast(HL[type], lo), hl.cast(HL[type], hi))
    return p


def main():
    if os.path.isdir(OUT):
        for f in os.listdir(OUT):
            if f.endswith((".wasm", ".bin", ".json")):
                os.remove(os.path.join(OUT, f))
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(20261125)
    # Cases added later draw from their own generator, so that adding one
    # leaves every other case's data unchanged.
    rng2 = np.random.default_rng(20261126)
    W, H = 37, 23

    # 1. brighten: u8 planar, a float scalar with default and range; plain and SIMD.
    for simd in (False, True):
        name = "brighten_u8_simd" if simd else "brighten_u8"
        inp = hl.ImageParam(hl.UInt(8), 3, "input")
        gain = param("float32", "gain", 1.0, 0.0, 4.0)
        f = hl.Func(name)
        f[x, y, c] = hl.u8_sat(hl.f32(inp[x, y, c]) * gain)
        f.vectorize(x, 16, hl.TailStrategy.GuardWithIf) if simd else None
        p = build(name, f, [inp, gain], simd=simd)
        src = Buf("uint8", [W, H, 3], data=rand("uint8", W * H * 3, rng))
        case(name, name, p, [(inp, src)], [(gain, "float32", 1.5)], [(name, Buf("uint8", [W, H, 3]))])
        case(name + "_default_gain", name, p, [(inp, src)], [(gain, "float32", None)], [(name, Buf("uint8", [W, H, 3]))])

    # 2. RGBA interleaved invert, as an ImageData is laid out.
    inp = hl.ImageParam(hl.UInt(8), 3, "input")
    f = hl.Func("invert_rgba")
    f[x, y, c] = hl.select(c < 3, 255 - inp[x, y, c], inp[x, y, c])
    for b in (inp, f.output_buffer()):
        b.dim(0).set_stride(4)
        b.dim(2).set_stride(1).set_bounds(0, 4)
    f.reorder(c, x, y).bound(c, 0, 4).unroll(c)
    p = build("invert_rgba", f, [inp])
    inter = dict(strides=[4, 4 * W, 1])
    case("invert_rgba", "invert_rgba", p, [(inp, Buf("uint8", [W, H, 4], data=rand("uint8", W * H * 4, rng), **inter))], [],
         [("invert_rgba", Buf("uint8", [W, H, 4], **inter))])

    # 3. 3x3 blur of u16 with repeat_edge, tiled and vectorized; plain and SIMD.
    for simd in (False, True):
        name = "blur3x3_u16_simd" if simd else "blur3x3_u16"
        inp = hl.ImageParam(hl.UInt(16), 2, "input")
        e = hl.BoundaryConditions.repeat_edge(inp)
        bx, by = hl.Func(name + "_x"), hl.Func(name)
        bx[x, y] = (hl.u32(e[x - 1, y]) + e[x, y] + e[x + 1, y])
        by[x, y] = hl.u16((bx[x, y - 1] + bx[x, y] + bx[x, y + 1]) / 9)
        xo, yo, xi, yi = hl.Var("xo"), hl.Var("yo"), hl.Var("xi"), hl.Var("yi")
        by.tile(x, y, xo, yo, xi, yi, 16, 8).vectorize(xi, 8)
        bx.compute_at(by, xo).vectorize(x, 8)
        p = build(name, by, [inp], simd=simd)
        case(name, name, p, [(inp, Buf("uint16", [W, H], data=rand("uint16", W * H, rng)))], [], [(name, Buf("uint16", [W, H]))])

    # 4. float math: f32 and f64, libm-heavy.
    inp = hl.ImageParam(hl.Float(32), 2, "input")
    f = hl.Func("math_f32")
    v = inp[x, y]
    f[x, y] = hl.sin(v * 3) + hl.cos(v) * hl.atan2(v, 0.5 + v * v) + hl.exp(v) - hl.sqrt(hl.abs(v)) + hl.pow(hl.abs(v) + 0.5, hl.f32(1.7)) + hl.tanh(v) + hl.log(v * v + 1) + hl.floor(v * 4) + hl.round(v * 2.5)
    p = build("math_f32", f, [inp])
    case("math_f32", "math_f32", p, [(inp, Buf("float32", [W, H], data=rand("float32", W * H, rng, -2, 2)))], [],
         [("math_f32", Buf("float32", [W, H]))], tolerance=2e-5)
    inp = hl.ImageParam(hl.Float(64), 1, "input")
    f = hl.Func("math_f64")
    v = inp[x]
    f[x] = hl.sin(v) * hl.cos(v * 2) + hl.log(v * v + 1) + hl.exp(v / 3) + hl.pow(hl.abs(v) + 1, hl.f64(0.3)) + hl.atan(v) + hl.asin(v / 4) + hl.acos(v / 5) + hl.sinh(v / 3) + hl.cosh(v / 7) + hl.tan(v / 9)
    p = build("math_f64", f, [inp])
    case("math_f64", "math_f64", p, [(inp, Buf("float64", [257], data=rand("float64", 257, rng, -3, 3)))], [],
         [("math_f64", Buf("float64", [257]))], tolerance=1e-12)

    # 5. a scalar of every type, folded into exact 64-bit outputs.
    types = ["int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64", "float32", "float64", "bool"]
    ps = {t: param(t, "s_" + t) for t in types}
    inp = hl.ImageParam(hl.Int(64), 1, "input")
    out_i, out_u = hl.Func("ints"), hl.Func("uints")
    out_i[x] = inp[x] + hl.i64(ps["int8"]) + hl.i64(ps["int16"]) * 3 + hl.i64(ps["int32"]) * 5 + ps["int64"] + hl.i64(hl.select(ps["bool"], 1000, -1000)) + hl.i64(ps["float32"] * 8) + hl.i64(ps["float64"] * 16)
    out_u[x] = hl.u64(x) + hl.u64(ps["uint8"]) + hl.u64(ps["uint16"]) * 7 + hl.u64(ps["uint32"]) * 11 + ps["uint64"]
    p = build("every_scalar", [out_i, out_u], [inp] + [ps[t] for t in types])
    vals = {"int8": -100, "int16": -30000, "int32": -2000000000, "int64": -(2 ** 62) - 12345, "uint8": 250, "uint16": 65000,
            "uint32": 4000000000, "uint64": 2 ** 63 + 987654321, "float32": 2.5, "float64": -1.25, "bool": True}
    case("every_scalar", "every_scalar", p, [(inp, Buf("int64", [9], data=np.arange(9, dtype=np.int64) * (2 ** 40)))],
         [(ps[t], t, vals[t]) for t in types], [("ints", Buf("int64", [9])), ("uints", Buf("uint64", [9]))])

    # 5b. float16 and bfloat16 scalars (with defaults and a range). Python's
    # Param.set takes neither type, so native Halide computes the same
    # expression from their bit patterns. The float64 output is exact: the
    # f32 * f16 product fits a double.
    inp = hl.ImageParam(hl.Float(32), 1, "input")
    h = param("float16", "h", 1.5, -2.0, 8.0)
    bh = param("bfloat16", "b", 0.5)
    f = hl.Func("scaled")
    f[x] = hl.f64(inp[x]) * hl.f64(h) + hl.f64(bh)
    p = build("scalar_half", f, [inp, h, bh])
    hb, bb = hl.Param(hl.UInt(16), "h_bits"), hl.Param(hl.UInt(16), "b_bits")
    nf = hl.Func("scaled_native")
    nf[x] = hl.f64(inp[x]) * hl.f64(hl.reinterpret(hl.Float(16), hb)) + hl.f64(hl.reinterpret(hl.BFloat(16), bb))
    src = Buf("float32", [16], data=rand("float32", 16, rng2, -10, 10))
    for name, hv, bv in (("scalar_half", -0.3330078125, 96.5), ("scalar_half_defaults", None, None)):
        out = Buf("float64", [16])

        def native_half(hv=hv, bv=bv, out=out):
            hb.set(int(np.float16(1.5 if hv is None else hv).view(np.uint16)))
            bb.set(int(np.float32(0.5 if bv is None else bv).view(np.uint32)) >> 16)
            inp.set(src.halide())
            nf.realize(out.halide())

        if hv is not None:
            assert float(np.float16(hv)) == hv and float(np.float32(bv)) == bv and (int(np.float32(bv).view(np.uint32)) & 0xFFFF) == 0
        case(name, "scalar_half", p, [(inp, src)], [(h, "float16", hv), (bh, "bfloat16", bv)], [("scaled", out)], native=native_half)

    # 6. float16 buffers (bfloat16 computed by native Halide through its bits).
    inp = hl.ImageParam(hl.Float(16), 1, "input")
    f = hl.Func("half")
    f[x] = hl.cast(hl.Float(16), hl.f32(inp[x]) * 2 + 1)
    p = build("half_f16", f, [inp])
    case("half_f16", "half_f16", p, [(inp, Buf("float16", [64], data=rand("float32", 64, rng, -100, 100)))], [], [("half", Buf("float16", [64]))])
    inp = hl.ImageParam(hl.BFloat(16), 1, "input")
    f = hl.Func("bhalf")
    f[x] = hl.cast(hl.BFloat(16), hl.f32(inp[x]) * 2 + 1)
    p = build("half_bf16", f, [inp])
    bits_in = hl.ImageParam(hl.UInt(16), 1, "bits")
    nf = hl.Func("bhalf_native")
    nf[x] = hl.reinterpret(hl.UInt(16), hl.cast(hl.BFloat(16), hl.f32(hl.reinterpret(hl.BFloat(16), bits_in[x])) * 2 + 1))
    src = Buf("bfloat16", [64], data=(rand("float32", 64, rng, -100, 100).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16))
    out = Buf("bfloat16", [64])

    def native_bf16():
        bits_in.set(hl.Buffer(src.flat))
        nf.realize(hl.Buffer(out.flat))

    case("half_bf16", "half_bf16", p, [(inp, src)], [], [("bhalf", out)], native=native_bf16)

    # 7. non-zero mins, with a padded row stride on the input.
    inp = hl.ImageParam(hl.Int(16), 2, "input")
    f = hl.Func("shifted")
    f[x, y] = inp[x + 1, y - 1] * 2 - inp[x, y]
    p = build("mins", f, [inp])
    case("mins", "mins", p, [(inp, Buf("int16", [30, 20], strides=[1, 33], mins=[2, 3], data=rand("int16", 33 * 20, rng, -1000, 1000)))], [],
         [("shifted", Buf("int16", [25, 15], mins=[3, 5]))])
    # Negative mins, an input of exactly the size the output needs, and a
    # padded output row stride (its gaps stay zero).
    case("mins_negative", "mins", p, [(inp, Buf("int16", [21, 13], mins=[-7, -3], data=rand("int16", 21 * 13, rng2, -1000, 1000)))], [],
         [("shifted", Buf("int16", [20, 12], strides=[1, 24], mins=[-7, -2]))])

    # 8. reductions: a 0-dimensional sum and a histogram.
    inp = hl.ImageParam(hl.UInt(8), 2, "input")
    r = hl.RDom([(0, W), (0, H)])
    total, hist = hl.Func("total"), hl.Func("histogram")
    total[()] = hl.u32(0)
    total[()] += hl.u32(inp[r.x, r.y])
    hist[x] = 0
    hist[hl.i32(inp[r.x, r.y]) // 16] += 1
    p = build("reductions", [total, hist], [inp])
    case("reductions", "reductions", p, [(inp, Buf("uint8", [W, H], data=rand("uint8", W * H, rng)))], [],
         [("total", Buf("uint32", [])), ("histogram", Buf("int32", [16]))])

    # 9. several outputs of different types and a parallel schedule (serial in wasm).
    inp = hl.ImageParam(hl.Float(32), 2, "input")
    mag, sign = hl.Func("magnitude"), hl.Func("sign")
    mag[x, y] = hl.abs(inp[x, y]) * 10
    sign[x, y] = hl.select(inp[x, y] < 0, hl.i8(-1), hl.i8(1))
    mag.parallel(y).vectorize(x, 4)
    sign.parallel(y)
    p = build("two_outputs", [mag, sign], [inp])
    case("two_outputs", "two_outputs", p, [(inp, Buf("float32", [W, H], data=rand("float32", W * H, rng)))], [],
         [("magnitude", Buf("float32", [W, H])), ("sign", Buf("int8", [W, H]))])

    # 10. boundary conditions on an 8-bit gray image, and an unsharp mask.
    inp = hl.ImageParam(hl.UInt(8), 2, "input")
    k = hl.BoundaryConditions.constant_exterior(inp, 7)
    m = hl.BoundaryConditions.mirror_interior(inp)
    f = hl.Func("borders")
    f[x, y] = hl.u8((hl.u16(k[x - 3, y + 2]) + m[x + 4, y - 5]) // 2)
    p = build("borders", f, [inp])
    case("borders", "borders", p, [(inp, Buf("uint8", [W, H], data=rand("uint8", W * H, rng)))], [], [("borders", Buf("uint8", [W, H]))])
    amount = param("float32", "amount", 1.0, 0.0, 5.0)
    blur, sharp = hl.Func("blur"), hl.Func("sharpen")
    e = hl.BoundaryConditions.repeat_edge(inp)
    blur[x, y] = (hl.f32(e[x - 1, y]) + e[x + 1, y] + e[x, y - 1] + e[x, y + 1] + e[x, y]) / 5
    sharp[x, y] = hl.u8_sat(e[x, y] + amount * (e[x, y] - blur[x, y]))
    p = build("sharpen_gray", sharp, [inp, amount])
    case("sharpen_gray", "sharpen_gray", p, [(inp, Buf("uint8", [W, H], data=rand("uint8", W * H, rng)))], [(amount, "float32", 2.0)],
         [("sharpen", Buf("uint8", [W, H]))], tolerance=1)

    # 11. a pipeline that needs the memory to grow past 64 MiB (an 80 MiB intermediate).
    inp = hl.ImageParam(hl.Float(32), 1, "input")
    big, row_sum = hl.Func("big"), hl.Func("big_sum")
    big[x, y] = inp[x] * hl.f32(y % 7)
    rr = hl.RDom([(0, 5120)])
    row_sum[x] = hl.f32(0)
    row_sum[x] += big[x, rr]
    big.compute_root()
    p = build("big_memory", row_sum, [inp])
    case("big_memory", "big_memory", p, [(inp, Buf("float32", [4096], data=rng.integers(0, 8, 4096).astype(np.float32)))], [],
         [("big_sum", Buf("float32", [4096]))])

    # 12. error paths: a failing require, and an input too small.
    inp = hl.ImageParam(hl.Int(32), 1, "input")
    limit = param("int32", "limit", 10)
    f = hl.Func("checked")
    f[x] = hl.require(limit < 100, inp[x] + limit, limit)
    p = build("require", f, [inp, limit])
    data = np.arange(8, dtype=np.int32)
    case("require_ok", "require", p, [(inp, Buf("int32", [8], data=data))], [(limit, "int32", 5)], [("checked", Buf("int32", [8]))])
    case("require_fails", "require", p, [(inp, Buf("int32", [8], data=data))], [(limit, "int32", 500)], [("checked", Buf("int32", [8]))],
         expect_error={"message_contains": "Requirement Failed"})
    inp = hl.ImageParam(hl.Int(32), 1, "input")
    f = hl.Func("shifted_read")
    f[x] = inp[x + 5]
    p = build("too_small", f, [inp])
    case("too_small", "too_small", p, [(inp, Buf("int32", [8], data=data))], [], [("shifted_read", Buf("int32", [8]))],
         expect_error={"message_contains": "Input buffer input is accessed at 12, which is beyond the max (7) in dimension 0"})

    # 13. an extern stage between two Halide stages. Its JavaScript body (in
    # the tests) asks for one more element than it writes, so the bounds
    # query round trip is exercised: ext[x] = pre[x] + pre[x + 1].
    inp = hl.ImageParam(hl.Int(32), 1, "input")
    pre, ext, post = hl.Func("pre"), hl.Func("ext"), hl.Func("post")
    pre[x] = hl.BoundaryConditions.repeat_edge(inp)[x] * 2
    ext.define_extern("ext_sum_next", [pre], hl.Int(32), 1)
    post[x] = ext[x] * 3
    pre.compute_root()
    ext.compute_root()
    p = build("extern_stage", post, [inp])
    src = Buf("int32", [40], data=rand("int32", 40, rng, -1000, 1000))
    out = Buf("int32", [40])

    def native_extern():
        # Native Halide cannot call a JavaScript extern: compute the same
        # stages with numpy (exact integer arithmetic).
        pre_v = src.flat.astype(np.int64) * 2
        nxt = np.append(pre_v[1:], pre_v[-1])
        out.flat[:] = ((pre_v + nxt) * 3).astype(np.int32)

    case("extern_stage", "extern_stage", p, [(inp, src)], [], [("post", out)], native=native_extern)
    cases[-1]["externs"] = ["ext_sum_next"]

    # 14. tracing: stores and realizations of two stages, through the
    # runtime's trace file (the tests check the events against the output).
    inp = hl.ImageParam(hl.Float(32), 1, "input")
    doubled, traced = hl.Func("doubled"), hl.Func("traced")
    doubled[x] = inp[x] * 2
    traced[x] = doubled[x] + 1
    doubled.compute_root().trace_stores()
    traced.trace_stores().trace_realizations()
    p = build("traced", traced, [inp])
    case("traced", "traced", p, [(inp, Buf("float32", [6], data=np.arange(6, dtype=np.float32)))], [], [("traced", Buf("float32", [6]))])

    demo_and_bench(rng)
    # Cases added after these draw from their own generator too.
    threaded(np.random.default_rng(20261127))
    demos(np.random.default_rng(20261128))

    manifest = {"halide_version": importlib.metadata.version("halide"), "modules": modules, "cases": cases}
    with open(os.path.join(OUT, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)
        fh.write("\n")
    check_in_node()
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    print(f"\n{len(modules)} modules ({', '.join(modules)})")
    print(f"{len(cases)} cases ({', '.join(c['name'] for c in cases)})")
    print(f"{len(os.listdir(OUT))} files, {total / 1024:.0f} KiB in {os.path.relpath(OUT)}")


NODE_CHECK = r"""
const fs = require('fs'), path = require('path');
const dir = process.argv[1];
const THREAD_EXPORTS = JSON.parse(process.argv[2]);
const m = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8'));
for (const [name, mod] of Object.entries(m.modules)) {
  const w = new WebAssembly.Module(fs.readFileSync(path.join(dir, mod.wasm)));
  const imports = WebAssembly.Module.imports(w);
  const env = imports.filter((i) => i.module === 'env' && i.kind === 'function').map((i) => i.name);
  const memories = imports.filter((i) => i.kind === 'memory');
  if (mod.threads) {
    // wasm_threads: env.memory, shared. Compiling reflects no limits, so
    // instantiate once on a shared memory of the manifest's limits (the only
    // code that runs is lld's start function, which initialises the data
    // segments; every other import is a stub that throws).
    const mem = mod.imported_memory;
    if (memories.length !== 1 || memories[0].module !== 'env' || memories[0].name !== 'memory' || !mem.shared)
      throw new Error(`${name}: a threads module must import one shared env.memory: ${JSON.stringify(memories)}`);
    const stubs = Object.fromEntries(env.map((n) => [n, () => { throw new Error(`${name}: ${n} called`); }]));
    const memory = new WebAssembly.Memory({ initial: mem.initial_pages, maximum: mem.maximum_pages, shared: true });
    new WebAssembly.Instance(w, { env: { ...stubs, memory } });
  } else if (memories.length) throw new Error(`${name}: imports a memory`);
  if (imports.length !== env.length + memories.length) throw new Error(`${name}: imports other than env functions and memory: ${JSON.stringify(imports)}`);
  if (JSON.stringify(env) !== JSON.stringify(mod.imports)) throw new Error(`${name}: imports ${env} != manifest ${mod.imports}`);
  const exports = WebAssembly.Module.exports(w).map((e) => e.name);
  const expected = ['__heap_base', mod.entry, mod.entry + '_argv', mod.entry + '_metadata', ...(mod.threads ? THREAD_EXPORTS : ['memory'])];
  for (const e of expected)
    if (!exports.includes(e)) throw new Error(`${name}: no export ${e}`);
}
const threaded = Object.values(m.modules).filter((mod) => mod.threads).length;
console.log(`node: all ${Object.keys(m.modules).length} modules compile (${threaded} wasm_threads modules instantiate on a shared memory); imports and exports as in the manifest`);
"""


def check_in_node():
    """Every module compiles in Node (V8), with the imports the manifest lists."""
    node = shutil.which("node")
    if not node:
        print("node not found: skipped loading the modules in V8")
        return
    subprocess.run([node, "-e", NODE_CHECK, OUT, json.dumps(THREAD_EXPORTS)], check=True)


def rgba_pipeline(name, body, scalars, purpose="demo"):
    """A pipeline over an interleaved RGBA image, as the demo page feeds it."""
    inp = hl.ImageParam(hl.UInt(8), 3, "input")
    f = hl.Func(name)
    body(f, inp)
    for b in (inp, f.output_buffer()):
        b.dim(0).set_stride(4)
        b.dim(2).set_stride(1).set_bounds(0, 4)
    f.reorder(c, x, y).bound(c, 0, 4).unroll(c)
    return inp, f, build(name, f, [inp] + scalars, purpose=purpose)


def demo_and_bench(rng):
    W, H = 24, 16
    inter = dict(strides=[4, 4 * W, 1])
    img = rand("uint8", W * H * 4, rng)

    def demo(name, body, scalars, values):
        # Small filters the CLI's tests and `npm start` use; the demo page
        # shows demo_pipelines.py's (purpose "demo") instead.
        inp, f, p = rgba_pipeline(name, body, [s for s, _ in scalars], purpose="example")
        case(name, name, p, [(inp, Buf("uint8", [W, H, 4], data=img, **inter))], [(s, t or "float32", v) for (s, t), v in zip(scalars, values)],
             [(name, Buf("uint8", [W, H, 4], **inter))], tolerance=1)

    def alpha(f, inp, rgb):
        f[x, y, c] = hl.select(c == 3, inp[x, y, 3], hl.u8_sat(rgb))

    radius = param("float32", "sigma", 2.0, 0.5, 8.0)

    def blur(f, inp):
        e = hl.BoundaryConditions.repeat_edge(inp)
        r = hl.RDom([(-8, 17)])
        w = hl.Func("w")
        w[x] = hl.exp(-hl.f32(x * x) / (2 * radius * radius))
        bx, by, norm = hl.Func("bx"), hl.Func("by"), hl.Func("norm")
        norm[()] = hl.sum(w[r.x])
        bx[x, y, c] = hl.sum(w[r.x] * e[x + r.x, y, c])
        by[x, y, c] = hl.sum(w[r.x] * bx[x, y + r.x, c]) / (norm[()] * norm[()])
        bx.compute_root()
        alpha(f, inp, by[x, y, c] + 0.5)

    demo("demo_blur", blur, [(radius, None)], [3.0])
    amount = param("float32", "amount", 1.5, 0.0, 6.0)

    def sharpen(f, inp):
        e = hl.BoundaryConditions.repeat_edge(inp)
        b = hl.Func("soft")
        b[x, y, c] = (hl.f32(e[x - 1, y, c]) + e[x + 1, y, c] + e[x, y - 1, c] + e[x, y + 1, c] + 4.0 * e[x, y, c]) / 8
        alpha(f, inp, e[x, y, c] + amount * (e[x, y, c] - b[x, y, c]) + 0.5)

    demo("demo_sharpen", sharpen, [(amount, None)], [2.0])
    brightness = param("float32", "brightness", 0.0, -1.0, 1.0)
    contrast = param("float32", "contrast", 1.0, 0.0, 3.0)

    def bc(f, inp):
        v = hl.f32(inp[x, y, c]) / 255
        alpha(f, inp, ((v - 0.5) * contrast + 0.5 + brightness) * 255 + 0.5)

    demo("demo_brighten_contrast", bc, [(brightness, None), (contrast, None)], [0.1, 1.4])
    strength = param("float32", "strength", 1.0, 0.0, 4.0)

    def local_contrast(f, inp):
        e = hl.BoundaryConditions.repeat_edge(inp)
        luma = hl.Func("luma")
        luma[x, y] = (hl.f32(0.299) * e[x, y, 0] + hl.f32(0.587) * e[x, y, 1] + hl.f32(0.114) * e[x, y, 2]) / 255
        r = hl.RDom([(-6, 13)])
        lx, ly = hl.Func("lx"), hl.Func("ly")
        lx[x, y] = hl.sum(luma[x + r.x, y]) / 13
        ly[x, y] = hl.sum(lx[x, y + r.x]) / 13
        luma.compute_root()
        lx.compute_root()
        detail = luma[x, y] - ly[x, y]
        gain = 1 + strength * detail / (hl.abs(detail) + hl.f32(0.05))
        alpha(f, inp, hl.f32(e[x, y, c]) * gain + 0.5)

    demo("demo_local_contrast", local_contrast, [(strength, None)], [2.0])
    mix = param("float32", "mix", 1.0, 0.0, 1.0)
    invert_alpha = param("bool", "invert_alpha", False)

    def invert(f, inp):
        v = hl.f32(inp[x, y, c])
        inverted = hl.u8_sat(v + mix * (255 - 2 * v) + 0.5)
        f[x, y, c] = hl.select((c < 3) | invert_alpha, inverted, inp[x, y, c])

    demo("demo_invert", invert, [(mix, None), (invert_alpha, "bool")], [0.75, True])

    # Benchmarks' pipelines (scripts/bench_pipelines.py, which bench/native.py
    # times too), each with a small correctness case; every output has its
    # input's type and shape.
    def bench_case(make, type, shape, data, scalar_type=None, tolerance=0):
        f, inp, scalars, simd = make()
        name = f.name()
        p = build(name, f, [inp] + [s for s, _ in scalars], purpose="bench", simd=simd)
        case(name, name, p, [(inp, Buf(type, shape, data=data))], [(s, scalar_type, v) for s, v in scalars],
             [(name, Buf(type, shape))], tolerance=tolerance)

    bench_case(bench_pipelines.blur_u16, "uint16", [70, 40], rand("uint16", 70 * 40, rng))
    bench_case(bench_pipelines.brighten_rgb, "uint8", [W, H, 3], rand("uint8", W * H * 3, rng), "float32")
    bench_case(bench_pipelines.libm_f32, "float32", [300], rand("float32", 300, rng, -3, 3), tolerance=2e-5)
    for alone in (bench_pipelines.sinf_f32, bench_pipelines.cosf_f32, bench_pipelines.atan2f_f32):
        bench_case(alone, "float32", [300], rand("float32", 300, rng, -3, 3), tolerance=2e-5)
    bench_case(bench_pipelines.multistage, "float32", [W, H], rand("float32", W * H, rng), tolerance=1e-6)
    bench_case(bench_pipelines.tiny, "int32", [4, 4], np.arange(16, dtype=np.int32), "int32")
    # Added after the others so that their random data stays the same.
    bench_case(bench_pipelines.libm16_f32, "float32", [300], rand("float32", 300, rng, -3, 3), tolerance=2e-5)



def threaded(rng):
    """Pipelines with parallel schedules (scripts/bench_pipelines.py), each
    built twice with the same algorithm and schedule: NAME_threads with
    Halide's wasm_threads feature (its parallel loops on worker threads) and
    NAME without (they run serially). One native output serves the cases of
    both (NAME and NAME_threads share their .bin files)."""
    W, H = 256, 192
    shapes = {"par_blur_u16": [W, H], "bilateral_grid": [W, H], "local_laplacian": [W, H, 3]}
    for make, data_range, tolerance in (
        (bench_pipelines.par_blur_u16, None, 0),
        # Outputs in [0, 1]; the wasm modules' differ from native x86-64's
        # (which may contract into FMA) by up to 3.0e-7, in 45% of the values.
        (bench_pipelines.bilateral_grid, (0, 1), 1e-6),
        # uint16 from float math: 703 of the 147456 values are off by 1.
        (bench_pipelines.local_laplacian, None, 1),
    ):
        f, inp, scalars, simd = make()
        name = f.name()
        type = next(k for k, t in HL.items() if t == f.type())
        shape = shapes[name]
        purpose = "bench" if name in bench_pipelines.THREADED_BENCH_SHAPES else "test"
        args = [inp] + [s for s, _ in scalars]
        build(name + "_threads", f, args, purpose=purpose, simd=simd, threads=True)
        p = build(name, f, args, purpose=purpose, simd=simd)
        for m in (name, name + "_threads"):
            if name in bench_pipelines.THREADED_BENCH_SHAPES:
                modules[m]["bench_shape"] = bench_pipelines.THREADED_BENCH_SHAPES[name]
        n = int(np.prod(shape))
        src = Buf(type, shape, data=rand(type, n, rng, *(data_range or (None, None))))
        scalar_types = [next(k for k, t in HL.items() if t == s.type()) for s, _ in scalars]
        case(name, name, p, [(inp, src)], [(s, t, v) for (s, v), t in zip(scalars, scalar_types)],
             [(name, Buf(type, shape))], tolerance=tolerance)
        cases.append({**cases[-1], "name": name + "_threads", "module": name + "_threads"})


def demos(rng):
    """The demo page's pipelines (scripts/demo_pipelines.py: Halide's
    bilateral grid, local Laplacian and a fast Gaussian blur on interleaved
    RGBA uint8), each built as NAME_threads (wasm_threads) and NAME (serial),
    purpose "demo"; the page loads [NAME_threads, NAME]. One native output
    serves the cases of both."""
    W, H = 80, 64  # local_laplacian's schedule splits y by 64
    inter = dict(strides=[4, 4 * W, 1])
    for name, make in demo_pipelines.DEMOS:
        f, inp, scalars = make()
        # Halide keeps its name counters in hashed buckets: a name that
        # shares one with a name used before comes back as NAME$N.
        if f.name() != name:
            raise SystemExit(f"the output Func {name!r} is named {f.name()!r}: pick another name")
        args = [inp] + [s for s, _ in scalars]
        build(name + "_threads", f, args, purpose="demo", simd=True, threads=True)
        p = build(name, f, args, purpose="demo", simd=True)
        modules[name + "_threads"]["serial"] = name
        modules[name]["threaded"] = name + "_threads"
        src = Buf("uint8", [W, H, 4], data=rand("uint8", W * H * 4, rng), **inter)
        scalar_types = [next(k for k, t in HL.items() if t == s.type()) for s, _ in scalars]
        # uint8 from float math: native code may contract into FMA, wasm does not.
        case(name, name, p, [(inp, src)], [(s, t, v) for (s, v), t in zip(scalars, scalar_types)],
             [(name, Buf("uint8", [W, H, 4], **inter))], tolerance=1)
        cases.append({**cases[-1], "name": name + "_threads", "module": name + "_threads"})


if __name__ == "__main__":
    main()
