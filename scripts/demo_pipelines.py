"""The demo page's pipelines (www/): Halide's own apps with their CPU
schedules, in a form the page can feed directly: an interleaved RGBA uint8
image in (as a canvas' ImageData is laid out), the same out, alpha passed
through. `scripts/gen_fixtures.py` builds each twice (NAME_threads with
Halide's wasm_threads feature, NAME without), with a small correctness case.

Each function returns `(output Func, input ImageParam, [(scalar Param, value
the correctness case uses)])`; all are built with wasm_simd128.
"""

import halide as hl

from bench_pipelines import _downsample, _f32, _param, _upsample

x, y, c = hl.Var("x"), hl.Var("y"), hl.Var("c")


def _rgba(name):
    """The input and output of an interleaved RGBA uint8 pipeline."""
    inp = hl.ImageParam(hl.UInt(8), 3, "input")
    out = hl.Func(name)
    return inp, out


def _interleaved(inp, out):
    """Constrains input and output to interleaved RGBA (strides [4, 4w, 1])."""
    for b in (inp, out.output_buffer()):
        b.dim(0).set_stride(4)
        b.dim(2).set_stride(1).set_bounds(0, 4)


def _compose(out, inp, rgb):
    """out = rgb (a float Func of x, y, channel in [0, 1]) as uint8, alpha from the input.
    The colour is read at min(c, 2), so that nothing upstream is computed for alpha."""
    out[x, y, c] = hl.select(c == 3, inp[x, y, 3], hl.u8(hl.clamp(rgb[x, y, hl.min(c, 2)], 0.0, 1.0) * 255.0 + 0.5))


def bilateral_grid():
    """Halide's bilateral grid app (python_bindings/apps/bilateral_grid of
    Halide v21.0.0, as in bench_pipelines.bilateral_grid: s_sigma 8, its CPU
    schedule) run on each colour channel: the grid gets one more dimension
    (ch), the outermost loop of every stage."""
    s_sigma = 8
    inp, out = _rgba("demo_bilateral")
    r_sigma = _param(hl.Float(32), "r_sigma", _f32(0.1), _f32(0.02), _f32(0.5))
    z, ch = hl.Var("z"), hl.Var("ch")

    clamped = hl.BoundaryConditions.repeat_edge(inp)
    floating = hl.Func("floating")
    floating[x, y, ch] = hl.f32(clamped[x, y, ch]) / 255.0

    r = hl.RDom([(0, s_sigma), (0, s_sigma)])
    val = floating[x * s_sigma + r.x - s_sigma // 2, y * s_sigma + r.y - s_sigma // 2, ch]
    zi = hl.i32(val / r_sigma + 0.5)
    histogram = hl.Func("histogram")
    histogram[x, y, z, c, ch] = 0.0
    histogram[x, y, zi, c, ch] += hl.mux(c, [val, 1.0])

    blurx, blury, blurz = hl.Func("blurx"), hl.Func("blury"), hl.Func("blurz")
    blurz[x, y, z, c, ch] = (histogram[x, y, z - 2, c, ch] + histogram[x, y, z - 1, c, ch] * 4 + histogram[x, y, z, c, ch] * 6
                             + histogram[x, y, z + 1, c, ch] * 4 + histogram[x, y, z + 2, c, ch])
    blurx[x, y, z, c, ch] = (blurz[x - 2, y, z, c, ch] + blurz[x - 1, y, z, c, ch] * 4 + blurz[x, y, z, c, ch] * 6
                             + blurz[x + 1, y, z, c, ch] * 4 + blurz[x + 2, y, z, c, ch])
    blury[x, y, z, c, ch] = (blurx[x, y - 2, z, c, ch] + blurx[x, y - 1, z, c, ch] * 4 + blurx[x, y, z, c, ch] * 6
                             + blurx[x, y + 1, z, c, ch] * 4 + blurx[x, y + 2, z, c, ch])

    val = floating[x, y, ch]
    zv = val / r_sigma
    zi = hl.i32(zv)
    zf = zv - zi
    xf = hl.f32(x % s_sigma) / s_sigma
    yf = hl.f32(y % s_sigma) / s_sigma
    xi = x / s_sigma
    yi = y / s_sigma
    interpolated = hl.Func("interpolated")
    interpolated[x, y, c, ch] = hl.lerp(
        hl.lerp(hl.lerp(blury[xi, yi, zi, c, ch], blury[xi + 1, yi, zi, c, ch], xf),
                hl.lerp(blury[xi, yi + 1, zi, c, ch], blury[xi + 1, yi + 1, zi, c, ch], xf), yf),
        hl.lerp(hl.lerp(blury[xi, yi, zi + 1, c, ch], blury[xi + 1, yi, zi + 1, c, ch], xf),
                hl.lerp(blury[xi, yi + 1, zi + 1, c, ch], blury[xi + 1, yi + 1, zi + 1, c, ch], xf), yf),
        zf)
    smooth = hl.Func("smooth")
    smooth[x, y, ch] = interpolated[x, y, 0, ch] / interpolated[x, y, 1, ch]
    _compose(out, inp, smooth)

    # The app's CPU schedule, each stage's loops inside a loop over ch.
    blurz.compute_root().reorder(c, z, x, y, ch).parallel(y).vectorize(x, 8).unroll(c)
    histogram.compute_at(blurz, y)
    histogram.update().reorder(c, r.x, r.y, x, y).unroll(c)
    blurx.compute_root().reorder(c, x, y, z, ch).parallel(z).vectorize(x, 8).unroll(c)
    blury.compute_root().reorder(c, x, y, z, ch).parallel(z).vectorize(x, 8).unroll(c)
    _interleaved(inp, out)
    out.reorder(c, x, y).bound(c, 0, 4).unroll(c).parallel(y).vectorize(x, 8)
    return out, inp, [(r_sigma, _f32(0.1))]


def local_laplacian():
    """Halide's local Laplacian app (python_bindings/apps/local_laplacian of
    Halide v21.0.0, as in bench_pipelines.local_laplacian: 8 pyramid levels,
    its CPU schedule) on 8-bit RGBA instead of 16-bit planar RGB. `alpha`
    (detail) defaults to 2 / (levels - 1), twice the app's, so that the
    effect shows on a small photo."""
    J = 8
    inp, out = _rgba("demo_local_laplacian")
    levels = _param(hl.Int(32), "levels", 8, 2, 8)
    alpha = _param(hl.Float(32), "alpha", _f32(2.0 / 7), 0.0, 1.0)
    beta = _param(hl.Float(32), "beta", 1.0, 0.0, 2.0)
    k = hl.Var("k")

    fx = hl.f32(x) / 256.0
    remap = hl.Func("remap")
    remap[x] = alpha * fx * hl.exp(-fx * fx / 2.0)
    clamped = hl.BoundaryConditions.repeat_edge(inp)
    floating = hl.Func("floating")
    floating[x, y, c] = hl.f32(clamped[x, y, c]) / 255.0
    gray = hl.Func("gray")
    gray[x, y] = hl.f32(0.299) * floating[x, y, 0] + hl.f32(0.587) * floating[x, y, 1] + hl.f32(0.114) * floating[x, y, 2]

    gPyramid = [hl.Func(f"gPyramid_{i}") for i in range(J)]
    level = k * (1.0 / (levels - 1))
    idx = gray[x, y] * hl.f32(levels - 1) * 256.0
    idx = hl.clamp(hl.i32(idx), 0, (levels - 1) * 256)
    gPyramid[0][x, y, k] = beta * (gray[x, y] - level) + level + remap[idx - 256 * k]
    for j in range(1, J):
        gPyramid[j][x, y, k] = _downsample(gPyramid[j - 1])[x, y, k]
    lPyramid = [hl.Func(f"lPyramid_{i}") for i in range(J)]
    lPyramid[J - 1][x, y, k] = gPyramid[J - 1][x, y, k]
    for j in range(J - 2, -1, -1):
        lPyramid[j][x, y, k] = gPyramid[j][x, y, k] - _upsample(gPyramid[j + 1])[x, y, k]
    inGPyramid = [hl.Func(f"inGPyramid_{i}") for i in range(J)]
    inGPyramid[0][x, y] = gray[x, y]
    for j in range(1, J):
        inGPyramid[j][x, y] = _downsample(inGPyramid[j - 1])[x, y]
    outLPyramid = [hl.Func(f"outLPyramid_{i}") for i in range(J)]
    for j in range(J):
        level = inGPyramid[j][x, y] * hl.f32(levels - 1)
        li = hl.clamp(hl.i32(level), 0, levels - 2)
        lf = level - hl.f32(li)
        outLPyramid[j][x, y] = (1.0 - lf) * lPyramid[j][x, y, li] + lf * lPyramid[j][x, y, li + 1]
    outGPyramid = [hl.Func(f"outGPyramid_{i}") for i in range(J)]
    outGPyramid[J - 1][x, y] = outLPyramid[J - 1][x, y]
    for j in range(J - 2, -1, -1):
        outGPyramid[j][x, y] = _upsample(outGPyramid[j + 1])[x, y] + outLPyramid[j][x, y]
    color = hl.Func("color")
    eps = hl.f32(0.01)
    color[x, y, c] = outGPyramid[0][x, y] * (floating[x, y, c] + eps) / (gray[x, y] + eps)
    _compose(out, inp, color)

    # The app's CPU schedule (the output's channels unrolled, interleaved).
    remap.compute_root()
    yo = hl.Var("yo")
    _interleaved(inp, out)
    out.reorder(c, x, y).bound(c, 0, 4).unroll(c).split(y, yo, y, 64).parallel(yo).vectorize(x, 8)
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
    return out, inp, [(levels, 8), (alpha, _f32(2.0 / 7)), (beta, 1.0)]


def gaussian_blur():
    """A fast separable Gaussian blur (radius ceil(3 sigma)) in the manner of
    Halide's apps/blur: the kernel computed once, a horizontal pass stored per
    strip of 32 rows, strips in parallel, everything vectorized."""
    inp, out = _rgba("demo_gaussian_blur")
    sigma = _param(hl.Float(32), "sigma", 3.0, 0.5, 10.0)
    radius = hl.i32(hl.ceil(3 * sigma))
    r = hl.RDom([(-radius, 2 * radius + 1)])
    i = hl.Var("i")
    kernel, norm = hl.Func("kernel"), hl.Func("norm")
    kernel[i] = hl.exp(-hl.f32(i * i) / (2 * sigma * sigma))
    norm[()] = hl.sum(kernel[r.x])
    weight = hl.Func("weight")
    weight[i] = kernel[i] / norm[()]
    clamped = hl.BoundaryConditions.repeat_edge(inp)
    bx, by = hl.Func("blur_x"), hl.Func("blur_y")
    bx[x, y, c] = hl.sum(weight[r.x] * hl.f32(clamped[x + r.x, y, c]))
    by[x, y, c] = hl.sum(weight[r.x] * bx[x, y + r.x, c]) / 255.0
    _compose(out, inp, by)

    yo, yi = hl.Var("yo"), hl.Var("yi")
    kernel.compute_root()
    norm.compute_root()
    weight.compute_root()
    _interleaved(inp, out)
    out.reorder(c, x, y).bound(c, 0, 4).unroll(c).split(y, yo, yi, 32).parallel(yo).vectorize(x, 8)
    bx.compute_at(out, yo).reorder(x, y, c).vectorize(x, 8)
    return out, inp, [(sigma, 3.0)]


DEMOS = [("demo_bilateral", bilateral_grid), ("demo_local_laplacian", local_laplacian), ("demo_gaussian_blur", gaussian_blur)]
