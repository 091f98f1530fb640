//! The options object of `Pipeline.load` / `Pipeline.loadSync`.

use crate::core::error::{Error, Result};
use crate::js::guest::MAX_WASM32_BYTES;
use js_sys::{Function, Object, Reflect};
use wasm_bindgen::{JsCast, JsValue};

/// What the guest's imports may reach on the host: the caller's callbacks and
/// environment, and the memory limit. Shared by every instance of a pipeline.
pub struct Hooks {
    /// `options.print(text)`; `None`: the console.
    pub print: Option<Function>,
    /// `options.error(text)`: sees Halide's error text before the throw.
    pub error: Option<Function>,
    /// `options.env`: the only environment `getenv` sees.
    pub env: Vec<(String, String)>,
    /// `options.maxMemoryBytes`, at most 4 GiB.
    pub max_memory_bytes: u64,
}

/// Parsed `Pipeline.load` options.
pub struct Options {
    pub entry: Option<String>,
    pub hooks: Hooks,
}

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn bad(option: &str, msg: &str) -> Error {
    Error::bad_input(format!("option '{option}': {msg}"))
}

fn function(obj: &JsValue, key: &str) -> Result<Option<Function>> {
    let v = get(obj, key);
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    v.dyn_into::<Function>()
        .map(Some)
        .map_err(|_| bad(key, "expected a function"))
}

const KNOWN: &[&str] = &["entry", "print", "error", "env", "maxMemoryBytes"];

impl Options {
    pub fn parse(v: &JsValue) -> Result<Options> {
        if v.is_undefined() || v.is_null() {
            return Options::parse(&Object::new().into());
        }
        if !v.is_object() {
            return Err(Error::bad_input("options must be an object"));
        }
        for k in Object::keys(v.unchecked_ref::<Object>()).iter() {
            let k = k.as_string().unwrap_or_default();
            if !KNOWN.contains(&k.as_str()) {
                return Err(Error::bad_input(format!(
                    "unknown option '{k}'; known options: {}",
                    KNOWN.join(", ")
                )));
            }
        }
        let entry = match get(v, "entry") {
            e if e.is_undefined() || e.is_null() => None,
            e => Some(
                e.as_string()
                    .ok_or_else(|| bad("entry", "expected a string"))?,
            ),
        };
        let env_v = get(v, "env");
        let mut env = Vec::new();
        if !env_v.is_undefined() && !env_v.is_null() {
            if !env_v.is_object() {
                return Err(bad("env", "expected an object of strings"));
            }
            for pair in Object::entries(env_v.unchecked_ref::<Object>()).iter() {
                let pair: js_sys::Array = pair.unchecked_into();
                let k = pair.get(0).as_string().unwrap_or_default();
                let val = pair
                    .get(1)
                    .as_string()
                    .ok_or_else(|| bad("env", &format!("value of '{k}' is not a string")))?;
                env.push((k, val));
            }
        }
        let max_v = get(v, "maxMemoryBytes");
        let max_memory_bytes = if max_v.is_undefined() || max_v.is_null() {
            MAX_WASM32_BYTES
        } else {
            let n = max_v
                .as_f64()
                .filter(|n| *n > 0.0 && n.fract() == 0.0)
                .ok_or_else(|| bad("maxMemoryBytes", "expected a positive whole number"))?;
            (n as u64).min(MAX_WASM32_BYTES)
        };
        Ok(Options {
            entry,
            hooks: Hooks {
                print: function(v, "print")?,
                error: function(v, "error")?,
                env,
                max_memory_bytes,
            },
        })
    }
}
