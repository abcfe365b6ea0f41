// The build: same bytes under Node and Bun, loadable by real njs, and refusing what njs can't run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const tmp = mkdtempSync(join(tmpdir(), 'envd-build-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function build(runtime: string, outfile: string, extra: string[] = []) {
  return spawnSync(runtime, [join(root, 'build.mjs'), '--outfile', outfile, ...extra], { cwd: root, encoding: 'utf8' });
}

describe('build.mjs', () => {
  it('node build.mjs and bun build.mjs write byte-identical bundles ending in `export default x;`', () => {
    const viaNode = build(process.execPath, join(tmp, 'node.js'), ['--no-njs-check']);
    const viaBun = build(join(root, 'node_modules/.bin/bun'), join(tmp, 'bun.js'), ['--no-njs-check']);
    expect(viaNode.status, viaNode.stderr).toBe(0);
    expect(viaBun.status, viaBun.stderr).toBe(0);
    const a = readFileSync(join(tmp, 'node.js'));
    expect(a.equals(readFileSync(join(tmp, 'bun.js')))).toBe(true);
    expect(a.toString()).toMatch(/\nexport default [A-Za-z_$][\w$]*;\n$/);
    expect(a.toString()).not.toMatch(/export\s*\{/);
  });

  it('writes the fast path maps beside the bundle, the same under Node and Bun, as the generator renders them', async () => {
    const viaNode = readFileSync(join(tmp, 'node-fast-path.conf'), 'utf8');
    expect(readFileSync(join(tmp, 'bun-fast-path.conf'), 'utf8')).toBe(viaNode);
    const { renderFastPathConf } = await import('../../src/fast-path');
    expect(viaNode).toBe(renderFastPathConf(true));
    expect(viaNode).toMatch(/^map "\$request_uri\\n/m);
    // Build-time code only: the bundle nginx loads does not carry the generator.
    expect(readFileSync(join(tmp, 'node.js'), 'utf8')).not.toContain('renderFastPathConf');
  });

  it('--fast-path-outfile names the maps file', () => {
    const out = join(tmp, 'named.conf');
    expect(build(process.execPath, join(tmp, 'named.js'), ['--no-njs-check', '--fast-path-outfile', out]).status).toBe(0);
    expect(readFileSync(out, 'utf8')).toContain('$envd_fast_route');
  });

  it('the bundle loads in the real njs CLI and replays every shared vector there', () => {
    const out = join(tmp, 'njs.js');
    expect(build(process.execPath, out, ['--no-njs-check']).status).toBe(0);
    const replay = spawnSync(process.execPath, [join(root, 'test/njs/replay.mjs'), out], { encoding: 'utf8' });
    const table = JSON.parse(readFileSync(join(root, 'test/vectors.json'), 'utf8'));
    expect(replay.status, replay.stdout + replay.stderr).toBe(0);
    expect(replay.stdout).toContain(`${table.vectors.length} of ${table.vectors.length} vectors match`);
  });

  it('lowers what it can into syntax njs runs (optional chaining, ??=)', () => {
    const entry = join(tmp, 'lowered.ts');
    writeFileSync(entry, 'const f = (o?: { a?: number }) => { let b = o?.a; b ??= 2; return b; };\nexport default { f };\n');
    const out = join(tmp, 'lowered.js');
    expect(build(process.execPath, out, ['--entry', entry, '--no-njs-check']).status).toBe(0);
    expect(readFileSync(out, 'utf8')).not.toMatch(/\?\.|\?\?=/);
  });

  const refusals: [string, string, RegExp][] = [
    ['a class', 'class A { x() { return 1; } }\nexport default { a: new A() };\n', /syntax njs cannot run[\s\S]*class/i],
    ['destructuring', 'const f = (o: { a: number }) => { const { a } = o; return a; };\nexport default { f };\n', /syntax njs cannot run[\s\S]*destructuring/i],
    ['a Map', 'const f = () => new Map();\nexport default { f };\n', /Map\/Set[\s\S]*njs does not have/],
    ['Array.from', 'const f = (s: string) => Array.from(s);\nexport default { f };\n', /Array\.from[\s\S]*njs does not have/],
    ['a regex with the s flag', 'const f = (s: string) => /a.b/s.test(s);\nexport default { f };\n', /RegExp built at run time|syntax njs cannot run/],
    ['a named export', 'export const f = 1;\nexport default { f };\n', /other exports/],
  ];
  it.each(refusals)('refuses %s with a message that says why', (_what, source, message) => {
    const entry = join(tmp, `entry-${Math.random().toString(36).slice(2)}.ts`);
    writeFileSync(entry, source);
    const out = join(tmp, 'refused.js');
    const run = build(process.execPath, out, ['--entry', entry, '--no-njs-check']);
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(message);
  });
});
