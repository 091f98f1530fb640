"""The benchmark pipelines, defined once.

`scripts/gen_fixtures.py` compiles them to `fixtures/bench_*.wasm` (with a
small correctness case each), and `bench/native.py` times the very same
algorithms and schedules natively and in Halide's own wasm JIT, so that the
two sides of a bench row cannot drift apart.

Each function returns `(output Func, input ImageParam, [(scalar Param,
value the bench uses)], whether to build it with wasm_simd128)`.
"""

import halide as hl

x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")


def _param(t, name, default, lo=None, hi=None):
    p = hl.Param(t, name)
    p.parameter().set_default_value(hl.cast(t, default))
    if lo is not None:
        p.set_range(hl.cast(t, lo), hl.cast(t, hi))
    return p


def blur_u16():
    """A 3x3 box blur of a uint16 image, tiled and vectorized."""
    inp = hl.ImageParam(hl.UInt(16), 2, "input")
    e = hl.BoundaryConditions.repeat_edge(inp)
    bx, by = hl.Func("bench_bx"), hl.Func("bench_blur_u16")
    bx[x, y] = hl.u32(e[x - 1, y]) + e[x, y] + e[x + 1, y]
    by[x, y] = hl.u16((bx[x, y - 1] + bx[x, y] + bx[x, y + 1]) / 9)
    xo, yo, xi, yi = hl.Var("xo"), hl.Var("yo"), hl.Var("xi"), hl.Var("yi")
    by.tile(x, y, xo, yo, xi, yi, 64, 32).vectorize(xi, 8)
    bx.compute_at(by, xo).vectorize(x, 8)
    return by, inp, [], True


def brighten_rgb():
    """A gain on a planar RGB uint8 image."""
    inp = hl.ImageParam(hl.UInt(8), 3, "input")
    gain = _param(hl.Float(32), "gain", 1.0, 0.0, 4.0)
    f = hl.Func("bench_brighten_rgb")
    f[x, y, c] = hl.u8_sat(hl.f32(inp[x, y, c]) * gain)
    f.vectorize(x, 16, hl.TailStrategy.GuardWithIf)
    return f, inp, [(gain, 1.3)], True


def libm_f32():
    """sin, cos, atan2 and exp per float32 element (libm imports)."""
    inp = hl.ImageParam(hl.Float(32), 1, "input")
    f = hl.Func("bench_libm_f32")
    v = inp[x]
    f[x] = hl.sin(v) + hl.cos(v * hl.f32(1.3)) + hl.atan2(v, 1.5) + hl.exp(v * 0.5)
    return f, inp, [], False


def libm16_f32():
    """Sixteen float32 libm calls per element: the issue's "16 libm calls"
    measurement, where the libm share of the time is far larger."""
    inp = hl.ImageParam(hl.Float(32), 1, "input")
    f = hl.Func("bench_libm16_f32")
    v = inp[x]
    f[x] = (hl.sin(v) + hl.cos(v) + hl.tan(v) + hl.asin(v / 3) + hl.acos(v / 3) + hl.atan(v)
            + hl.atan2(v, hl.f32(1.5)) + hl.sinh(v) + hl.cosh(v) + hl.tanh(v) + hl.asinh(v)
            + hl.acosh(hl.abs(v) + 1) + hl.atanh(v / hl.f32(3.1)) + hl.sin(v * 2) + hl.cos(v * 2)
            + hl.atan(v * 2))
    return f, inp, [], False


def _libm_alone(name, expr):
    def make():
        inp = hl.ImageParam(hl.Float(32), 1, "input")
        f = hl.Func(f"bench_{name}")
        f[x] = expr(inp[x])
        return f, inp, [], False

    make.__doc__ = f"`{name}` alone per float32 element: one libm function's cost, for the libm profile."
    return make


sinf_f32 = _libm_alone("sinf", hl.sin)
cosf_f32 = _libm_alone("cosf", hl.cos)
atan2f_f32 = _libm_alone("atan2f", lambda v: hl.atan2(v, hl.f32(1.5)))


def multistage():
    """Ten compute_root stages: an allocation-heavy pipeline."""
    inp = hl.ImageParam(hl.Float(32), 2, "input")
    prev = hl.BoundaryConditions.repeat_edge(inp)
    for i in range(10):
        s = hl.Func(f"stage{i}")
        s[x, y] = (prev[x - 1, y] + prev[x, y] * 2 + prev[x + 1, y - 1]) * 0.25 + hl.f32(0.01 * i)
        s.compute_root()
        prev = s
    out = hl.Func("bench_multistage")
    out[x, y] = prev[x, y]
    return out, inp, [], False


def tiny():
    """A scalar added to a 4x4 int32 buffer: per-call overhead."""
    inp = hl.ImageParam(hl.Int(32), 2, "input")
    k = _param(hl.Int(32), "k", 1)
    f = hl.Func("bench_tiny")
    f[x, y] = inp[x, y] + k
    return f, inp, [(k, 3)], False
