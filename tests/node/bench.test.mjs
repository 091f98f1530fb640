// `npm run bench` and `npm run bench:libm` still work: each script exits 0
// with --quick and writes well-formed JSON with every row. Speed is never
// checked here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const MODULES = ['bench_blur_u16', 'bench_brighten_rgb', 'bench_libm_f32', 'bench_libm16_f32', 'bench_multistage', 'bench_tiny'];
const ROWS = [
  ...MODULES.map((m) => `plain:${m}`),
  'marshal:copy:0', 'marshal:alloc:0', 'marshal:copy:1', 'marshal:alloc:1',
  'load', 'allocator',
  'import:malloc', 'import:memcpy', 'import:sinf', 'import:atan2f',
  ...MODULES.map((m) => `native:${m}`),
  ...MODULES.map((m) => `wasmjit:${m}`),
  ...['par_blur_u16', 'bilateral_grid', 'local_laplacian'].flatMap((m) => [`threads:${m}:2v1`, `threads:${m}:1vserial`]),
  'threads:pool',
  'threads:chromium:bilateral_grid:2v1', 'threads:chromium:local_laplacian:2v1',
  ...['par_blur_u16', 'bilateral_grid', 'local_laplacian'].flatMap((m) => [`threads:native:${m}:1`, `threads:native:${m}:2`]),
];

const numberOrNull = (v) => v === null || (typeof v === 'number' && Number.isFinite(v));

/**
 * Runs `script --quick --out FILE` from the root and returns its stdout and
 * the JSON it wrote, after checking that it exited 0.
 */
function runQuick(script, timeout) {
  const dir = mkdtempSync(join(tmpdir(), 'hwe-bench-'));
  try {
    const out = join(dir, 'out.json');
    const r = spawnSync(process.execPath, [script, '--quick', '--out', out], {
      cwd: ROOT, encoding: 'utf8', timeout, maxBuffer: 1 << 24,
    });
    assert.equal(r.status, 0, `exit ${r.status} ${r.signal ?? ''}\n${r.stdout}\n${r.stderr}`);
    return { stdout: r.stdout, json: JSON.parse(readFileSync(out, 'utf8')) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('bench/run.mjs --quick exits 0 and writes every row as JSON', { timeout: 300_000 }, () => {
  const { stdout, json: j } = runQuick('bench/run.mjs', 280_000);
  assert.match(stdout, /row\s+ours\s+baseline\s+ratio\s+target\s+note/);
  assert.equal(j.quick, true);
  assert.ok(Array.isArray(j.rows));
  const ids = j.rows.map((row) => row.id);
  for (const id of ROWS) assert.ok(ids.includes(id), `row ${id} missing; rows: ${ids.join(', ')}`);
  assert.deepEqual(j.rowIds, ids);
  for (const row of j.rows) {
    for (const k of ['id', 'group', 'row', 'unit', 'note']) assert.equal(typeof row[k], 'string', `${row.id}.${k}`);
    for (const k of ['ours', 'baseline', 'ratio', 'target']) assert.ok(numberOrNull(row[k]), `${row.id}.${k} = ${row[k]}`);
    assert.ok(row.met === null || typeof row.met === 'boolean', `${row.id}.met`);
    assert.doesNotMatch(row.note, /MISMATCH/, row.id);
  }
  // The side-by-side rows against the plain host always run.
  for (const m of MODULES) {
    const row = j.rows.find((x) => x.id === `plain:${m}`);
    assert.ok(row.ours > 0 && row.baseline > 0 && row.ratio > 0, JSON.stringify(row));
  }
  // The Chromium rows run wherever Chromium is installed (npm test installs it), and say why not elsewhere.
  for (const m of ['bilateral_grid', 'local_laplacian']) {
    const row = j.rows.find((x) => x.id === `threads:chromium:${m}:2v1`);
    if (existsSync('/usr/bin/chromium')) assert.ok(row.ours > 0 && row.baseline > 0, JSON.stringify(row));
    else assert.match(row.note, /skipped: \/usr\/bin\/chromium is missing/);
  }
});

test('bench/libm-pick.mjs --quick times both versions of every function the executor takes from pxfm', { timeout: 600_000 }, () => {
  const { json: j } = runQuick('bench/libm-pick.mjs', 580_000);
  assert.equal(j.quick, true);
  const names = j.rows.map((row) => row.name);
  for (const row of j.rows) {
    assert.ok(row.libm_ns > 0 && row.pxfm_ns > 0, JSON.stringify(row));
    assert.ok(['libm', 'pxfm'].includes(row.uses), JSON.stringify(row));
  }
  // Every pxfm function the executor exports has its measurement.
  const source = readFileSync(join(ROOT, 'src', 'libm_exports.rs'), 'utf8');
  const fromPxfm = [...source.matchAll(/"(\w+)" => .*= pxfm::/g)].map((m) => m[1]);
  assert.ok(fromPxfm.length > 0);
  for (const name of fromPxfm) assert.ok(names.includes(name), `${name} is not measured`);
});
