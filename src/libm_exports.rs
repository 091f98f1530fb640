//! C math (`libm`) and float16 conversions for the guest, as plain wasm
//! functions of the executor's own module.
//!
//! A Halide pipeline imports its transcendental functions (`sinf`, `atan2`,
//! `pow`, ...) from `env`. Supplying them as JavaScript functions costs a
//! trip through JavaScript per call, and JavaScript's `Math` has other
//! semantics than C (`Math.round(-2.5)` is -2, C's `round` gives -3; `fmin`
//! ignores a NaN operand). Instead every function here is exported from the
//! executor's wasm module under a `hwe_` name; the import object hands those
//! exports to the pipeline, so each call goes straight from wasm to wasm and
//! computes what C's libm computes (the `libm` crate, a port of musl).
//!
//! [`LIBM_IMPORTS`] maps each import name a pipeline may use to the export
//! that implements it.

// `no_mangle` counts as unsafe code: these exports' names carry a `hwe_`
// prefix, so they cannot collide with any other symbol of the module.
#![allow(unsafe_code)]

macro_rules! exports {
    ($( $import:literal => $export:ident ( $($a:ident : $t:ty),* ) -> $r:ty = $body:expr ;)*) => {
        $(
            #[doc = concat!("`", $import, "` for the guest.")]
            #[cfg_attr(target_arch = "wasm32", no_mangle)]
            pub extern "C" fn $export($($a: $t),*) -> $r {
                $body
            }
        )*
        /// `(import name, export name)` for every function above.
        pub const LIBM_IMPORTS: &[(&str, &str)] = &[$(($import, stringify!($export))),*];
    };
}

exports! {
    "acos" => hwe_acos(x: f64) -> f64 = libm::acos(x);
    "acosf" => hwe_acosf(x: f32) -> f32 = libm::acosf(x);
    "acosh" => hwe_acosh(x: f64) -> f64 = libm::acosh(x);
    "acoshf" => hwe_acoshf(x: f32) -> f32 = libm::acoshf(x);
    "asin" => hwe_asin(x: f64) -> f64 = libm::asin(x);
    "asinf" => hwe_asinf(x: f32) -> f32 = libm::asinf(x);
    "asinh" => hwe_asinh(x: f64) -> f64 = libm::asinh(x);
    "asinhf" => hwe_asinhf(x: f32) -> f32 = libm::asinhf(x);
    "atan" => hwe_atan(x: f64) -> f64 = libm::atan(x);
    "atanf" => hwe_atanf(x: f32) -> f32 = libm::atanf(x);
    "atanh" => hwe_atanh(x: f64) -> f64 = libm::atanh(x);
    "atanhf" => hwe_atanhf(x: f32) -> f32 = libm::atanhf(x);
    "cos" => hwe_cos(x: f64) -> f64 = libm::cos(x);
    "cosf" => hwe_cosf(x: f32) -> f32 = libm::cosf(x);
    "cosh" => hwe_cosh(x: f64) -> f64 = libm::cosh(x);
    "coshf" => hwe_coshf(x: f32) -> f32 = libm::coshf(x);
    "exp" => hwe_exp(x: f64) -> f64 = libm::exp(x);
    "expf" => hwe_expf(x: f32) -> f32 = libm::expf(x);
    "exp2" => hwe_exp2(x: f64) -> f64 = libm::exp2(x);
    "exp2f" => hwe_exp2f(x: f32) -> f32 = libm::exp2f(x);
    "expm1" => hwe_expm1(x: f64) -> f64 = libm::expm1(x);
    "expm1f" => hwe_expm1f(x: f32) -> f32 = libm::expm1f(x);
    "log" => hwe_log(x: f64) -> f64 = libm::log(x);
    "logf" => hwe_logf(x: f32) -> f32 = libm::logf(x);
    "log2" => hwe_log2(x: f64) -> f64 = libm::log2(x);
    "log2f" => hwe_log2f(x: f32) -> f32 = libm::log2f(x);
    "log10" => hwe_log10(x: f64) -> f64 = libm::log10(x);
    "log10f" => hwe_log10f(x: f32) -> f32 = libm::log10f(x);
    "log1p" => hwe_log1p(x: f64) -> f64 = libm::log1p(x);
    "log1pf" => hwe_log1pf(x: f32) -> f32 = libm::log1pf(x);
    "round" => hwe_round(x: f64) -> f64 = libm::round(x);
    "roundf" => hwe_roundf(x: f32) -> f32 = libm::roundf(x);
    "sin" => hwe_sin(x: f64) -> f64 = libm::sin(x);
    "sinf" => hwe_sinf(x: f32) -> f32 = libm::sinf(x);
    "sinh" => hwe_sinh(x: f64) -> f64 = libm::sinh(x);
    "sinhf" => hwe_sinhf(x: f32) -> f32 = libm::sinhf(x);
    "tan" => hwe_tan(x: f64) -> f64 = libm::tan(x);
    "tanf" => hwe_tanf(x: f32) -> f32 = libm::tanf(x);
    "tanh" => hwe_tanh(x: f64) -> f64 = libm::tanh(x);
    "tanhf" => hwe_tanhf(x: f32) -> f32 = libm::tanhf(x);
    "cbrt" => hwe_cbrt(x: f64) -> f64 = libm::cbrt(x);
    "cbrtf" => hwe_cbrtf(x: f32) -> f32 = libm::cbrtf(x);
    "sqrt" => hwe_sqrt(x: f64) -> f64 = libm::sqrt(x);
    "sqrtf" => hwe_sqrtf(x: f32) -> f32 = libm::sqrtf(x);
    "floor" => hwe_floor(x: f64) -> f64 = libm::floor(x);
    "floorf" => hwe_floorf(x: f32) -> f32 = libm::floorf(x);
    "ceil" => hwe_ceil(x: f64) -> f64 = libm::ceil(x);
    "ceilf" => hwe_ceilf(x: f32) -> f32 = libm::ceilf(x);
    "trunc" => hwe_trunc(x: f64) -> f64 = libm::trunc(x);
    "truncf" => hwe_truncf(x: f32) -> f32 = libm::truncf(x);
    "atan2" => hwe_atan2(x: f64, y: f64) -> f64 = libm::atan2(x, y);
    "atan2f" => hwe_atan2f(x: f32, y: f32) -> f32 = libm::atan2f(x, y);
    "pow" => hwe_pow(x: f64, y: f64) -> f64 = libm::pow(x, y);
    "powf" => hwe_powf(x: f32, y: f32) -> f32 = libm::powf(x, y);
    "fmin" => hwe_fmin(x: f64, y: f64) -> f64 = libm::fmin(x, y);
    "fminf" => hwe_fminf(x: f32, y: f32) -> f32 = libm::fminf(x, y);
    "fmax" => hwe_fmax(x: f64, y: f64) -> f64 = libm::fmax(x, y);
    "fmaxf" => hwe_fmaxf(x: f32, y: f32) -> f32 = libm::fmaxf(x, y);
    "fmod" => hwe_fmod(x: f64, y: f64) -> f64 = libm::fmod(x, y);
    "fmodf" => hwe_fmodf(x: f32, y: f32) -> f32 = libm::fmodf(x, y);
    "hypot" => hwe_hypot(x: f64, y: f64) -> f64 = libm::hypot(x, y);
    "hypotf" => hwe_hypotf(x: f32, y: f32) -> f32 = libm::hypotf(x, y);
    "fma" => hwe_fma(x: f64, y: f64, z: f64) -> f64 = libm::fma(x, y, z);
    "fmaf" => hwe_fmaf(x: f32, y: f32, z: f32) -> f32 = libm::fmaf(x, y, z);
    "__extendhfsf2" => hwe_extendhfsf2(h: u32) -> f32 = half::f16::from_bits(h as u16).to_f32();
    "__truncsfhf2" => hwe_truncsfhf2(x: f32) -> u32 = half::f16::from_f32(x).to_bits() as u32;
    "__truncdfhf2" => hwe_truncdfhf2(x: f64) -> u32 = half::f16::from_f64(x).to_bits() as u32;
}

/// The export that implements import `name`, if it is one of ours.
pub fn export_for(name: &str) -> Option<&'static str> {
    lookup(LIBM_IMPORTS, name)
}

/// The export paired with import `name` in a `(import, export)` table.
pub fn lookup(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table.iter().find(|(i, _)| *i == name).map(|(_, e)| *e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn c_semantics_not_javascript_semantics() {
        assert_eq!(hwe_round(-2.5), -3.0);
        assert_eq!(hwe_roundf(2.5), 3.0);
        assert_eq!(hwe_fmin(f64::NAN, 1.0), 1.0);
        assert_eq!(hwe_fmaxf(2.0, f32::NAN), 2.0);
        assert_eq!(hwe_fma(0.1, 10.0, -1.0), 0.1f64.mul_add(10.0, -1.0));
    }

    #[test]
    fn half_conversions_round_trip() {
        assert_eq!(hwe_truncsfhf2(1.0), 0x3c00);
        assert_eq!(hwe_extendhfsf2(0xc000), -2.0);
        assert_eq!(hwe_truncdfhf2(65504.0), 0x7bff);
        assert!(hwe_extendhfsf2(0x7e00).is_nan());
    }

    #[test]
    fn every_import_has_one_export() {
        assert_eq!(export_for("sinf"), Some("hwe_sinf"));
        assert_eq!(export_for("atan2"), Some("hwe_atan2"));
        assert_eq!(export_for("malloc"), None);
        let mut names: Vec<_> = LIBM_IMPORTS.iter().map(|(i, _)| *i).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), LIBM_IMPORTS.len());
    }
}
