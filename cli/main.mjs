// halide-wasm-run: inspect and run Halide wasm pipelines from the shell.
//
//   halide-wasm-run info PIPELINE.wasm [--json] [--entry NAME]
//   halide-wasm-run run PIPELINE.wasm --input in.png --output out.png [--arg name=value ...]
//   halide-wasm-run run PIPELINE.wasm --input-raw in.bin --shape 640,480 --type float32 --output out.bin
//   halide-wasm-run run PIPELINE.wasm --output-dir out/ images/*.png
//   halide-wasm-run types PIPELINE.wasm [--entry NAME] [-o PIPELINE.d.ts]
//
// `main(argv)` returns the exit code or throws a `UsageError` (exit code in
// `exitCode`) or a `HalideError`; `cli(argv)` turns those into a message on
// stderr and sets `process.exitCode`, and returns the exit code.
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, mkdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { Pipeline, HalideError } from '../lib/node.mjs';
import { declarationsFor } from './types.mjs';
import { ARRAYS, IMAGE_TYPES, decodeImage, encodeImage, layout, layoutKinds, imageToBuffer, emptyBuffer, bufferToImage } from './image.mjs';

const PROG = 'halide-wasm-run';

const EXIT = `Exit codes:
  0  success
  1  the pipeline failed (a trap, an abort, a module that is not a usable
     pipeline), or some images of a batch did
  2  usage error: unknown command, option or argument, a missing or unreadable
     file, a value outside the pipeline's range, an image or raw buffer that
     does not fit the pipeline`;

const USAGE = {
  main: `Usage: ${PROG} <command> [options]

Commands:
  info PIPELINE.wasm     describe the pipeline's entry point and arguments
  run PIPELINE.wasm      run the pipeline on an image, a raw buffer, or many images
  types PIPELINE.wasm    write TypeScript declarations of the pipeline's arguments

Options:
  -h, --help             show this help, or a command's with '${PROG} <command> --help'

${EXIT}`,
  info: `Usage: ${PROG} info PIPELINE.wasm [--json] [--entry NAME]

Prints the pipeline's entry point and target, and each argument in call
order: its kind (input, output, scalar), element type, dimensions, and the
default, min and max Halide records for scalars.

Options:
  --json         print it as JSON instead (64-bit integers as strings)
  --entry NAME   the pipeline to describe when the module holds several
  -h, --help     show this help

${EXIT}`,
  types: `Usage: ${PROG} types PIPELINE.wasm [--entry NAME] [-o FILE.d.ts]

Writes TypeScript declarations for the pipeline, from its metadata: types
NameArgs (run()'s argument object: each buffer by element type, e.g.
BufferOf<'uint8'>; scalars as number, bigint for 64-bit integers, boolean
for bool; scalars with a default and outputs run() can allocate optional),
NameOutputs (what run() returns) and NamePipeline. Use them with
  const p: NamePipeline = await Pipeline.load<NameArgs, NameOutputs>(url);

Options:
  -o, --output FILE   where to write them (default: standard output)
  --entry NAME        the pipeline to describe when the module holds several
  -h, --help          show this help

${EXIT}`,
  run: `Usage:
  ${PROG} run PIPELINE.wasm --input IN.png --output OUT.png [--arg NAME=VALUE ...]
  ${PROG} run PIPELINE.wasm --input-raw IN.bin --shape W,H[,...] [--type TYPE] --output OUT.bin
  ${PROG} run PIPELINE.wasm --output-dir DIR IMAGE... [--arg NAME=VALUE ...]

Images: PNG or JPEG (recognised by content, not by name), fitted to the
pipeline's first input buffer: 8/16-bit integers, or floats in [0, 1]; gray
for a 2-D buffer, planar RGB [w, h, 3] or interleaved RGBA [w, h, 4] for a
3-D one (planar first; interleaved when the pipeline's constraints refuse
planar). The first output gets the image's width and height and is written
as a PNG (16-bit for uint16 outputs), or a JPEG when the name ends in .jpg or
.jpeg. Other output buffers are computed and dropped.

Options:
  -i, --input FILE        the image for the first input buffer
  -o, --output FILE       where to write the first output buffer
  --input-raw FILE        raw little-endian elements for the first input buffer;
                          the output gets the same shape and is written raw
  --shape W,H,...         the raw input's extents, x first (needs --input-raw)
  --type TYPE             the raw input's element type; must be the pipeline's
                          (default: the pipeline's; needs --input-raw)
  --output-dir DIR        batch: run every IMAGE given after the pipeline and
                          write DIR/NAME.png; goes on past images that fail,
                          lists them at the end and exits 1
  -a, --arg NAME=VALUE    a scalar argument (repeatable); the others take their
                          defaults. Booleans: true/false or 1/0
  --entry NAME            the pipeline to run when the module holds several
  --threads N             how many threads run a threaded pipeline (one built
                          with Halide's wasm_threads feature); a positive
                          integer, default: the machine's cores. Pipelines
                          built without the feature run on one thread
  -h, --help              show this help

Prints the time the pipeline took (per image in a batch; a progress bar with
rate and remaining time when stderr is a terminal).

${EXIT}`,
};

const OPTIONS = {
  info: {
    help: { type: 'boolean', short: 'h' },
    entry: { type: 'string' },
    json: { type: 'boolean' },
  },
  types: {
    help: { type: 'boolean', short: 'h' },
    entry: { type: 'string' },
    output: { type: 'string', short: 'o' },
  },
  run: {
    help: { type: 'boolean', short: 'h' },
    entry: { type: 'string' },
    input: { type: 'string', short: 'i' },
    'input-raw': { type: 'string' },
    shape: { type: 'string' },
    type: { type: 'string' },
    output: { type: 'string', short: 'o' },
    'output-dir': { type: 'string' },
    arg: { type: 'string', short: 'a', multiple: true },
    threads: { type: 'string' },
  },
};

/** An error the user can fix: a message and an exit code, no stack. */
export class UsageError extends Error {
  constructor(message, { exitCode = 2, fatal = false } = {}) {
    super(message);
    this.name = 'UsageError';
    this.exitCode = exitCode;
    // In a batch: the same for every image, so stop.
    this.fatal = fatal;
  }
}

const hint = (command) => `(see '${PROG}${command === 'main' ? '' : ` ${command}`} --help')`;
const errorText = (e) => (e instanceof Error ? e.message : String(e));

function readFile(path, what) {
  try {
    return readFileSync(path);
  } catch (e) {
    const why = { ENOENT: 'no such file', EISDIR: 'it is a directory', EACCES: 'permission denied' }[e.code] ?? e.message;
    throw new UsageError(`cannot read ${what} ${path}: ${why}`);
  }
}

function writeFile(path, bytes) {
  try {
    mkdirSync(dirname(path) || '.', { recursive: true });
    writeFileSync(path, bytes);
  } catch (e) {
    const why = { ENOENT: 'no such directory', EISDIR: 'it is a directory', EACCES: 'permission denied', ENOTDIR: 'a parent is not a directory', EROFS: 'read-only file system' }[e.code] ?? e.message;
    throw new UsageError(`cannot write ${path}: ${why}`);
  }
}

function load(path, entry, threads) {
  const bytes = readFile(path, 'pipeline');
  // Halide's error text reaches us in the HalideError; the pipeline's other
  // prints go to stderr, out of the way of our stdout.
  const print = (t) => {
    if (!t.trimStart().startsWith('Error')) process.stderr.write(t.endsWith('\n') ? t : `${t}\n`);
  };
  try {
    return Pipeline.loadSync(bytes, threads === undefined ? { entry, print } : { entry, print, threads });
  } catch (e) {
    // An unknown --entry is the user's to fix; a module that is not a
    // usable pipeline is a failure.
    if (e instanceof HalideError && e.code === 'bad-argument') throw new UsageError(`${path}: ${e.message}`);
    if (e instanceof HalideError) throw new UsageError(`${path}: ${e.message} [${e.code}]`, { exitCode: 1 });
    throw e;
  }
}

// ---- info --------------------------------------------------------------

/** `info`: the pipeline's entry point, target and a table of its arguments. */
export function describe(p) {
  const show = (v) => (v === undefined ? '-' : String(v));
  const rows = [['NAME', 'KIND', 'TYPE', 'DIMS', 'DEFAULT', 'MIN', 'MAX']];
  for (const a of p.arguments) {
    rows.push([a.name, a.kind, a.type, a.kind === 'scalar' ? '-' : String(a.dimensions), show(a.default), show(a.min), show(a.max)]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  const table = rows.map((r) => `  ${r.map((c, i) => c.padEnd(widths[i])).join('  ')}`.trimEnd());
  const counts = ['input', 'scalar', 'output'].map((k) => {
    const n = p.arguments.filter((a) => a.kind === k).length;
    return `${n} ${k}${n === 1 ? '' : 's'}`;
  });
  return [`entry point: ${p.name}`, `target:      ${p.target}`, `arguments:   ${counts.join(', ')}`, ...table].join('\n');
}

/** `info --json`: the pipeline's name, target and arguments, 64-bit integers as strings. */
export function describeJson(p) {
  const jsonSafe = (_k, v) => (typeof v === 'bigint' ? v.toString() : v);
  return JSON.stringify({ name: p.name, target: p.target, arguments: p.arguments }, jsonSafe, 2);
}

function info(p, v) {
  console.log(v.json ? describeJson(p) : describe(p));
  return 0;
}

// ---- scalar arguments --------------------------------------------------

const INT_RANGES = {
  int8: [-128, 127], int16: [-32768, 32767], int32: [-(2 ** 31), 2 ** 31 - 1],
  uint8: [0, 255], uint16: [0, 65535], uint32: [0, 2 ** 32 - 1],
  int64: [-(2n ** 63n), 2n ** 63n - 1n], uint64: [0n, 2n ** 64n - 1n],
};

function parseScalar(a, text) {
  const bad = (what) => new UsageError(`--arg ${a.name}: expected ${what}, got '${text}'`);
  if (a.type === 'bool') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw bad('true or false');
  }
  let value;
  if (a.type === 'int64' || a.type === 'uint64') {
    if (!/^[+-]?\d+$/.test(text.trim())) throw bad('an integer');
    value = BigInt(text.trim());
  } else {
    value = Number(text);
    if (text.trim() === '' || Number.isNaN(value)) throw bad('a number');
    if (a.type in INT_RANGES && !Number.isInteger(value)) throw bad('an integer');
  }
  const range = INT_RANGES[a.type];
  if (range && (value < range[0] || value > range[1])) {
    throw new UsageError(`--arg ${a.name}: ${text} is out of the range of ${a.type} [${range[0]}, ${range[1]}]`);
  }
  // The executor checks min and max too, but only when it runs: say so
  // before any image is decoded.
  if (a.min !== undefined && value < a.min) throw new UsageError(`argument '${a.name}': ${text} is below the pipeline's minimum ${a.min}`);
  if (a.max !== undefined && value > a.max) throw new UsageError(`argument '${a.name}': ${text} is above the pipeline's maximum ${a.max}`);
  return value;
}

function scalars(p, pairs = []) {
  const out = {};
  const takes = () => {
    const names = p.arguments.filter((a) => a.kind === 'scalar').map((a) => a.name);
    return names.length ? `${p.name} takes: ${names.join(', ')}` : `${p.name} takes no scalar arguments`;
  };
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--arg expects NAME=VALUE, got '${pair}'`);
    const name = pair.slice(0, eq);
    const a = p.arguments.find((x) => x.name === name);
    if (!a) throw new UsageError(`unknown scalar argument '${name}'; ${takes()}`);
    if (a.kind !== 'scalar') throw new UsageError(`'${name}' is an ${a.kind} buffer, not a scalar; ${takes()}`);
    if (name in out) throw new UsageError(`--arg ${name} is given twice`);
    out[name] = parseScalar(a, pair.slice(eq + 1));
  }
  return out;
}

// ---- types -------------------------------------------------------------

function types(p, path, v) {
  let text;
  try {
    text = declarationsFor(p, { source: basename(path) });
  } catch (e) {
    throw new UsageError(`${path}: ${errorText(e)}`, { exitCode: 1 });
  }
  if (v.output === undefined) {
    process.stdout.write(text);
  } else {
    writeFile(v.output, text);
    console.error(`${p.name}: declarations written to ${v.output}`);
  }
  return 0;
}

// ---- running -----------------------------------------------------------

/** The pipeline's buffers: exactly one input, at least one output. */
function buffersOf(p) {
  const inputs = p.arguments.filter((a) => a.kind === 'input');
  const outputs = p.arguments.filter((a) => a.kind === 'output');
  if (inputs.length !== 1) {
    throw new UsageError(`${p.name} takes ${inputs.length} input buffers (${inputs.map((a) => a.name).join(', ') || 'none'}); ${PROG} runs pipelines with exactly one`);
  }
  return { input: inputs[0], outputs };
}

/**
 * Whether a pipeline's error says the buffers it was given have the wrong
 * extent, stride, min or dimensions — the image (or its layout) does not
 * fit — rather than that the computation failed.
 */
// halide_error_code_t: access out of bounds, constraint violated, bad dimensions.
const FIT_CODES = new Set([-4, -8, -43]);

function isFitError(e) {
  if (!(e instanceof HalideError) || !(e.code === 'abort' || typeof e.code === 'number')) return false;
  if (FIT_CODES.has(e.halideCode)) return true;
  return /buffer \S+ (has|with) .*(extent|stride|dimension)/i.test(e.message);
}

/** A pipeline error's message without the pipeline's name in front. */
const unnamed = (p, e) => (e.message.startsWith(`${p.name}: `) ? e.message.slice(p.name.length + 2) : e.message);

/** Runs; an argument the executor refuses is the user's to fix (exit 2), any other error is a failure. */
function runTimed(p, args) {
  const t0 = performance.now();
  try {
    p.run(args);
  } catch (e) {
    if (e instanceof HalideError && e.code === 'bad-argument') throw new UsageError(e.message, { fatal: true });
    throw e;
  }
  return performance.now() - t0;
}

/** The buffers of a pipeline that runs on images, or a UsageError saying why it cannot. */
function imageBuffers(p) {
  const { input, outputs } = buffersOf(p);
  const cannot = (text) => new UsageError(`${p.name}: ${text}; use --input-raw`, { fatal: true });
  if (!IMAGE_TYPES.includes(input.type)) throw cannot(`input '${input.name}' holds ${input.type} elements, which no image fits`);
  if (!layoutKinds(input.dimensions).length) {
    throw cannot(`input '${input.name}' is ${input.dimensions}-D; an image fits a 2-D (gray) or 3-D (color) buffer`);
  }
  for (const o of outputs) {
    if (!layoutKinds(o.dimensions).length) throw cannot(`output '${o.name}' is ${o.dimensions}-D, not an image`);
  }
  if (!IMAGE_TYPES.includes(outputs[0].type)) throw cannot(`output '${outputs[0].name}' holds ${outputs[0].type} elements, which cannot be written as an image`);
  return { input, outputs };
}

/** Fits, runs and converts back one decoded image; returns `{ ms, image, layout }`. */
function runOnImage(p, values, img, state = {}) {
  const { input, outputs } = imageBuffers(p);
  const [first] = outputs;
  const { width: w, height: h } = img;
  // The layout of each buffer for one choice of color layout: a 3-D buffer
  // takes the choice, a 2-D one is gray.
  const layoutOf = (a, kind) => layout(a.dimensions === 2 ? 'gray' : kind, w, h);
  let kinds = input.dimensions === 3 || outputs.some((o) => o.dimensions === 3) ? ['planar', 'interleaved'] : ['gray'];
  // In a batch, start with what worked last time.
  if (state.kind) kinds = [state.kind, ...kinds.filter((k) => k !== state.kind)];
  const refused = [];
  for (const kind of kinds) {
    const inLayout = layoutOf(input, kind);
    const args = { ...values, [input.name]: imageToBuffer(img, input.type, inLayout) };
    const outLayouts = outputs.map((o) => layoutOf(o, kind));
    outputs.forEach((o, i) => (args[o.name] = emptyBuffer(o.type, outLayouts[i])));
    let ms;
    try {
      ms = runTimed(p, args);
    } catch (e) {
      if (!isFitError(e)) throw e;
      refused.push(`${kinds.length > 1 ? `as ${kind === 'planar' ? 'planar RGB' : 'interleaved RGBA'}: ` : ''}${unnamed(p, e)}`);
      continue;
    }
    state.kind = kind;
    return { ms, layout: inLayout, image: bufferToImage(args[first.name], first.type, { depth: 16 }) };
  }
  throw new UsageError(`the ${w}x${h} image does not fit ${p.name}: ${refused.join('; ')}`);
}

function decodeFile(path) {
  const bytes = readFile(path, 'image');
  try {
    return decodeImage(bytes);
  } catch (e) {
    throw new UsageError(`cannot decode ${path}: ${errorText(e)}`);
  }
}

const formatFor = (path) => (/\.jpe?g$/i.test(path) ? 'jpeg' : 'png');

function runImage(p, values, v) {
  const img = decodeFile(v.input);
  const r = runOnImage(p, values, img);
  writeFile(v.output, encodeImage(formatFor(v.output), r.image));
  const bits = r.image.depth === 16 ? ', 16-bit' : '';
  console.log(`${p.name}: ${v.input} (${img.format} ${img.width}x${img.height}, ${r.layout.label}) -> ${v.output} (${formatFor(v.output).toUpperCase()}${bits}) in ${r.ms.toFixed(2)} ms`);
  return 0;
}

function parseShape(text) {
  const shape = text.split(/[,x]/).map((s) => (/^\s*\d+\s*$/.test(s) ? Number(s) : NaN));
  if (!shape.length || shape.some((e) => !Number.isSafeInteger(e))) throw new UsageError(`--shape expects extents like 640,480 (x first), got '${text}'`);
  return shape;
}

function runRaw(p, values, v) {
  const { input, outputs } = buffersOf(p);
  if (!v.shape) throw new UsageError(`--input-raw needs --shape W,H,... ${hint('run')}`);
  const shape = parseShape(v.shape);
  const type = v.type ?? input.type;
  if (!(type in ARRAYS)) throw new UsageError(`--type: unknown element type '${type}'; one of ${Object.keys(ARRAYS).join(', ')}`);
  if (type !== input.type) throw new UsageError(`--type ${type} does not match input '${input.name}', which holds ${input.type}`);
  if (shape.length !== input.dimensions) {
    throw new UsageError(`--shape ${v.shape} has ${shape.length} extents; input '${input.name}' is ${input.dimensions}-D`);
  }
  for (const o of outputs) {
    if (o.dimensions !== shape.length) {
      throw new UsageError(`output '${o.name}' is ${o.dimensions}-D; ${PROG} gives outputs the raw input's shape, which has ${shape.length} extents`);
    }
  }
  const A = ARRAYS[type];
  const bytes = readFile(v['input-raw'], 'raw input');
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== count * A.BYTES_PER_ELEMENT) {
    throw new UsageError(`${v['input-raw']} has ${bytes.byteLength} bytes; ${shape.join('x')} ${type} elements take ${count * A.BYTES_PER_ELEMENT}`);
  }
  const data = new A(count);
  new Uint8Array(data.buffer).set(bytes);
  const args = { ...values, [input.name]: { data, shape } };
  for (const o of outputs) args[o.name] = { data: new ARRAYS[o.type](count), shape };
  let ms;
  try {
    ms = runTimed(p, args);
  } catch (e) {
    if (isFitError(e)) throw new UsageError(`a ${type} buffer of shape ${shape.join('x')} does not fit ${p.name}: ${unnamed(p, e)}`);
    throw e;
  }
  const out = args[outputs[0].name].data;
  writeFile(v.output, new Uint8Array(out.buffer, out.byteOffset, out.byteLength));
  console.log(`${p.name}: ${v['input-raw']} (${type} ${shape.join('x')}) -> ${v.output} (${outputs[0].type} ${shape.join('x')}, ${out.byteLength} bytes) in ${ms.toFixed(2)} ms`);
  return 0;
}

function runBatch(p, values, files, dir) {
  // Validate what every image shares before the first one is decoded.
  imageBuffers(p);
  const targets = files.map((f) => join(dir, `${basename(f, extname(f))}.png`));
  const seen = new Map();
  targets.forEach((t, i) => {
    const other = seen.get(t);
    if (other !== undefined && resolve(files[other]) !== resolve(files[i])) {
      throw new UsageError(`${files[other]} and ${files[i]} would both be written to ${t}`);
    }
    seen.set(t, i);
  });
  try {
    if (statSync(dir, { throwIfNoEntry: false })?.isFile()) throw new Error('it is a file');
    mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw new UsageError(`cannot use --output-dir ${dir}: ${e.code === 'EEXIST' ? 'it is a file' : errorText(e)}`);
  }
  const tty = Boolean(process.stderr.isTTY);
  const bar = tty
    ? new cliProgress.SingleBar(
        {
          format: ' {bar} {percentage}% | {value}/{total} images | {rate} images/s | {eta_formatted} left | {failed} failed',
          stream: process.stderr,
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(files.length, 0, { rate: '-', failed: 0 });
  const t0 = performance.now();
  const failures = [];
  const state = {};
  const n = files.length;
  const tag = (i) => `[${String(i + 1).padStart(String(n).length)}/${n}]`;
  try {
    files.forEach((file, i) => {
      try {
        const img = decodeFile(file);
        const r = runOnImage(p, values, img, state);
        writeFile(targets[i], encodeImage('png', r.image));
        if (!tty) console.log(`${tag(i)} ${file} -> ${targets[i]} (${img.width}x${img.height}) in ${r.ms.toFixed(2)} ms`);
      } catch (e) {
        if (e instanceof UsageError && e.fatal) throw e;
        if (!(e instanceof UsageError || e instanceof HalideError)) throw e;
        const message = e instanceof HalideError ? `${e.message} [${e.code}]` : e.message;
        failures.push({ file, message });
        if (!tty) console.error(`${tag(i)} ${file}: FAILED: ${message}`);
      }
      const secs = (performance.now() - t0) / 1000;
      bar?.update(i + 1, { rate: ((i + 1) / secs).toFixed(1), failed: failures.length });
    });
  } finally {
    bar?.stop();
  }
  const secs = (performance.now() - t0) / 1000;
  const done = n - failures.length;
  console.log(`${p.name}: ${done} of ${n} images written to ${dir} in ${secs.toFixed(2)} s (${(n / secs).toFixed(1)} images/s)`);
  if (!failures.length) return 0;
  console.error(`${PROG}: ${failures.length} of ${n} image${n === 1 ? '' : 's'} failed:`);
  for (const f of failures) console.error(`  ${f.file}: ${f.message}`);
  return 1;
}

function run(p, v, images) {
  const values = scalars(p, v.arg);
  if (images.length) return runBatch(p, values, images, v['output-dir']);
  if (v['input-raw']) return runRaw(p, values, v);
  return runImage(p, values, v);
}

/** `--threads N`: a positive integer, or a usage error. */
function parseThreads(text) {
  if (text === undefined) return undefined;
  const n = /^\s*\d+\s*$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) throw new UsageError(`--threads expects a positive integer (how many threads run a threaded pipeline), got '${text}' ${hint('run')}`);
  return n;
}

/** The combinations of `run` options that make sense, before anything is loaded. */
function checkRunOptions(v, images) {
  const conflict = (a, b) => {
    if (v[a] !== undefined && v[b] !== undefined) throw new UsageError(`--${a} and --${b} cannot be used together ${hint('run')}`);
  };
  if (images.length || v['output-dir'] !== undefined) {
    if (v['output-dir'] === undefined) throw new UsageError(`images after the pipeline (${images[0]}${images.length > 1 ? ', …' : ''}) make a batch, which needs --output-dir DIR ${hint('run')}`);
    if (!images.length) throw new UsageError(`--output-dir needs IMAGE files after the pipeline ${hint('run')}`);
    for (const o of ['input', 'input-raw', 'output', 'shape', 'type']) conflict('output-dir', o);
    return;
  }
  conflict('input', 'input-raw');
  if (v['input-raw'] === undefined) {
    for (const o of ['shape', 'type']) if (v[o] !== undefined) throw new UsageError(`--${o} needs --input-raw ${hint('run')}`);
  }
  if (v.input === undefined && v['input-raw'] === undefined) throw new UsageError(`run needs --input IMAGE (or --input-raw FILE, or --output-dir DIR and images) ${hint('run')}`);
  if (v.output === undefined) throw new UsageError(`run needs --output FILE ${hint('run')}`);
}

export function main(argv) {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h') {
    console.log(USAGE.main);
    return 0;
  }
  if (!command) throw new UsageError(`no command given\n\n${USAGE.main}`);
  if (!(command in OPTIONS)) throw new UsageError(`unknown command '${command}'; the commands are info, run and types ${hint('main')}`);
  // --help wins over anything else on the line (up to a '--').
  const end = rest.indexOf('--');
  if ((end < 0 ? rest : rest.slice(0, end)).some((a) => a === '--help' || a === '-h')) {
    console.log(USAGE[command]);
    return 0;
  }
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: OPTIONS[command], allowPositionals: true, strict: true });
  } catch (e) {
    // parseArgs's own text for an unknown option suggests '--' (for
    // positionals that start with '-'): keep the first sentence.
    const text = e.code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION' ? e.message.split('. ')[0].replace(/^Unknown/, 'unknown') : e.message;
    throw new UsageError(`${command}: ${text} ${hint(command)}`);
  }
  const { values: v, positionals } = parsed;
  if (!positionals.length) throw new UsageError(`${command} needs a PIPELINE.wasm ${hint(command)}`);
  const [pipelinePath, ...images] = positionals;
  if (command === 'info') {
    if (images.length) throw new UsageError(`info takes one PIPELINE.wasm, got also ${images.join(' ')} ${hint('info')}`);
    return info(load(pipelinePath, v.entry), v);
  }
  if (command === 'types') {
    if (images.length) throw new UsageError(`types takes one PIPELINE.wasm, got also ${images.join(' ')} ${hint('types')}`);
    return types(load(pipelinePath, v.entry), pipelinePath, v);
  }
  checkRunOptions(v, images);
  const threads = parseThreads(v.threads);
  return run(load(pipelinePath, v.entry, threads), v, images);
}

/** Runs `main`, turning errors into a message on stderr and an exit code; returns the exit code. */
export function cli(argv) {
  let code;
  try {
    code = main(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`${PROG}: ${e.message}`);
      code = e.exitCode;
    } else if (e instanceof HalideError) {
      console.error(`${PROG}: ${e.message} [${e.code}]`);
      code = 1;
    } else {
      console.error(`${PROG}: internal error: ${e?.stack ?? e}`);
      code = 1;
    }
  }
  process.exitCode = code;
  return code;
}
