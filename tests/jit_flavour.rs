//! Halide's JIT flavour of wasm module, in Node and in Chromium: no
//! metadata, the entry point takes its arguments directly with
//! `__user_context` first, and the runtime reports through the
//! `halide_print`, `halide_error` and `halide_trace_helper` imports.
//!
//! The module is hand-written in the text format (compiled here with the
//! `wat` crate) so that each import is exercised on purpose.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{jit_options, set};

use halide_wasm_executor::Pipeline;
use js_sys::{Array, Float32Array, Function, Object, Reflect, Uint8Array};
use std::cell::RefCell;
use std::rc::Rc;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

/// `scale(uc, in, k, out)`: out[x] = in[x] * k over in's extent; prints a
/// greeting, traces one store event, and for k < 0 reports an error
/// through `halide_error` and returns -1. Returns -2 unless `uc` is -1.
const SCALE_WAT: &str = r#"
(module
  (import "env" "halide_print" (func $print (param i32 i32)))
  (import "env" "halide_error" (func $error (param i32 i32)))
  (import "env" "halide_trace_helper"
    (func $trace (param i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (global (export "__heap_base") i32 (i32.const 4096))
  (data (i32.const 16) "hello from the jit flavour\0a\00")
  (data (i32.const 64) "scaled\00")
  (data (i32.const 80) "my tag\00")
  (data (i32.const 96) "\07\00\00\00\09\00\00\00")
  (data (i32.const 112) "\00\00\c0\3f")
  (data (i32.const 128) "Error: the scale is negative\00")
  (func (export "scale") (param $uc i32) (param $in i32) (param $k f32) (param $out i32) (result i32)
    (local $x i32) (local $n i32) (local $src i32) (local $dst i32)
    (if (i32.ne (local.get $uc) (i32.const -1)) (then (return (i32.const -2))))
    (call $print (local.get $uc) (i32.const 16))
    (drop (call $trace (local.get $uc) (i32.const 64) (i32.const 112) (i32.const 96)
      (i32.const 2) (i32.const 32) (i32.const 1) (i32.const 1) (i32.const 5) (i32.const 0)
      (i32.const 2) (i32.const 80)))
    (if (f32.lt (local.get $k) (f32.const 0))
      (then (call $error (local.get $uc) (i32.const 128)) (return (i32.const -1))))
    ;; extent of dimension 0: in->dim (offset 32) -> extent (offset 4)
    (local.set $n (i32.load offset=4 (i32.load offset=32 (local.get $in))))
    (local.set $src (i32.load offset=12 (local.get $in)))
    (local.set $dst (i32.load offset=12 (local.get $out)))
    (block $done (loop $next
      (br_if $done (i32.ge_s (local.get $x) (local.get $n)))
      (f32.store (i32.add (local.get $dst) (i32.shl (local.get $x) (i32.const 2)))
        (f32.mul (local.get $k)
          (f32.load (i32.add (local.get $src) (i32.shl (local.get $x) (i32.const 2))))))
      (local.set $x (i32.add (local.get $x) (i32.const 1)))
      (br $next)))
    (i32.const 0)))
"#;

fn buffer(data: &Float32Array) -> JsValue {
    let o = Object::new();
    set(&o, "data", data);
    set(&o, "shape", &Array::of1(&JsValue::from(data.length())));
    o.into()
}

struct Seen {
    printed: Rc<RefCell<Vec<String>>>,
    errors: Rc<RefCell<Vec<String>>>,
    traced: Rc<RefCell<Vec<JsValue>>>,
    _keep: Vec<Closure<dyn Fn(JsValue) -> JsValue>>,
}

fn options() -> (Object, Seen) {
    let o = jit_options(
        "scale",
        &[
            ("input", "input", "float32", 1),
            ("k", "scalar", "float32", 0),
            ("output", "output", "float32", 1),
        ],
    );
    let printed = Rc::new(RefCell::new(Vec::new()));
    let errors = Rc::new(RefCell::new(Vec::new()));
    let traced = Rc::new(RefCell::new(Vec::new()));
    let (p, e, t) = (printed.clone(), errors.clone(), traced.clone());
    let keep: Vec<Closure<dyn Fn(JsValue) -> JsValue>> = vec![
        Closure::new(move |s: JsValue| {
            p.borrow_mut().push(s.as_string().unwrap());
            JsValue::UNDEFINED
        }),
        Closure::new(move |s: JsValue| {
            e.borrow_mut().push(s.as_string().unwrap());
            JsValue::UNDEFINED
        }),
        Closure::new(move |ev: JsValue| {
            t.borrow_mut().push(ev);
            JsValue::from(42)
        }),
    ];
    for (k, c) in ["print", "error", "trace"].iter().zip(&keep) {
        set(&o, k, c.as_ref().unchecked_ref::<Function>());
    }
    (
        o,
        Seen {
            printed,
            errors,
            traced,
            _keep: keep,
        },
    )
}

fn run_args(input: &Float32Array, k: f32, out: &Float32Array) -> JsValue {
    let a = Object::new();
    set(&a, "input", &buffer(input));
    set(&a, "k", &JsValue::from(k));
    set(&a, "output", &buffer(out));
    a.into()
}

fn message(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .unwrap()
        .as_string()
        .unwrap()
}

async fn load() -> (Pipeline, Seen) {
    let bytes = Uint8Array::from(&wat::parse_str(SCALE_WAT).unwrap()[..]);
    let (o, seen) = options();
    let p = Pipeline::load(bytes.into(), o.into())
        .await
        .map_err(|e| message(&e))
        .unwrap();
    (p, seen)
}

async fn jit_flavour_runs_with_the_callers_argument_list() {
    let (p, seen) = load().await;
    // The executor passes __user_context; the caller never sees it.
    let names: Vec<String> = p
        .arguments()
        .iter()
        .map(|a| {
            Reflect::get(&a, &"name".into())
                .unwrap()
                .as_string()
                .unwrap()
        })
        .collect();
    assert_eq!(names, ["input", "k", "output"]);
    let input = Float32Array::from(&[1.0f32, 2.0, 3.5][..]);
    let out = Float32Array::new_with_length(3);
    p.run(run_args(&input, 2.0, &out))
        .map_err(|e| message(&e))
        .unwrap();
    assert_eq!(out.to_vec(), vec![2.0, 4.0, 7.0]);
    assert_eq!(
        seen.printed.borrow().as_slice(),
        ["hello from the jit flavour\n"]
    );
    let ev = &seen.traced.borrow()[0];
    let get = |k: &str| Reflect::get(ev, &k.into()).unwrap();
    assert_eq!(get("event").as_string().unwrap(), "store");
    assert_eq!(get("func").as_string().unwrap(), "scaled");
    assert_eq!(get("value").as_f64().unwrap(), 1.5);
    assert_eq!(get("parentId").as_f64().unwrap(), 5.0);
    assert_eq!(get("traceTag").as_string().unwrap(), "my tag");
    let coords = js_sys::Int32Array::from(get("coordinates")).to_vec();
    assert_eq!(coords, vec![7, 9]);
}

async fn jit_flavour_errors_reach_options_error_and_leave_outputs_alone() {
    let (p, seen) = load().await;
    let input = Float32Array::from(&[1.0f32, 2.0][..]);
    let out = Float32Array::from(&[9.0f32, 9.0][..]);
    let e = p.run(run_args(&input, -1.0, &out)).unwrap_err();
    let msg = message(&e);
    assert!(msg.contains("the scale is negative"), "{msg}");
    assert_eq!(
        Reflect::get(&e, &"code".into()).unwrap().as_f64(),
        Some(-1.0)
    );
    assert_eq!(out.to_vec(), vec![9.0, 9.0], "outputs untouched");
    assert_eq!(seen.errors.borrow().len(), 1);
    assert!(seen.errors.borrow()[0].contains("the scale is negative"));
    // The pipeline is still usable.
    p.run(run_args(&input, 3.0, &out))
        .map_err(|e| message(&e))
        .unwrap();
    assert_eq!(out.to_vec(), vec![3.0, 6.0]);
}

async fn a_jit_module_needs_its_argument_list() {
    let bytes = Uint8Array::from(&wat::parse_str(SCALE_WAT).unwrap()[..]);
    let e = Pipeline::load(bytes.into(), JsValue::UNDEFINED)
        .await
        .err()
        .unwrap();
    assert!(
        message(&e).contains("no Halide pipeline"),
        "{}",
        message(&e)
    );
}

/// The tests above, one after the other (see tests/corpus.rs: as
/// concurrent async tests the headless ChromeDriver run sometimes never
/// finished).
#[wasm_bindgen_test]
async fn jit_flavour_tests_in_order() {
    jit_flavour_runs_with_the_callers_argument_list().await;
    jit_flavour_errors_reach_options_error_and_leave_outputs_alone().await;
    a_jit_module_needs_its_argument_list().await;
}
