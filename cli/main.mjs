// halide-wasm-run: inspect and run Halide wasm pipelines from the shell.
//
//   halide-wasm-run info PIPELINE.wasm [--json] [--entry NAME]
//   halide-wasm-run run PIPELINE.wasm --input in.png --output out.png [--arg name=value ...]
//   halide-wasm-run run PIPELINE.wasm --input-raw in.bin --shape 640,480 --type float32 --output out.bin
//   halide-wasm-run run PIPELINE.wasm --output-dir out/ images/*.png
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, extname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import cliProgress from 'cli-progress';
import { Pipeline, HalideError } from '../lib/node.mjs';
import { ARRAYS, decodeImage, encodeImage, layoutFor, imageToBuffer, emptyBuffer, bufferToImage } from './image.mjs';

const EXIT = `Exit codes: 0 success, 1 the pipeline failed (or some images of a batch did), 2 usage error.`;

const USAGE = {
  main: `Usage: halide-wasm-run <command> [options]

Commands:
  info PIPELINE.wasm     describe the pipeline's entry point and arguments
  run PIPELINE.wasm      run the pipeline on an image, a raw buffer, or many images

Run 'halide-wasm-run <command> --help' for a command's options.
${EXIT}`,
  info: `Usage: halide-wasm-run info PIPELINE.wasm [--json] [--entry NAME]

  --json         print the description as JSON (64-bit values as strings)
  --entry NAME   the pipeline to describe when the module has several
${EXIT}`,
  run: `Usage:
  halide-wasm-run run PIPELINE.wasm --input IN.png --output OUT.png [--arg NAME=VALUE ...]
  halide-wasm-run run PIPELINE.wasm --input-raw IN.bin --shape W,H[,C] --type TYPE --output OUT.bin
  halide-wasm-run run PIPELINE.wasm --output-dir DIR IMAGE...

  --input FILE        an image (PNG or JPEG) for the pipeline's first input buffer; it is
                      fitted to the buffer's type and dimensions (gray, RGB planar or RGBA
                      interleaved, as the pipeline asks; floats scaled to [0, 1])
  --output FILE       where to write the first output: PNG, or JPEG for .jpg/.jpeg
  --input-raw FILE    raw little-endian elements for the first input buffer instead
  --shape W,H,...     the raw input's extents (x first); the output gets the same
  --type TYPE         the raw input's element type (default: the pipeline's)
  --output-dir DIR    run every IMAGE given after the pipeline, writing DIR/NAME.png
  --arg NAME=VALUE    a scalar argument (repeatable); others take their defaults
  --entry NAME        the pipeline to run when the module has several
${EXIT}`,
};

/** An error the user can fix: a message and an exit code, no stack. */
class UsageError extends Error {
  constructor(message, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

function readInput(path, what) {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${what} ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
}

function load(path, entry) {
  // Halide's error text reaches us in the HalideError; other prints go to stderr.
  const print = (t) => {
    if (!t.trimStart().startsWith('Error')) process.stderr.write(t);
  };
  return Pipeline.loadSync(readInput(path, 'pipeline'), { entry, print });
}

function describe(p) {
  const lines = [`${p.name} (${p.target})`];
  for (const a of p.arguments) {
    const extra = ['default', 'min', 'max'].filter((k) => k in a).map((k) => `${k} ${a[k]}`);
    const dims = a.kind === 'scalar' ? '' : ` ${a.dimensions}-D`;
    lines.push(`  ${a.name.padEnd(16)} ${a.kind.padEnd(6)} ${a.type}${dims}${extra.length ? `  (${extra.join(', ')})` : ''}`);
  }
  return lines.join('\n');
}

const jsonSafe = (_k, v) => (typeof v === 'bigint' ? v.toString() : v);

function parseScalar(arg, text) {
  if (arg.type === 'bool') {
    if (text === 'true' || text === '1') return true;
    if (text === 'false' || text === '0') return false;
    throw new UsageError(`--arg ${arg.name}: expected true or false, got '${text}'`);
  }
  if (arg.type === 'int64' || arg.type === 'uint64') {
    try {
      return BigInt(text);
    } catch {
      throw new UsageError(`--arg ${arg.name}: expected an integer, got '${text}'`);
    }
  }
  const n = Number(text);
  if (text.trim() === '' || Number.isNaN(n)) throw new UsageError(`--arg ${arg.name}: expected a number, got '${text}'`);
  return n;
}

function scalars(p, pairs) {
  const out = {};
  for (const pair of pairs ?? []) {
    const eq = pair.indexOf('=');
    if (eq < 1) throw new UsageError(`--arg expects NAME=VALUE, got '${pair}'`);
    const name = pair.slice(0, eq);
    const arg = p.arguments.find((a) => a.name === name);
    if (!arg || arg.kind !== 'scalar') {
      const names = p.arguments.filter((a) => a.kind === 'scalar').map((a) => a.name);
      throw new UsageError(`unknown scalar argument '${name}'; ${p.name} takes: ${names.join(', ') || 'none'}`);
    }
    out[name] = parseScalar(arg, pair.slice(eq + 1));
  }
  return out;
}

function buffersOf(p) {
  const input = p.arguments.find((a) => a.kind === 'input');
  const output = p.arguments.find((a) => a.kind === 'output');
  if (!input || !output) throw new UsageError(`${p.name} needs an input and an output buffer to run on data`);
  return { input, output };
}

/** A wrong-argument HalideError is the user's to fix (exit 2); others are failures (exit 1). */
function runChecked(p, args) {
  const t0 = performance.now();
  try {
    p.run(args);
  } catch (e) {
    if (e instanceof HalideError && e.code === 'bad-argument') throw new UsageError(e.message);
    throw e;
  }
  return performance.now() - t0;
}

/** Runs the pipeline on one decoded image; returns `{ ms, image }`. */
function runOnImage(p, values, img) {
  const { input, output } = buffersOf(p);
  // Planar RGB first, then interleaved RGBA: a pipeline whose buffers are
  // constrained to the other layout (strides, channel bounds) says so in
  // its error, and gets that one instead.
  const attempt = (interleaved) => {
    let inLayout, outLayout, buf;
    try {
      inLayout = layoutFor(input.dimensions, img.width, img.height, interleaved);
      buf = imageToBuffer(img, input.type, inLayout);
    } catch (e) {
      throw new UsageError(`${p.name}: the image does not fit input '${input.name}': ${e.message}`);
    }
    try {
      outLayout = layoutFor(output.dimensions, img.width, img.height, interleaved);
    } catch (e) {
      throw new UsageError(`${p.name}: output '${output.name}' is not an image: ${e.message}`);
    }
    const out = emptyBuffer(output.type, outLayout);
    const ms = runChecked(p, { ...values, [input.name]: buf, [output.name]: out });
    try {
      return { ms, image: bufferToImage(out, output.type, outLayout) };
    } catch (e) {
      throw new UsageError(`${p.name}: output '${output.name}' is not an image: ${e.message}`);
    }
  };
  if (input.dimensions !== 3) return attempt(false);
  try {
    return attempt(false);
  } catch (first) {
    if (!(first instanceof HalideError) || first.code !== 'abort') throw first;
    try {
      return attempt(true);
    } catch (second) {
      throw second instanceof HalideError ? first : second;
    }
  }
}

function decode(path) {
  readInput(path, 'image');
  try {
    return decodeImage(path);
  } catch (e) {
    throw new UsageError(`cannot decode ${path}: ${e.message}`);
  }
}

function writeOutput(path, image) {
  mkdirSync(dirname(path) || '.', { recursive: true });
  encodeImage(path, image);
}

function runRaw(p, values, v) {
  const { input, output } = buffersOf(p);
  if (!v.shape) throw new UsageError('--input-raw needs --shape W,H,...');
  const shape = v.shape.split(',').map((s) => Number(s));
  if (shape.some((e) => !Number.isInteger(e) || e < 0)) throw new UsageError(`--shape expects whole numbers, got '${v.shape}'`);
  const type = v.type ?? input.type;
  if (type !== input.type) throw new UsageError(`--type ${type} does not match input '${input.name}', which is ${input.type}`);
  const A = ARRAYS[type];
  const bytes = readInput(v['input-raw'], 'raw input');
  const count = shape.reduce((a, b) => a * b, 1);
  if (bytes.byteLength !== count * A.BYTES_PER_ELEMENT) {
    throw new UsageError(`${v['input-raw']} has ${bytes.byteLength} bytes; shape ${shape.join('x')} of ${type} needs ${count * A.BYTES_PER_ELEMENT}`);
  }
  const data = new A(count);
  new Uint8Array(data.buffer).set(bytes);
  const out = new ARRAYS[output.type](count);
  const ms = runChecked(p, { ...values, [input.name]: { data, shape }, [output.name]: { data: out, shape } });
  mkdirSync(dirname(v.output) || '.', { recursive: true });
  writeFileSync(v.output, new Uint8Array(out.buffer));
  return { ms, shape, type: output.type };
}

function runBatch(p, values, files, dir) {
  mkdirSync(dir, { recursive: true });
  const tty = process.stderr.isTTY;
  const bar = tty
    ? new cliProgress.SingleBar(
        { format: ' {bar} {percentage}% | {value}/{total} images | {rate}/s | ETA {eta_formatted}', stream: process.stderr },
        cliProgress.Presets.shades_classic,
      )
    : null;
  bar?.start(files.length, 0, { rate: '0.0' });
  const t0 = performance.now();
  const failures = [];
  files.forEach((file, i) => {
    const target = join(dir, `${basename(file, extname(file))}.png`);
    try {
      const r = runOnImage(p, values, decode(file));
      writeOutput(target, r.image);
      if (!tty) console.log(`${file} -> ${target} in ${r.ms.toFixed(2)} ms`);
    } catch (e) {
      if (!(e instanceof UsageError || e instanceof HalideError)) throw e;
      failures.push({ file, message: e.message });
      if (!tty) console.log(`${file}: FAILED: ${e.message}`);
    }
    const rate = (i + 1) / ((performance.now() - t0) / 1000);
    bar?.update(i + 1, { rate: rate.toFixed(1) });
  });
  bar?.stop();
  const ok = files.length - failures.length;
  console.log(`${p.name}: ${ok} of ${files.length} images done in ${((performance.now() - t0) / 1000).toFixed(2)} s`);
  if (failures.length) {
    console.error(`${failures.length} failed:`);
    for (const f of failures) console.error(`  ${f.file}: ${f.message}`);
    return 1;
  }
  return 0;
}

export function main(argv) {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h') {
    console.log(USAGE.main);
    return command ? 0 : 2;
  }
  if (!USAGE[command] || command === 'main') throw new UsageError(`unknown command '${command}'\n\n${USAGE.main}`);
  const options = {
    help: { type: 'boolean', short: 'h' },
    entry: { type: 'string' },
    json: { type: 'boolean' },
    input: { type: 'string', short: 'i' },
    'input-raw': { type: 'string' },
    shape: { type: 'string' },
    type: { type: 'string' },
    output: { type: 'string', short: 'o' },
    'output-dir': { type: 'string' },
    arg: { type: 'string', short: 'a', multiple: true },
  };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${e.message}\n\n${USAGE[command]}`);
  }
  const { values: v, positionals } = parsed;
  if (v.help) {
    console.log(USAGE[command]);
    return 0;
  }
  if (positionals.length < 1) throw new UsageError(`expected a PIPELINE.wasm\n\n${USAGE[command]}`);
  const [pipelinePath, ...images] = positionals;
  if (command === 'info' && images.length) throw new UsageError(`info takes one PIPELINE.wasm\n\n${USAGE.info}`);
  const p = load(pipelinePath, v.entry);
  if (command === 'info') {
    console.log(v.json ? JSON.stringify({ name: p.name, target: p.target, arguments: p.arguments }, jsonSafe, 2) : describe(p));
    return 0;
  }
  const values = scalars(p, v.arg);
  if (images.length || v['output-dir']) {
    if (!v['output-dir'] || !images.length) throw new UsageError(`a batch needs --output-dir DIR and at least one IMAGE\n\n${USAGE.run}`);
    return runBatch(p, values, images, v['output-dir']);
  }
  if (!v.output || !(v.input || v['input-raw'])) throw new UsageError(`run needs --input (or --input-raw) and --output\n\n${USAGE.run}`);
  if (v['input-raw']) {
    const r = runRaw(p, values, v);
    console.log(`${p.name}: ${v['input-raw']} -> ${v.output} (${r.type}, shape ${r.shape.join('x')}) in ${r.ms.toFixed(2)} ms`);
    return 0;
  }
  const img = decode(v.input);
  const r = runOnImage(p, values, img);
  writeOutput(v.output, r.image);
  console.log(`${p.name}: ${v.input} (${img.width}x${img.height}) -> ${v.output} in ${r.ms.toFixed(2)} ms`);
  return 0;
}

/** Runs `main`, turning errors into messages and exit codes. */
export function cli(argv) {
  try {
    process.exitCode = main(argv);
  } catch (e) {
    if (e instanceof UsageError) {
      console.error(`halide-wasm-run: ${e.message}`);
      process.exitCode = e.exitCode;
    } else if (e instanceof HalideError) {
      console.error(`halide-wasm-run: ${e.message} [${e.code}]`);
      process.exitCode = 1;
    } else {
      throw e;
    }
  }
  return process.exitCode;
}
