//! The options object of `Pipeline.load` / `Pipeline.loadSync`.

use crate::core::error::{Error, Result};
use crate::core::metadata::{ArgKind, Argument};
use crate::core::types::ElemKind;
use crate::js::convert::get;
use crate::js::guest::MAX_WASM32_BYTES;
use js_sys::{Function, Object};
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
    /// `options.trace(event)`: receives trace events, returns an id.
    pub trace: Option<Function>,
    /// `options.externs`: the pipeline's extern stages by import name.
    pub externs: Vec<Extern>,
}

/// How an extern stage's arguments reach JavaScript.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExternArg {
    /// A `halide_buffer_t*`, given as a buffer object.
    Buffer,
    /// A scalar of this type, given as a number, bigint or boolean.
    Scalar(ElemKind),
}

/// One entry of `options.externs`.
pub struct Extern {
    pub name: String,
    pub function: Function,
    /// Declared argument kinds; `None`: every number is a buffer pointer,
    /// every bigint a 64-bit integer.
    pub args: Option<Vec<ExternArg>>,
}

/// Parsed `Pipeline.load` options.
pub struct Options {
    pub entry: Option<String>,
    /// `options.arguments`: the argument list of a module without metadata
    /// (Halide's JIT flavour), as the C++ executor is handed it.
    pub arguments: Option<Vec<Argument>>,
    /// `options.threads`: how many threads a threaded module runs on
    /// (`None`: the host's cores).
    pub threads: Option<u32>,
    pub hooks: Hooks,
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

const KNOWN: &[&str] = &[
    "entry",
    "arguments",
    "print",
    "error",
    "trace",
    "env",
    "externs",
    "maxMemoryBytes",
    "threads",
];

fn externs(v: &JsValue) -> Result<Vec<Extern>> {
    let v = get(v, "externs");
    if v.is_undefined() || v.is_null() {
        return Ok(Vec::new());
    }
    if !v.is_object() {
        return Err(bad(
            "externs",
            "expected an object of functions by extern name",
        ));
    }
    let mut out = Vec::new();
    for pair in Object::entries(v.unchecked_ref::<Object>()).iter() {
        let pair: js_sys::Array = pair.unchecked_into();
        let name = pair.get(0).as_string().unwrap_or_default();
        let entry = pair.get(1);
        let (function, args) = if let Some(f) = entry.dyn_ref::<Function>() {
            (f.clone(), None)
        } else if entry.is_object() {
            let f = get(&entry, "fn").dyn_into::<Function>().map_err(|_| {
                bad(
                    "externs",
                    &format!("'{name}' must be a function or {{ fn, args }}"),
                )
            })?;
            let list = get(&entry, "args");
            let args = if list.is_undefined() {
                None
            } else {
                let list: js_sys::Array = list.dyn_into().map_err(|_| {
                    bad(
                        "externs",
                        &format!("'{name}'.args must be an array of type names"),
                    )
                })?;
                let mut kinds = Vec::new();
                for t in list.iter() {
                    let t = t.as_string().unwrap_or_default();
                    kinds.push(match t.as_str() {
                        "buffer" => ExternArg::Buffer,
                        other => ExternArg::Scalar(ElemKind::from_name(other).ok_or_else(|| {
                            bad("externs", &format!("'{name}'.args: unknown type '{other}' (use 'buffer' or a type name)"))
                        })?),
                    });
                }
                Some(kinds)
            };
            (f, args)
        } else {
            return Err(bad(
                "externs",
                &format!("'{name}' must be a function or {{ fn, args }}"),
            ));
        };
        out.push(Extern {
            name,
            function,
            args,
        });
    }
    Ok(out)
}

/// `options.arguments`: `[{ name, kind, type, dimensions }]` in call order.
fn arguments(v: &JsValue) -> Result<Option<Vec<Argument>>> {
    let v = get(v, "arguments");
    if v.is_undefined() || v.is_null() {
        return Ok(None);
    }
    let list: js_sys::Array = v.dyn_into().map_err(|_| {
        bad(
            "arguments",
            "expected an array of { name, kind, type, dimensions }",
        )
    })?;
    let mut out = Vec::new();
    for (i, a) in list.iter().enumerate() {
        let field = |k: &str| get(&a, k);
        let name = field("name")
            .as_string()
            .ok_or_else(|| bad("arguments", &format!("[{i}].name must be a string")))?;
        let kind = field("kind")
            .as_string()
            .and_then(|k| ArgKind::from_name(&k))
            .ok_or_else(|| {
                bad(
                    "arguments",
                    &format!("'{name}'.kind must be 'input', 'output' or 'scalar'"),
                )
            })?;
        let elem = field("type")
            .as_string()
            .and_then(|t| ElemKind::from_name(&t))
            .ok_or_else(|| {
                bad(
                    "arguments",
                    &format!("'{name}'.type must be a type name such as 'uint8'"),
                )
            })?;
        let dimensions = match field("dimensions").as_f64() {
            Some(d) if (0.0..=64.0).contains(&d) && d.fract() == 0.0 => d as u32,
            None if kind == ArgKind::Scalar => 0,
            _ => {
                return Err(bad(
                    "arguments",
                    &format!("'{name}'.dimensions must be a whole number"),
                ))
            }
        };
        if out.iter().any(|b: &Argument| b.name == name) {
            return Err(bad(
                "arguments",
                &format!("two arguments are named '{name}'"),
            ));
        }
        out.push(Argument {
            name,
            kind,
            dimensions,
            ty: elem.halide_type(),
            elem: Some(elem),
            default: None,
            min: None,
            max: None,
        });
    }
    Ok(Some(out))
}

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
        let threads_v = get(v, "threads");
        let threads = if threads_v.is_undefined() || threads_v.is_null() {
            None
        } else {
            Some(
                threads_v
                    .as_f64()
                    .filter(|n| (1.0..=256.0).contains(n) && n.fract() == 0.0)
                    .ok_or_else(|| bad("threads", "expected a whole number from 1 to 256"))?
                    as u32,
            )
        };
        Ok(Options {
            entry,
            arguments: arguments(v)?,
            threads,
            hooks: Hooks {
                print: function(v, "print")?,
                error: function(v, "error")?,
                env,
                max_memory_bytes,
                trace: function(v, "trace")?,
                externs: externs(v)?,
            },
        })
    }
}
