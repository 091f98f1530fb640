#!/usr/bin/env node
// The command's image and progress-bar libraries (pngjs, jpeg-js,
// cli-progress) are optional dependencies of the package: the library needs
// none of them. Without them the command says what to install.
const OPTIONAL = ['pngjs', 'jpeg-js', 'cli-progress'];
let cli;
try {
  ({ cli } = await import('../cli/main.mjs'));
} catch (e) {
  const missing = OPTIONAL.filter((name) => e?.code === 'ERR_MODULE_NOT_FOUND' && String(e.message).includes(`'${name}'`));
  if (missing.length === 0) throw e;
  console.error(
    `halide-wasm-run: the package ${missing.join(', ')} is not installed. The command needs ${OPTIONAL.join(', ')}, ` +
      `optional dependencies of halide-wasm-executor (installs with --omit=optional or --no-optional leave them out): ` +
      `npm install ${OPTIONAL.join(' ')}`,
  );
  process.exit(2);
}
cli(process.argv.slice(2));
