//! The fixture corpus, run by the crate itself in a JavaScript engine:
//! `wasm-pack test --node` and `wasm-pack test --headless --chrome`.
//!
//! Every case in `fixtures/manifest.json` is a real Halide pipeline compiled
//! for wasm by `scripts/gen_fixtures.py`, with inputs and the outputs native
//! Halide computed for them. Each case is loaded with `Pipeline::load` (the
//! asynchronous path a page uses), run, and its outputs compared with
//! native Halide's: bit-exact for integers, within the case's stated
//! tolerance for floats.
#![cfg(target_arch = "wasm32")]

use halide_wasm_executor::Pipeline;
use js_sys::{Object, Reflect, Uint8Array};
use serde_json::Value;
use std::collections::HashMap;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

include!(concat!(env!("OUT_DIR"), "/fixtures.rs"));

fn file(name: &str) -> &'static [u8] {
    FIXTURES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, b)| *b)
        .unwrap_or_else(|| panic!("fixture {name} missing"))
}

fn manifest() -> Value {
    serde_json::from_slice(file("manifest.json")).expect("manifest.json parses")
}

fn array_for(ty: &str, bytes: &[u8]) -> JsValue {
    let u8s = Uint8Array::from(bytes);
    let buf = u8s.buffer();
    let n = |size: usize| (bytes.len() / size) as u32;
    match ty {
        "uint8" | "bool" => u8s.into(),
        "int8" => js_sys::Int8Array::new_with_byte_offset_and_length(&buf, 0, n(1)).into(),
        "int16" => js_sys::Int16Array::new_with_byte_offset_and_length(&buf, 0, n(2)).into(),
        "uint16" | "float16" | "bfloat16" => {
            js_sys::Uint16Array::new_with_byte_offset_and_length(&buf, 0, n(2)).into()
        }
        "int32" => js_sys::Int32Array::new_with_byte_offset_and_length(&buf, 0, n(4)).into(),
        "uint32" => js_sys::Uint32Array::new_with_byte_offset_and_length(&buf, 0, n(4)).into(),
        "float32" => js_sys::Float32Array::new_with_byte_offset_and_length(&buf, 0, n(4)).into(),
        "float64" => js_sys::Float64Array::new_with_byte_offset_and_length(&buf, 0, n(8)).into(),
        "int64" => js_sys::BigInt64Array::new_with_byte_offset_and_length(&buf, 0, n(8)).into(),
        "uint64" => js_sys::BigUint64Array::new_with_byte_offset_and_length(&buf, 0, n(8)).into(),
        other => panic!("unknown type {other}"),
    }
}

fn elem_size(ty: &str) -> usize {
    match ty {
        "uint8" | "int8" | "bool" => 1,
        "uint16" | "int16" | "float16" | "bfloat16" => 2,
        "uint32" | "int32" | "float32" => 4,
        _ => 8,
    }
}

fn js_numbers(v: &Value) -> JsValue {
    let a = js_sys::Array::new();
    for x in v.as_array().into_iter().flatten() {
        a.push(&JsValue::from_f64(x.as_f64().unwrap()));
    }
    a.into()
}

fn scalar(ty: &str, v: &Value) -> JsValue {
    match (ty, v) {
        (_, Value::Bool(b)) => JsValue::from_bool(*b),
        ("int64", Value::String(s)) => JsValue::from(s.parse::<i64>().unwrap()),
        ("uint64", Value::String(s)) => JsValue::from(s.parse::<u64>().unwrap()),
        ("int64", Value::Number(n)) => JsValue::from(n.as_i64().unwrap()),
        ("uint64", Value::Number(n)) => JsValue::from(n.as_u64().unwrap()),
        (_, Value::Number(n)) => JsValue::from_f64(n.as_f64().unwrap()),
        _ => panic!("bad scalar {v}"),
    }
}

/// Decodes element `i` of a little-endian integer buffer.
fn integer(ty: &str, b: &[u8], i: usize) -> i128 {
    let s = elem_size(ty);
    let mut w = [0u8; 16];
    w[..s].copy_from_slice(&b[i * s..(i + 1) * s]);
    let v = i128::from_le_bytes(w);
    let signed = ty.starts_with("int");
    if signed && s < 16 && (v >> (8 * s - 1)) & 1 == 1 {
        v - (1i128 << (8 * s))
    } else {
        v
    }
}

/// Decodes element `i` of a little-endian buffer as f64 (for tolerance checks).
fn element(ty: &str, b: &[u8], i: usize) -> f64 {
    let s = elem_size(ty);
    let w = &b[i * s..(i + 1) * s];
    match ty {
        "float16" => half::f16::from_bits(u16::from_le_bytes([w[0], w[1]])).to_f64(),
        "bfloat16" => half::bf16::from_bits(u16::from_le_bytes([w[0], w[1]])).to_f64(),
        "float32" => f32::from_le_bytes(w.try_into().unwrap()) as f64,
        "float64" => f64::from_le_bytes(w.try_into().unwrap()),
        _ => unreachable!(),
    }
}

fn compare(
    case: &str,
    arg: &str,
    ty: &str,
    got: &[u8],
    want: &[u8],
    tol: f64,
) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{case}/{arg}: {} bytes, expected {}",
            got.len(),
            want.len()
        ));
    }
    let float = matches!(ty, "float16" | "bfloat16" | "float32" | "float64");
    if !float && tol > 0.0 {
        for i in 0..got.len() / elem_size(ty) {
            let (a, b) = (integer(ty, got, i), integer(ty, want, i));
            if (a - b).abs() > tol as i128 {
                return Err(format!(
                    "{case}/{arg}: element {i} is {a}, native Halide gives {b} (tolerance {tol})"
                ));
            }
        }
        return Ok(());
    }
    if tol == 0.0 {
        if let Some(i) = got.iter().zip(want).position(|(a, b)| a != b) {
            return Err(format!(
                "{case}/{arg}: byte {i} differs ({} vs {})",
                got[i], want[i]
            ));
        }
        return Ok(());
    }
    for i in 0..got.len() / elem_size(ty) {
        let (a, b) = (element(ty, got, i), element(ty, want, i));
        let ok = (a.is_nan() && b.is_nan()) || a == b || (a - b).abs() <= tol * b.abs().max(1.0);
        if !ok {
            return Err(format!(
                "{case}/{arg}: element {i} is {a}, native Halide gives {b} (tolerance {tol})"
            ));
        }
    }
    Ok(())
}

struct Prepared {
    args: Object,
    outputs: Vec<(String, String, Uint8Array, &'static [u8])>,
}

fn prepare(case: &Value) -> Prepared {
    let args = Object::new();
    let mut outputs = Vec::new();
    for (name, a) in case["args"].as_object().unwrap() {
        let kind = a["kind"].as_str().unwrap();
        let ty = a["type"].as_str().unwrap();
        let v = if kind == "scalar" {
            match a.get("value") {
                Some(v) => scalar(ty, v),
                None => continue,
            }
        } else {
            let expected = a.get("file").and_then(|f| f.as_str()).map(file);
            let o = Object::new();
            let data = if kind == "input" {
                array_for(ty, expected.unwrap())
            } else {
                let span = span(a) * elem_size(ty);
                array_for(ty, &vec![0u8; span])
            };
            Reflect::set(&o, &"data".into(), &data).unwrap();
            for k in ["shape", "strides", "mins"] {
                if let Some(v) = a.get(k) {
                    Reflect::set(&o, &k.into(), &js_numbers(v)).unwrap();
                }
            }
            if kind == "output" {
                // A byte view of the same memory, to read the result back.
                let view = Uint8Array::new(&Reflect::get(&data, &"buffer".into()).unwrap());
                outputs.push((name.clone(), ty.to_string(), view, expected.unwrap_or(&[])));
            }
            o.into()
        };
        Reflect::set(&args, &JsValue::from_str(name), &v).unwrap();
    }
    Prepared { args, outputs }
}

fn span(a: &Value) -> usize {
    let shape: Vec<i64> = a["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_i64().unwrap())
        .collect();
    let strides: Vec<i64> = match a.get("strides") {
        Some(s) => s
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_i64().unwrap())
            .collect(),
        None => shape
            .iter()
            .scan(1, |acc, e| {
                let s = *acc;
                *acc *= e;
                Some(s)
            })
            .collect(),
    };
    if shape.contains(&0) {
        return 0;
    }
    1 + shape
        .iter()
        .zip(&strides)
        .map(|(e, s)| ((e - 1) * s) as usize)
        .sum::<usize>()
}

/// Whether the tests run in Node (not a page).
fn in_node() -> bool {
    Reflect::get(&js_sys::global(), &"process".into())
        .map(|p| p.is_object())
        .unwrap_or(false)
}

fn message(e: &JsValue) -> String {
    Reflect::get(e, &"message".into())
        .ok()
        .and_then(|m| m.as_string())
        .unwrap_or_default()
}

async fn every_fixture_case_matches_native_halide() {
    let m = manifest();
    let mut pipelines: HashMap<String, Pipeline> = HashMap::new();
    let mut failures = Vec::new();
    let mut last_ok: HashMap<String, &Value> = HashMap::new();
    let cases = m["cases"].as_array().unwrap();
    assert!(cases.len() >= 10, "the corpus has {} cases", cases.len());
    for case in cases {
        let name = case["name"].as_str().unwrap();
        if case.get("externs").is_some() {
            // Extern stages are JavaScript; tests/node runs those cases.
            continue;
        }
        let module = case["module"].as_str().unwrap();
        if m["modules"][module]["threads"] == Value::Bool(true) && !in_node() {
            // A threaded module on a page's main thread runs on one thread
            // (its pool needs a worker: runAsync) and needs a cross-origin
            // isolated page: tests/node/browser-threads.test.mjs runs these
            // in Chromium, threads.test.mjs in Node.
            continue;
        }
        if !pipelines.contains_key(module) {
            let wasm = m["modules"][module]["wasm"].as_str().unwrap();
            let bytes = Uint8Array::from(file(wasm));
            let opts = Object::new();
            let print = js_sys::Function::new_no_args("");
            Reflect::set(&opts, &"print".into(), &print).unwrap();
            let p = Pipeline::load(bytes.into(), opts.into())
                .await
                .unwrap_or_else(|e| panic!("{module}: {}", message(&e)));
            pipelines.insert(module.to_string(), p);
        }
        let p = &pipelines[module];
        let prep = prepare(case);
        let tol = case["tolerance"].as_f64().unwrap_or(0.0);
        let result = p.run(prep.args.into());
        match (&case["expect_error"], result) {
            (Value::Null, Ok(_)) => {
                last_ok.insert(module.to_string(), case);
                for (arg, ty, got, want) in &prep.outputs {
                    if let Err(e) = compare(name, arg, ty, &got.to_vec(), want, tol) {
                        failures.push(e);
                    }
                }
            }
            (Value::Null, Err(e)) => failures.push(format!("{name}: {}", message(&e))),
            (expect, Ok(_)) => failures.push(format!("{name}: succeeded, expected {expect}")),
            (expect, Err(e)) => {
                let want = expect["message_contains"].as_str().unwrap_or("");
                if !message(&e).contains(want) {
                    failures.push(format!("{name}: error {:?} lacks {want:?}", message(&e)));
                }
                // The outputs were left as they were (all zero).
                for (arg, _, got, _) in &prep.outputs {
                    if got.to_vec().iter().any(|b| *b != 0) {
                        failures.push(format!("{name}: output {arg} changed by a failed run"));
                    }
                }
                // The pipeline recovers (a fresh instance after an abort,
                // made synchronously even on a page's main thread).
                if let Some(ok) = last_ok.get(module) {
                    let again = prepare(ok);
                    match p.run(again.args.into()) {
                        Ok(_) => {
                            for (arg, ty, got, want) in &again.outputs {
                                if let Err(e) = compare(name, arg, ty, &got.to_vec(), want, tol) {
                                    failures.push(format!("after {name}: {e}"));
                                }
                            }
                        }
                        Err(e) => failures.push(format!("after {name}: {}", message(&e))),
                    }
                }
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// A page hands `load` what `fetch` gives it: a `Response` (compiled while it
/// streams), or a promise of one. Node has `Response` too.
async fn loads_from_a_fetch_response() {
    let init = web_sys::ResponseInit::new();
    let headers = Object::new();
    Reflect::set(&headers, &"Content-Type".into(), &"application/wasm".into()).unwrap();
    init.set_headers(&headers);
    let bytes = Uint8Array::from(file("half_f16.wasm"));
    let response =
        web_sys::Response::new_with_opt_buffer_source_and_init(Some(&bytes), &init).unwrap();
    let p = Pipeline::load(response.into(), JsValue::UNDEFINED)
        .await
        .map_err(|e| message(&e))
        .unwrap();
    assert_eq!(p.name(), "half_f16");
    let response =
        web_sys::Response::new_with_opt_buffer_source_and_init(Some(&bytes), &init).unwrap();
    let promise = js_sys::Promise::resolve(&response);
    let p = Pipeline::load(promise.into(), JsValue::UNDEFINED)
        .await
        .map_err(|e| message(&e))
        .unwrap();
    assert_eq!(p.name(), "half_f16");
}

/// Where the engine has `Float16Array` (Chromium does; Node 20 does not),
/// float16 buffers may be given as one.
async fn float16_buffers_take_a_float16array_where_there_is_one() {
    let global = js_sys::global();
    if !Reflect::has(&global, &"Float16Array".into()).unwrap() {
        // Node 20; every Chromium this project supports has one.
        assert!(
            !Reflect::has(&global, &"document".into()).unwrap(),
            "a browser without Float16Array"
        );
        return;
    }
    let m = manifest();
    let case = m["cases"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "half_f16")
        .unwrap();
    let bytes = Uint8Array::from(file("half_f16.wasm"));
    let p = Pipeline::load(bytes.into(), JsValue::UNDEFINED)
        .await
        .map_err(|e| message(&e))
        .unwrap();
    let input = Uint8Array::from(file(case["args"]["input"]["file"].as_str().unwrap()));
    let n = input.length() / 2;
    let args = Object::new();
    let buf = |data: &JsValue| {
        let o = Object::new();
        Reflect::set(&o, &"data".into(), data).unwrap();
        Reflect::set(&o, &"shape".into(), &js_sys::Array::of1(&n.into())).unwrap();
        o
    };
    let f16_in = js_sys::Float16Array::new_with_byte_offset_and_length(&input.buffer(), 0, n);
    let f16_out = js_sys::Float16Array::new_with_length(n);
    Reflect::set(&args, &"input".into(), &buf(&f16_in.into())).unwrap();
    Reflect::set(&args, &"half".into(), &buf(&f16_out.clone().into())).unwrap();
    p.run(args.into()).map_err(|e| message(&e)).unwrap();
    let got = Uint8Array::new(&f16_out.buffer()).to_vec();
    let want = file(case["args"]["half"]["file"].as_str().unwrap());
    assert_eq!(got, want);
}

/// Extern stages and trace events, in both engines: `extern_stage` with its
/// JavaScript body written here as a Rust closure (with the bounds-query
/// round trip), and `traced` with a trace callback.
async fn extern_stages_and_trace_events() {
    let m = manifest();
    let case_named = |n: &str| {
        m["cases"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == n)
            .unwrap()
    };

    // ext[x] = pre[x] + pre[x + 1]: in a bounds query, ask for one more.
    let ext = Closure::<dyn Fn(JsValue, JsValue) -> JsValue>::new(|pre: JsValue, out: JsValue| {
        let get = |o: &JsValue, k: &str| Reflect::get(o, &k.into()).unwrap();
        let first =
            |o: &JsValue, k: &str| Reflect::get_u32(&get(o, k), 0).unwrap().as_f64().unwrap();
        if get(&pre, "data").is_null() {
            Reflect::set_u32(&get(&pre, "mins"), 0, &first(&out, "mins").into()).unwrap();
            Reflect::set_u32(&get(&pre, "shape"), 0, &(first(&out, "shape") + 1.0).into()).unwrap();
            return JsValue::from(0);
        }
        let src = js_sys::Int32Array::from(get(&pre, "data"));
        let dst = js_sys::Int32Array::from(get(&out, "data"));
        let at = (first(&out, "mins") - first(&pre, "mins")) as u32;
        for i in 0..first(&out, "shape") as u32 {
            dst.set_index(i, src.get_index(at + i) + src.get_index(at + i + 1));
        }
        JsValue::from(0)
    });
    let externs = Object::new();
    Reflect::set(&externs, &"ext_sum_next".into(), ext.as_ref()).unwrap();
    let opts = Object::new();
    Reflect::set(&opts, &"externs".into(), &externs).unwrap();
    let bytes = Uint8Array::from(file("extern_stage.wasm"));
    let p = Pipeline::load(bytes.into(), opts.into())
        .await
        .map_err(|e| message(&e))
        .unwrap();
    let case = case_named("extern_stage");
    let prep = prepare(case);
    p.run(prep.args.into()).map_err(|e| message(&e)).unwrap();
    for (arg, ty, got, want) in &prep.outputs {
        compare("extern_stage", arg, ty, &got.to_vec(), want, 0.0).unwrap();
    }

    let stores = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
    let seen = stores.clone();
    let trace = Closure::<dyn Fn(JsValue) -> JsValue>::new(move |e: JsValue| {
        let get = |k: &str| Reflect::get(&e, &k.into()).unwrap();
        if get("event").as_string().as_deref() == Some("store")
            && get("func").as_string().as_deref() == Some("traced")
        {
            seen.borrow_mut().push(get("value").as_f64().unwrap());
        }
        JsValue::from(0)
    });
    let opts = Object::new();
    Reflect::set(&opts, &"trace".into(), trace.as_ref()).unwrap();
    let bytes = Uint8Array::from(file("traced.wasm"));
    let p = Pipeline::load(bytes.into(), opts.into())
        .await
        .map_err(|e| message(&e))
        .unwrap();
    let prep = prepare(case_named("traced"));
    p.run(prep.args.into()).map_err(|e| message(&e)).unwrap();
    assert_eq!(stores.borrow().as_slice(), &[1.0, 3.0, 5.0, 7.0, 9.0, 11.0]);
}

/// The corpus tests, one after the other. As concurrent async tests the
/// headless ChromeDriver run (wasm-bindgen-test-runner 0.2.130, Chromium
/// 156) often never finished: the renderer stopped answering, with no
/// output, after tests had been invoked. Each test alone, all of them in
/// the runner's interactive page, and overlapping loads and runs in a page
/// with the release build all pass; in order they pass in every mode.
#[wasm_bindgen_test]
async fn corpus_tests_in_order() {
    every_fixture_case_matches_native_halide().await;
    loads_from_a_fetch_response().await;
    float16_buffers_take_a_float16array_where_there_is_one().await;
    extern_stages_and_trace_events().await;
}
