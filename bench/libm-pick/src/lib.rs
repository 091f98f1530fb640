//! Which library should compute each C math function the executor gives a
//! pipeline? `npm run bench:libm` (`bench/libm-pick.mjs`) builds this crate
//! for wasm32 and times, in V8, every function of `src/libm_exports.rs` from
//! the `libm` crate (musl) and from `pxfm`, on random arguments (a fresh
//! one every call, as an image gives them).
//!
//! Both versions are called through a function pointer, as the pipeline
//! calls the executor's export: neither can be inlined into the loop.

// Exports with fixed names for the JavaScript runner.
#![allow(unsafe_code)]

use std::cell::RefCell;

/// One function's two versions, by signature.
#[derive(Clone, Copy)]
enum Pair {
    F32(fn(f32) -> f32, fn(f32) -> f32),
    F32x2(fn(f32, f32) -> f32, fn(f32, f32) -> f32),
    F64(fn(f64) -> f64, fn(f64) -> f64),
    F64x2(fn(f64, f64) -> f64, fn(f64, f64) -> f64),
}

struct Case {
    name: &'static str,
    pair: Pair,
    /// The range of the first argument, and of the second.
    x: (f64, f64),
    y: (f64, f64),
}

/// Each line names a function in float and in double precision, with the
/// `pxfm` names after the slash and the arguments' ranges; it makes two
/// cases, the float one first.
macro_rules! cases {
    ($($k32:ident $k64:ident $f:ident $d:ident / $pf:ident $pd:ident
        [$xl:expr, $xh:expr] $([$yl:expr, $yh:expr])?;)*) => {
        &[$(
            cases!(@case $k32 $f $pf [$xl, $xh] $([$yl, $yh])?),
            cases!(@case $k64 $d $pd [$xl, $xh] $([$yl, $yh])?),
        )*]
    };
    (@case $kind:ident $name:ident $px:ident [$xl:expr, $xh:expr] $([$yl:expr, $yh:expr])?) => {
        Case {
            name: stringify!($name),
            pair: Pair::$kind(libm::$name, pxfm::$px),
            x: ($xl, $xh),
            y: cases!(@y $([$yl, $yh])?),
        }
    };
    (@y) => { (0.0, 0.0) };
    (@y [$yl:expr, $yh:expr]) => { ($yl, $yh) };
}

/// Every transcendental function the executor exports, on the arguments an
/// image pipeline gives it.
static CASES: &[Case] = cases! {
    F32 F64 sinf sin / f_sinf f_sin [-3.0, 3.0];
    F32 F64 cosf cos / f_cosf f_cos [-3.0, 3.0];
    F32 F64 tanf tan / f_tanf f_tan [-3.0, 3.0];
    F32 F64 asinf asin / f_asinf f_asin [-1.0, 1.0];
    F32 F64 acosf acos / f_acosf f_acos [-1.0, 1.0];
    F32 F64 atanf atan / f_atanf f_atan [-10.0, 10.0];
    F32 F64 sinhf sinh / f_sinhf f_sinh [-10.0, 10.0];
    F32 F64 coshf cosh / f_coshf f_cosh [-10.0, 10.0];
    F32 F64 tanhf tanh / f_tanhf f_tanh [-5.0, 5.0];
    F32 F64 asinhf asinh / f_asinhf f_asinh [-100.0, 100.0];
    F32 F64 acoshf acosh / f_acoshf f_acosh [1.0, 100.0];
    F32 F64 atanhf atanh / f_atanhf f_atanh [-1.0, 1.0];
    F32 F64 expf exp / f_expf f_exp [-10.0, 10.0];
    F32 F64 exp2f exp2 / f_exp2f f_exp2 [-10.0, 10.0];
    F32 F64 expm1f expm1 / f_expm1f f_expm1 [-3.0, 3.0];
    F32 F64 logf log / f_logf f_log [0.0, 100.0];
    F32 F64 log2f log2 / f_log2f f_log2 [0.0, 100.0];
    F32 F64 log10f log10 / f_log10f f_log10 [0.0, 100.0];
    F32 F64 log1pf log1p / f_log1pf f_log1p [-0.9, 100.0];
    F32 F64 cbrtf cbrt / f_cbrtf f_cbrt [-100.0, 100.0];
    F32x2 F64x2 atan2f atan2 / f_atan2f f_atan2 [-3.0, 3.0] [-3.0, 3.0];
    F32x2 F64x2 powf pow / f_powf f_pow [0.0, 10.0] [-5.0, 5.0];
    F32x2 F64x2 hypotf hypot / f_hypotf f_hypot [-100.0, 100.0] [-100.0, 100.0];
};

/// The prepared arguments: first and second, in both precisions.
#[derive(Default)]
struct Args {
    x64: Vec<f64>,
    y64: Vec<f64>,
    x32: Vec<f32>,
    y32: Vec<f32>,
}

thread_local! {
    static ARGS: RefCell<Args> = RefCell::default();
}

/// How many functions there are.
#[no_mangle]
pub extern "C" fn cases() -> u32 {
    CASES.len() as u32
}

/// Function `i`'s name, as a pointer to its bytes; [`name_len`] gives the length.
#[no_mangle]
pub extern "C" fn name_ptr(i: u32) -> *const u8 {
    CASES[i as usize].name.as_ptr()
}

/// The length of function `i`'s name.
#[no_mangle]
pub extern "C" fn name_len(i: u32) -> u32 {
    CASES[i as usize].name.len() as u32
}

/// Draws `n` arguments (pairs for two-argument functions) in function `i`'s
/// ranges, from `seed` (xorshift64*).
#[no_mangle]
pub extern "C" fn prepare(i: u32, n: u32, seed: u32) {
    let case = &CASES[i as usize];
    let mut s = u64::from(seed) | 1 << 40;
    let mut draw = |(lo, hi): (f64, f64)| {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        let u = (s.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64;
        lo + u * (hi - lo)
    };
    let xs: Vec<f64> = (0..n).map(|_| draw(case.x)).collect();
    let ys: Vec<f64> = (0..n).map(|_| draw(case.y)).collect();
    let x32 = xs.iter().map(|&x| x as f32).collect();
    let y32 = ys.iter().map(|&y| y as f32).collect();
    ARGS.with(|a| {
        *a.borrow_mut() = Args {
            x64: xs,
            y64: ys,
            x32,
            y32,
        };
    });
}

/// Calls function `i` from `libm` (`lib` 0) or `pxfm` (`lib` 1) once on
/// every prepared argument; returns the sum, so no call is dead code.
#[no_mangle]
pub extern "C" fn run(i: u32, lib: u32) -> f64 {
    ARGS.with(|a| {
        let Args { x64, y64, x32, y32 } = &*a.borrow();
        match CASES[i as usize].pair {
            Pair::F32(l, p) => {
                let f = if lib == 0 { l } else { p };
                x32.iter().map(|&x| f64::from(f(x))).sum()
            }
            Pair::F32x2(l, p) => {
                let f = if lib == 0 { l } else { p };
                x32.iter().zip(y32).map(|(&x, &y)| f64::from(f(x, y))).sum()
            }
            Pair::F64(l, p) => {
                let f = if lib == 0 { l } else { p };
                x64.iter().map(|&x| f(x)).sum()
            }
            Pair::F64x2(l, p) => {
                let f = if lib == 0 { l } else { p };
                x64.iter().zip(y64).map(|(&x, &y)| f(x, y)).sum()
            }
        }
    })
}
