//! Lists the fixture corpus (`fixtures/`) for the crate's wasm tests, which
//! cannot read files at run time in a browser: `$OUT_DIR/fixtures.rs` holds
//! `FIXTURES`, every fixture file's name and bytes. The library itself never
//! includes it.

use std::{env, fs, path::Path};

fn main() {
    let root = env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR");
    let dir = Path::new(&root).join("fixtures");
    println!("cargo:rerun-if-changed=fixtures");
    let mut names: Vec<_> = fs::read_dir(&dir)
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".wasm") || n.ends_with(".json") || n.ends_with(".bin"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    let mut s = String::from(
        "/// Every fixture file: (name, bytes).\npub static FIXTURES: &[(&str, &[u8])] = &[\n",
    );
    for n in names {
        let path = dir.join(&n);
        s.push_str(&format!(
            "    ({n:?}, include_bytes!({:?})),\n",
            path.display().to_string()
        ));
    }
    s.push_str("];\n");
    let out = Path::new(&env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("fixtures.rs");
    fs::write(out, s).expect("write fixtures.rs");
}
