// halide-wasm-run: inspect and run Halide wasm pipelines from the shell.
//
//   halide-wasm-run info PIPELINE.wasm [--json] [--entry NAME]
//   halide-wasm-run run PIPELINE.wasm --input in.png --output out.png [--arg name=value ...]
import { parseArgs } from 'node:util';
import { readFileSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Pipeline, HalideError } from '../lib/node.mjs';
import { decodeImage, encodePng, layoutFor, imageToBuffer, emptyBuffer, bufferToImage } from './image.mjs';

const USAGE = {
  main: `Usage: halide-wasm-run <command> [options]

Commands:
  info PIPELINE.wasm     describe the pipeline's entry point and arguments
  run PIPELINE.wasm      run the pipeline on an image

Run 'halide-wasm-run <command> --help' for a command's options.`,
  info: `Usage: halide-wasm-run info PIPELINE.wasm [--json] [--entry NAME]

  --json         print the description as JSON
  --entry NAME   the pipeline to describe when the module has several`,
  run: `Usage: halide-wasm-run run PIPELINE.wasm --input IN.png --output OUT.png [--arg NAME=VALUE ...]

  --input FILE        the image for the pipeline's first input buffer (PNG)
  --output FILE       where to write the first output buffer (PNG)
  --arg NAME=VALUE    a scalar argument (repeatable); others take their defaults
  --entry NAME        the pipeline to run when the module has several`,
};

/** An error the user can fix: a message and an exit code, no stack. */
class UsageError extends Error {
  constructor(message, exitCode = 2) {
    super(message);
    this.exitCode = exitCode;
  }
}

function load(path, entry) {
  let bytes;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UsageError(`cannot read ${path}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  return Pipeline.loadSync(bytes, { entry, print: (t) => process.stderr.write(t) });
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

function runImage(p, values, inputPath, outputPath) {
  const input = p.arguments.find((a) => a.kind === 'input');
  const output = p.arguments.find((a) => a.kind === 'output');
  if (!input || !output) throw new UsageError(`${p.name} needs an input and an output buffer to run on an image`);
  let img;
  try {
    img = decodeImage(inputPath);
  } catch (e) {
    throw new UsageError(`cannot decode ${inputPath}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`);
  }
  // Planar first; a pipeline that constrains its strides to interleaved
  // RGBA says so in its error, and gets interleaved buffers instead.
  const attempt = (interleaved) => {
    const inLayout = layoutFor(input.dimensions, img.width, img.height, interleaved);
    const outLayout = layoutFor(output.dimensions, img.width, img.height, interleaved);
    const args = { ...values, [input.name]: imageToBuffer(img, input.type, inLayout) };
    const out = emptyBuffer(output.type, outLayout);
    args[output.name] = out;
    const t0 = performance.now();
    p.run(args);
    return { ms: performance.now() - t0, image: bufferToImage(out, output.type, outLayout) };
  };
  let r;
  try {
    r = attempt(false);
  } catch (e) {
    if (!(e instanceof HalideError) || input.dimensions !== 3 || !/stride|extent/.test(e.message)) throw e;
    r = attempt(true);
  }
  mkdirSync(dirname(outputPath), { recursive: true });
  encodePng(outputPath, r.image);
  return { width: img.width, height: img.height, ms: r.ms };
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
    output: { type: 'string', short: 'o' },
    arg: { type: 'string', short: 'a', multiple: true },
  };
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${e.message}\n\n${USAGE[command]}`);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE[command]);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError(`expected one PIPELINE.wasm\n\n${USAGE[command]}`);
  const p = load(positionals[0], values.entry);
  if (command === 'info') {
    console.log(values.json ? JSON.stringify({ name: p.name, target: p.target, arguments: p.arguments }, jsonSafe, 2) : describe(p));
    return 0;
  }
  if (!values.input || !values.output) throw new UsageError(`run needs --input and --output\n\n${USAGE.run}`);
  const r = runImage(p, scalars(p, values.arg), values.input, values.output);
  console.log(`${p.name}: ${values.input} (${r.width}x${r.height}) -> ${values.output} in ${r.ms.toFixed(2)} ms`);
  return 0;
}

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
}
