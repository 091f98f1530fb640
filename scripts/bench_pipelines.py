"""The benchmark pipelines, defined once.

`scripts/gen_fixtures.py` compiles them to `fixtures/bench_*.wasm` (with a
small correctness case each), and `bench/native.py` times the very same
algorithms and schedules natively and in Halide's own wasm JIT, so that the
two sides of a bench row cannot drift apart.

Each function returns `(output Func, input ImageParam, [(scalar Param,
value the bench uses)], whether to build it with wasm_simd128)`.
"""

import halide as hl
import numpy as np

x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")


def _f32(v):
    """v rounded to float32, so that Halide takes it without losing precision
    (and a manifest value is the float32 the module sees)."""
    return float(np.float32(v))


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


# Pipelines with `parallel` schedules, for modules built with and without
# Halide's `wasm_threads` feature (scripts/gen_fixtures.py makes NAME_threads
# and NAME from each, with a small correctness case each; a Halide pipeline
# takes any input size, so the same modules serve the bench at the sizes in
# THREADED_BENCH_SHAPES).

THREADED_BENCH_SHAPES = {
    "bilateral_grid": [1536, 1024],
    "local_laplacian": [1536, 1024, 3],
}


def par_blur_u16():
    """A 3x3 box blur of a uint16 image in 64x16 tiles, whose rows of tiles
    run in parallel, vectorized."""
    inp = hl.ImageParam(hl.UInt(16), 2, "input")
    e = hl.BoundaryConditions.repeat_edge(inp)
    bx, by = hl.Func("par_blur_u16_x"), hl.Func("par_blur_u16")
    bx[x, y] = hl.u32(e[x - 1, y]) + e[x, y] + e[x + 1, y]
    by[x, y] = hl.u16((bx[x, y - 1] + bx[x, y] + bx[x, y + 1]) / 9)
    xo, yo, xi, yi = hl.Var("xo"), hl.Var("yo"), hl.Var("xi"), hl.Var("yi")
    by.tile(x, y, xo, yo, xi, yi, 64, 16).parallel(yo).vectorize(xi, 8)
    bx.compute_at(by, xo).vectorize(x, 8)
    return by, inp, [], True


def bilateral_grid():
    """Halide's bilateral grid app, its algorithm and CPU schedule as in
    python_bindings/apps/bilateral_grid_generator.py of Halide v21.0.0
    (https://github.com/halide/Halide, MIT license), with s_sigma 8 and the
    r_sigma the app is run with (0.1). Input and output: float32 2-D."""
    s_sigma = 8
    inp = hl.ImageParam(hl.Float(32), 2, "input")
    r_sigma = _param(hl.Float(32), "r_sigma", _f32(0.1))
    z = hl.Var("z")

    # Add a boundary condition
    clamped = hl.BoundaryConditions.repeat_edge(inp)

    # Construct the bilateral grid
    r = hl.RDom([(0, s_sigma), (0, s_sigma)])
    val = clamped[x * s_sigma + r.x - s_sigma // 2, y * s_sigma + r.y - s_sigma // 2]
    val = hl.clamp(val, 0.0, 1.0)
    zi = hl.i32(val / r_sigma + 0.5)
    histogram = hl.Func("histogram")
    histogram[x, y, z, c] = 0.0
    histogram[x, y, zi, c] += hl.mux(c, [val, 1.0])

    # Blur the histogram using a five-tap filter
    blurx, blury, blurz = hl.Func("blurx"), hl.Func("blury"), hl.Func("blurz")
    blurz[x, y, z, c] = (histogram[x, y, z - 2, c] + histogram[x, y, z - 1, c] * 4 + histogram[x, y, z, c] * 6
                         + histogram[x, y, z + 1, c] * 4 + histogram[x, y, z + 2, c])
    blurx[x, y, z, c] = (blurz[x - 2, y, z, c] + blurz[x - 1, y, z, c] * 4 + blurz[x, y, z, c] * 6
                         + blurz[x + 1, y, z, c] * 4 + blurz[x + 2, y, z, c])
    blury[x, y, z, c] = (blurx[x, y - 2, z, c] + blurx[x, y - 1, z, c] * 4 + blurx[x, y, z, c] * 6
                         + blurx[x, y + 1, z, c] * 4 + blurx[x, y + 2, z, c])

    # Take trilinear samples to compute the output
    val = hl.clamp(clamped[x, y], 0.0, 1.0)
    zv = val / r_sigma
    zi = hl.i32(zv)
    zf = zv - zi
    xf = hl.f32(x % s_sigma) / s_sigma
    yf = hl.f32(y % s_sigma) / s_sigma
    xi = x / s_sigma
    yi = y / s_sigma
    interpolated = hl.Func("interpolated")
    interpolated[x, y, c] = hl.lerp(
        hl.lerp(hl.lerp(blury[xi, yi, zi, c], blury[xi + 1, yi, zi, c], xf),
                hl.lerp(blury[xi, yi + 1, zi, c], blury[xi + 1, yi + 1, zi, c], xf), yf),
        hl.lerp(hl.lerp(blury[xi, yi, zi + 1, c], blury[xi + 1, yi, zi + 1, c], xf),
                hl.lerp(blury[xi, yi + 1, zi + 1, c], blury[xi + 1, yi + 1, zi + 1, c], xf), yf),
        zf)

    # Normalize
    out = hl.Func("bilateral_grid")
    out[x, y] = interpolated[x, y, 0] / interpolated[x, y, 1]

    # The app's CPU schedule.
    blurz.compute_root().reorder(c, z, x, y).parallel(y).vectorize(x, 8).unroll(c)
    histogram.compute_at(blurz, y)
    histogram.update().reorder(c, r.x, r.y, x, y).unroll(c)
    blurx.compute_root().reorder(c, x, y, z).parallel(z).vectorize(x, 8).unroll(c)
    blury.compute_root().reorder(c, x, y, z).parallel(z).vectorize(x, 8).unroll(c)
    out.compute_root().parallel(y).vectorize(x, 8)
    return out, inp, [(r_sigma, _f32(0.1))], True


def _downsample(f):
    """Downsample with a 1 3 3 1 filter (local_laplacian)."""
    downx, downy = hl.Func("downx"), hl.Func("downy")
    downx[x, y, hl._] = (f[2 * x - 1, y, hl._] + 3.0 * (f[2 * x, y, hl._] + f[2 * x + 1, y, hl._]) + f[2 * x + 2, y, hl._]) / 8.0
    downy[x, y, hl._] = (downx[x, 2 * y - 1, hl._] + 3.0 * (downx[x, 2 * y, hl._] + downx[x, 2 * y + 1, hl._])
                         + downx[x, 2 * y + 2, hl._]) / 8.0
    return downy


def _upsample(f):
    """Upsample using bilinear interpolation (local_laplacian)."""
    upx, upy = hl.Func("upx"), hl.Func("upy")
    upx[x, y, hl._] = hl.lerp(f[(x + 1) // 2, y, hl._], f[(x - 1) // 2, y, hl._], ((x % 2) * 2 + 1) / 4.0)
    upy[x, y, hl._] = hl.lerp(upx[x, (y + 1) // 2, hl._], upx[x, (y - 1) // 2, hl._], ((y % 2) * 2 + 1) / 4.0)
    return upy


def local_laplacian():
    """Halide's local Laplacian app, its algorithm and CPU schedule as in
    python_bindings/apps/local_laplacian_generator.py of Halide v21.0.0
    (https://github.com/halide/Halide, MIT license), with 8 pyramid levels
    and the parameters the app is run with (levels 8, alpha 1 / (levels - 1),
    beta 1). Input and output: uint16 planar RGB (x, y, c)."""
    J = 8  # pyramid_levels
    inp = hl.ImageParam(hl.UInt(16), 3, "input")
    levels = _param(hl.Int(32), "levels", 8)
    alpha = _param(hl.Float(32), "alpha", _f32(1.0 / 7))
    beta = _param(hl.Float(32), "beta", 1.0)
    k = hl.Var("k")

    # Make the remapping function as a lookup table.
    fx = hl.f32(x) / 256.0
    remap = hl.Func("remap")
    remap[x] = alpha * fx * hl.exp(-fx * fx / 2.0)

    # Set a boundary condition
    clamped = hl.BoundaryConditions.repeat_edge(inp)

    # Convert to floating point
    floating = hl.Func("floating")
    floating[x, y, c] = clamped[x, y, c] / 65535.0

    # Get the luminance channel
    gray = hl.Func("gray")
    gray[x, y] = hl.f32(0.299) * floating[x, y, 0] + hl.f32(0.587) * floating[x, y, 1] + hl.f32(0.114) * floating[x, y, 2]

    # Make the processed Gaussian pyramid.
    gPyramid = [hl.Func(f"gPyramid_{i}") for i in range(J)]
    # Do a lookup into a lut with 256 entires per intensity level
    level = k * (1.0 / (levels - 1))
    idx = gray[x, y] * hl.f32(levels - 1) * 256.0
    idx = hl.clamp(hl.i32(idx), 0, (levels - 1) * 256)
    gPyramid[0][x, y, k] = beta * (gray[x, y] - level) + level + remap[idx - 256 * k]
    for j in range(1, J):
        gPyramid[j][x, y, k] = _downsample(gPyramid[j - 1])[x, y, k]

    # Get its laplacian pyramid
    lPyramid = [hl.Func(f"lPyramid_{i}") for i in range(J)]
    lPyramid[J - 1][x, y, k] = gPyramid[J - 1][x, y, k]
    for j in range(J - 2, -1, -1):
        lPyramid[j][x, y, k] = gPyramid[j][x, y, k] - _upsample(gPyramid[j + 1])[x, y, k]

    # Make the Gaussian pyramid of the input
    inGPyramid = [hl.Func(f"inGPyramid_{i}") for i in range(J)]
    inGPyramid[0][x, y] = gray[x, y]
    for j in range(1, J):
        inGPyramid[j][x, y] = _downsample(inGPyramid[j - 1])[x, y]

    # Make the laplacian pyramid of the output
    outLPyramid = [hl.Func(f"outLPyramid_{i}") for i in range(J)]
    for j in range(J):
        # Split input pyramid value into integer and floating parts
        level = inGPyramid[j][x, y] * hl.f32(levels - 1)
        li = hl.clamp(hl.i32(level), 0, levels - 2)
        lf = level - hl.f32(li)
        # Linearly interpolate between the nearest processed pyramid levels
        outLPyramid[j][x, y] = (1.0 - lf) * lPyramid[j][x, y, li] + lf * lPyramid[j][x, y, li + 1]

    # Make the Gaussian pyramid of the output
    outGPyramid = [hl.Func(f"outGPyramid_{i}") for i in range(J)]
    outGPyramid[J - 1][x, y] = outLPyramid[J - 1][x, y]
    for j in range(J - 2, -1, -1):
        outGPyramid[j][x, y] = _upsample(outGPyramid[j + 1])[x, y] + outLPyramid[j][x, y]

    # Reintroduce color (Connelly: use eps to avoid scaling up noise w/ apollo3.png input)
    color = hl.Func("color")
    eps = hl.f32(0.01)
    color[x, y, c] = outGPyramid[0][x, y] * (floating[x, y, c] + eps) / (gray[x, y] + eps)

    # Convert back to 16-bit
    out = hl.Func("local_laplacian")
    out[x, y, c] = hl.u16(hl.clamp(color[x, y, c], 0.0, 1.0) * 65535.0)

    # The app's CPU schedule.
    remap.compute_root()
    yo = hl.Var("yo")
    out.reorder(c, x, y).split(y, yo, y, 64).parallel(yo).vectorize(x, 8)
    gray.compute_root().parallel(y, 32).vectorize(x, 8)
    for j in range(1, 5):
        inGPyramid[j].compute_root().parallel(y, 32).vectorize(x, 8)
        gPyramid[j].compute_root().reorder_storage(x, k, y).reorder(k, y).parallel(y, 8).vectorize(x, 8)
        outGPyramid[j].store_at(out, yo).compute_at(out, y).fold_storage(y, 4).vectorize(x, 8)
    outGPyramid[0].compute_at(out, y).vectorize(x, 8)
    for j in range(5, J):
        inGPyramid[j].compute_root()
        gPyramid[j].compute_root().parallel(k)
        outGPyramid[j].compute_root()
    return out, inp, [(levels, 8), (alpha, _f32(1.0 / 7)), (beta, 1.0)], True
