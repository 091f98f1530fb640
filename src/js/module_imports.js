// The JavaScript half of `imports::required` (src/js/imports.rs): a
// module's imports in one call, as "module\0name\0kind\0" for each, instead
// of three property reads and three strings across the boundary per import
// (~100 of a load's ~430 crossings, before). Null when a name holds a NUL
// (wasm allows it): Rust then reads the descriptors one by one.
export function moduleImports(module) {
  let s = '';
  for (const d of WebAssembly.Module.imports(module)) {
    if (d.module.includes('\0') || d.name.includes('\0')) return null;
    s += d.module + '\0' + d.name + '\0' + d.kind + '\0';
  }
  return s;
}
