// Hand-made modules for attacking the executor where no Halide compiler
// would go: WAT text through wabt (the JavaScript build of the WebAssembly
// Binary Toolkit), and ahead-of-time style pipelines whose
// `halide_filter_metadata_t` is laid out by hand (the wasm32 layout of
// src/core/metadata.rs).
import wabtInit from 'wabt';

const wabt = await wabtInit();

/** WAT text to module bytes. */
export function wat(text) {
  const m = wabt.parseWat('handmade.wat', text, { bulk_memory: true, threads: true });
  try {
    return new Uint8Array(m.toBinary({}).buffer);
  } finally {
    m.destroy();
  }
}

/** Bytes as a WAT data string. */
export function dataString(bytes) {
  return Array.from(bytes, (b) => `\\${b.toString(16).padStart(2, '0')}`).join('');
}

const TYPES = { int32: [0, 32], uint8: [1, 8], float32: [2, 32] };
const KINDS = { scalar: 0, input: 1, output: 2 };

/**
 * Metadata for `args` (`{ name, kind, type, dimensions, default? }`, or
 * `{ namePtr }` to point a name anywhere) laid out at guest address `at`:
 * `{ bytes, pointer }`, the metadata struct at `pointer`.
 */
export function metadataBlock(name, args, at = 1024) {
  const bytes = [];
  const here = () => at + bytes.length;
  const u32 = (v) => bytes.push(v & 255, (v >>> 8) & 255, (v >>> 16) & 255, (v >>> 24) & 255);
  const cstr = (s) => {
    const p = here();
    for (const b of new TextEncoder().encode(s)) bytes.push(b);
    bytes.push(0);
    while (bytes.length % 4) bytes.push(0);
    return p;
  };
  const nameP = cstr(name);
  const targetP = cstr('wasm-32-wasmrt');
  const argNames = args.map((a) => a.namePtr ?? cstr(a.name));
  const defaults = args.map((a) => {
    if (a.default === undefined) return 0;
    const p = here();
    u32(a.default);
    u32(0);
    return p;
  });
  const argsP = here();
  args.forEach((a, i) => {
    const [code, bits] = TYPES[a.type ?? 'int32'];
    u32(argNames[i]);
    u32(KINDS[a.kind ?? 'scalar']);
    u32(a.dimensions ?? 0);
    bytes.push(code, bits, 1, 0);
    u32(defaults[i]);
    u32(0);
    u32(0);
    u32(0);
    u32(0);
  });
  const pointer = here();
  u32(1);
  u32(args.length);
  u32(argsP);
  u32(targetP);
  u32(nameP);
  return { bytes: Uint8Array.from(bytes), pointer };
}

/**
 * An ahead-of-time style module `name` with hand-laid metadata for `args`,
 * whose `name_argv` runs `body` (WAT instructions, `$argv` in scope,
 * returning an i32); `extra` WAT goes inside the module. `pages` of memory.
 */
export function aotModule(name, args, { body = '(i32.const 0)', extra = '', pages = 2, metadataBody } = {}) {
  const { bytes, pointer } = metadataBlock(name, args);
  return wat(`(module
    (memory (export "memory") ${pages})
    (global (export "__heap_base") i32 (i32.const ${64 * 1024}))
    (data (i32.const 1024) "${dataString(bytes)}")
    ${extra}
    (func (export "${name}_metadata") (result i32) ${metadataBody ?? ''} (i32.const ${pointer}))
    (func (export "${name}_argv") (param $argv i32) (result i32) ${body}))`);
}
