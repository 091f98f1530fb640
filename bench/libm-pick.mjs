// `npm run bench:libm`: which library computes each C math function the
// executor gives a pipeline (src/libm_exports.rs)?
//
//   node bench/libm-pick.mjs [--quick] [--out FILE]
//
// Builds bench/libm-pick (the `libm` crate's and `pxfm`'s version of every
// function, behind function pointers) for wasm32 and times both versions in
// this process, alternating, on the same fresh random arguments: ns per call,
// median over the rounds. The `uses` column reads which one
// src/libm_exports.rs exports. Its rule: pxfm unless pxfm's is slower here or
// misses one of C's special values (the crate's tests check those). Nothing
// fails on speed; the table is written as JSON to bench/results/libm-pick.json.
import { readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnSync } from 'node:child_process';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);
const QUICK = argv.includes('--quick') || process.env.BENCH_QUICK === '1';
const outIdx = argv.indexOf('--out');
const OUT = outIdx >= 0 ? argv[outIdx + 1] : join(ROOT, 'bench', 'results', 'libm-pick.json');
const N = QUICK ? 1 << 12 : 1 << 18;
const ROUNDS = QUICK ? 3 : 9;

const build = spawnSync('cargo', ['build', '--release', '--target', 'wasm32-unknown-unknown', '-p', 'libm-pick'],
  { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
if (build.status !== 0) process.exit(build.status ?? 1);
const bytes = readFileSync(join(ROOT, 'target', 'wasm32-unknown-unknown', 'release', 'libm_pick.wasm'));
const { instance } = await WebAssembly.instantiate(bytes);
const e = instance.exports;

/** Which crate src/libm_exports.rs uses for `name`. */
const source = readFileSync(join(ROOT, 'src', 'libm_exports.rs'), 'utf8');
const uses = (name) => source.match(new RegExp(`"${name}" => .*= (libm|pxfm)::`))?.[1] ?? '?';

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const rows = [];
for (let i = 0; i < e.cases(); i++) {
  const name = new TextDecoder().decode(new Uint8Array(e.memory.buffer, e.name_ptr(i), e.name_len(i)));
  e.prepare(i, N, 12345 + i);
  const times = [[], []];
  e.run(i, 0); e.run(i, 1); // warm-up: tier both up before timing
  for (let r = 0; r < ROUNDS; r++) {
    for (const lib of r % 2 ? [1, 0] : [0, 1]) {
      const t = performance.now();
      e.run(i, lib);
      times[lib].push(((performance.now() - t) * 1e6) / N);
    }
  }
  const [libm, pxfm] = times.map(median);
  rows.push({ name, libm_ns: +libm.toFixed(2), pxfm_ns: +pxfm.toFixed(2), ratio: +(pxfm / libm).toFixed(3), uses: uses(name) });
}

console.log(`libm vs pxfm in wasm (V8 ${process.versions.v8}), ns per call, ${N} random arguments, median of ${ROUNDS}`);
console.log('function    libm     pxfm    pxfm/libm  uses');
for (const r of rows) {
  console.log(`${r.name.padEnd(10)} ${r.libm_ns.toFixed(1).padStart(6)}  ${r.pxfm_ns.toFixed(1).padStart(6)}    ${r.ratio.toFixed(2).padStart(5)}     ${r.uses}`);
}
mkdirSync(dirname(OUT), { recursive: true });
writeFileSync(OUT, JSON.stringify({ quick: QUICK, node: process.version, n: N, rounds: ROUNDS, rows }, null, 2) + '\n');
console.log(`written to ${OUT}`);
