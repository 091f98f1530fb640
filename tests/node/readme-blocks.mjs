// The fenced code blocks of README.md, for the tests that run them
// (readme.test.mjs runs them in order; bundlers.test.mjs runs the
// `sh app=NAME` build recipes in its apps).
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The README's fenced blocks, indented ones too: `{ info, code, line }`. */
export function readmeBlocks(text = readFileSync(join(ROOT, 'README.md'), 'utf8')) {
  const blocks = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^( *)(```+)(.*)$/.exec(lines[i]);
    if (!open) continue;
    const [, indent, fence] = open;
    const start = i;
    const body = [];
    for (i++; i < lines.length && !lines[i].startsWith(indent + fence); i++) body.push(lines[i].startsWith(indent) ? lines[i].slice(indent.length) : lines[i]);
    blocks.push({ info: open[3].trim(), code: body.join('\n') + '\n', line: start + 1 });
  }
  return blocks;
}

/** The one `sh app=NAME` block: how the README builds a bundler's app. */
export function recipe(app) {
  const found = readmeBlocks().filter((b) => b.info === `sh app=${app}`);
  if (found.length !== 1) throw new Error(`README.md should have one \`sh app=${app}\` block, has ${found.length}`);
  return found[0].code;
}
