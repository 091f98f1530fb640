//! A guest that misbehaves, in Node and in Chromium: every trap and every bad
//! pointer handed to an import is a `HalideError` with code `'trap'`, the
//! caller's output is untouched, and the next run on the same `Pipeline`
//! works (the instance is made anew from the compiled module).
//!
//! The guest is a hand-written JIT-flavour module whose `misbehave(uc, how,
//! out)` does one bad thing chosen by `how`, or writes 42 to `out` when
//! `how` is 0.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{jit_options, set};

use halide_wasm_executor::{live_instances, Pipeline};
use js_sys::{Array, Int32Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

const MISBEHAVE_WAT: &str = r#"
(module
  (import "env" "strlen" (func $strlen (param i32) (result i32)))
  (import "env" "free" (func $free (param i32)))
  (import "env" "memcpy" (func $memcpy (param i32 i32 i32) (result i32)))
  (import "env" "malloc" (func $malloc (param i32) (result i32)))
  (memory (export "memory") 1)
  (global (export "__heap_base") i32 (i32.const 1024))
  (func $recurse (param i32) (result i32)
    (i32.add (call $recurse (i32.add (local.get 0) (i32.const 1))) (i32.const 1)))
  (func (export "misbehave") (param $uc i32) (param $how i32) (param $out i32) (result i32)
    (if (i32.eq (local.get $how) (i32.const 1)) (then (return (i32.load (i32.const 0x7fffff00)))))
    (if (i32.eq (local.get $how) (i32.const 2)) (then unreachable))
    (if (i32.eq (local.get $how) (i32.const 3)) (then (return (i32.div_s (i32.const 1) (i32.const 0)))))
    (if (i32.eq (local.get $how) (i32.const 4)) (then (return (call $recurse (i32.const 0)))))
    ;; a string that runs off the end of memory (no NUL)
    (if (i32.eq (local.get $how) (i32.const 5)) (then
      (memory.fill (i32.const 65000) (i32.const 65) (i32.const 536))
      (return (call $strlen (i32.const 65000)))))
    (if (i32.eq (local.get $how) (i32.const 6)) (then (call $free (i32.const 12345)) (return (i32.const 0))))
    (if (i32.eq (local.get $how) (i32.const 7)) (then
      (return (call $memcpy (i32.const 100) (i32.const 65530) (i32.const 100)))))
    ;; an allocation far past any limit: malloc must return 0, not crash
    (if (i32.eq (local.get $how) (i32.const 8)) (then
      (return (i32.sub (i32.const 0) (i32.eqz (call $malloc (i32.const 0xfff00000)))))))
    (i32.store (i32.load offset=12 (local.get $out)) (i32.const 42))
    (i32.const 0)))
"#;

async fn load(max_memory: Option<f64>) -> Pipeline {
    let o = jit_options(
        "misbehave",
        &[("how", "scalar", "int32", 0), ("out", "output", "int32", 1)],
    );
    if let Some(m) = max_memory {
        set(&o, "maxMemoryBytes", &m.into());
    }
    let bytes = Uint8Array::from(&wat::parse_str(MISBEHAVE_WAT).unwrap()[..]);
    Pipeline::load(bytes.into(), o.into())
        .await
        .map_err(|e| format!("{e:?}"))
        .unwrap()
}

fn run(p: &Pipeline, how: i32, out: &Int32Array) -> Result<(), JsValue> {
    let a = Object::new();
    set(&a, "how", &how.into());
    let b = Object::new();
    set(&b, "data", out);
    set(&b, "shape", &Array::of1(&JsValue::from(1)));
    set(&a, "out", &b);
    p.run(a.into()).map(|_| ())
}

fn field(e: &JsValue, k: &str) -> JsValue {
    Reflect::get(e, &k.into()).unwrap()
}

async fn every_trap_is_a_halide_error_and_the_pipeline_recovers() {
    let p = load(None).await;
    let expected = [
        (1, "out of bounds"),
        (2, "unreachable"),
        (3, "divide by zero"),
        (4, "call stack"),
        (5, "not NUL-terminated"),
        (6, "free(0x3039) of a pointer that malloc did not return"),
        (7, "out of bounds"),
    ];
    // The faulting imports act on the running guest through a reference
    // they must drop before throwing: a leak would keep each instance.
    let live = live_instances();
    for (how, text) in expected {
        let out = Int32Array::from(&[-1][..]);
        let e = run(&p, how, &out).expect_err("must fail");
        assert_eq!(live_instances(), live - 1, "{how}: the instance is freed");
        let msg = field(&e, "message").as_string().unwrap();
        assert_eq!(
            field(&e, "code").as_string().as_deref(),
            Some("trap"),
            "{how}: {msg}"
        );
        assert!(
            msg.to_lowercase().contains(&text.to_lowercase()),
            "{how}: {msg}"
        );
        assert!(msg.starts_with("misbehave: "), "names the pipeline: {msg}");
        assert_eq!(out.to_vec(), vec![-1], "{how}: output untouched");
        // The next run works on a fresh instance.
        run(&p, 0, &out).map_err(|e| format!("{e:?}")).unwrap();
        assert_eq!(out.to_vec(), vec![42]);
        assert_eq!(live_instances(), live);
    }
}

async fn a_huge_allocation_fails_cleanly_within_the_limit() {
    let p = load(Some(4.0 * 65536.0)).await;
    let out = Int32Array::from(&[0][..]);
    // malloc returned 0, so the guest returns -1: a Halide error code.
    let e = run(&p, 8, &out).expect_err("must fail");
    assert_eq!(field(&e, "code").as_f64(), Some(-1.0));
    let stats = p.stats().unwrap();
    assert!(field(&stats, "memoryBytes").as_f64().unwrap() <= 4.0 * 65536.0);
    run(&p, 0, &out).map_err(|e| format!("{e:?}")).unwrap();
    assert_eq!(out.to_vec(), vec![42]);
}

/// The tests above, one after the other (see tests/corpus.rs: as
/// concurrent async tests the headless ChromeDriver run sometimes never
/// finished).
#[wasm_bindgen_test]
async fn reliability_tests_in_order() {
    every_trap_is_a_halide_error_and_the_pipeline_recovers().await;
    a_huge_allocation_fails_cleanly_within_the_limit().await;
}
