// `prepack` (npm pack, npm publish): refuses to pack a package without the
// executor's build, which `npm run build` makes and which git does not
// hold. Without this check npm would make a small tarball with no wasm in it.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const problems = [];
const wasm = join(root, 'pkg', 'web', 'halide_wasm_executor_bg.wasm');
if (!existsSync(wasm)) problems.push('pkg/web/halide_wasm_executor_bg.wasm is missing');
else if (!readFileSync(wasm).subarray(0, 4).equals(Buffer.from([0, 0x61, 0x73, 0x6d]))) problems.push('pkg/web/halide_wasm_executor_bg.wasm is not a wasm module');
if (!existsSync(join(root, 'pkg', 'web', 'halide_wasm_executor.js'))) problems.push('pkg/web/halide_wasm_executor.js is missing');
if (!existsSync(join(root, 'pkg', 'web', 'snippets')) || readdirSync(join(root, 'pkg', 'web', 'snippets')).length === 0) problems.push('pkg/web/snippets/ is missing');
let type;
try {
  type = JSON.parse(readFileSync(join(root, 'pkg', 'web', 'package.json'), 'utf8')).type;
} catch {
  // reported below
}
if (type !== 'module') problems.push('pkg/web/package.json does not say "type": "module"');

if (problems.length) {
  console.error(`prepack: the executor is not built, so the package would not work:\n  ${problems.join('\n  ')}\nRun \`npm run build\` first.`);
  process.exit(1);
}
