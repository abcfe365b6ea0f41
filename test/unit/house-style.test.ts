// Structural rules the project keeps: a pure core, an entry that only default-exports.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = join(import.meta.dirname, '../..');
const sources = (dir: string) =>
  readdirSync(join(root, dir))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => ({ file: `${dir}/${f}`, text: readFileSync(join(root, dir, f), 'utf8') }));

describe('house style', () => {
  it('nothing in src/ touches r, ngx or njs', () => {
    for (const { file, text } of sources('src')) {
      const code = text.replace(/\/\/.*$/gm, '').replace(/\/\*[\s\S]*?\*\//g, '');
      expect(code, file).not.toMatch(/\bngx\.|\bnjs\.|NginxHTTPRequest|\br\.(?:headersIn|variables|return|error)\b/);
    }
  });
  it('the entry file holds only imports and `export default { … }`', () => {
    const entry = readFileSync(join(root, 'njs/envd.ts'), 'utf8');
    const code = entry.replace(/^\s*\/\/.*$/gm, '').replace(/^import [^;]+;$/gm, '').trim();
    expect(code).toMatch(/^export default \{[\s\S]*\};$/);
    expect(code.match(/\bexport\b/g)).toHaveLength(1);
  });
  it('no per-request state at module scope in njs/ (QuickJS reuses contexts): only const functions', () => {
    for (const { file, text } of sources('njs')) {
      expect(text, file).not.toMatch(/^(?:let|var) /m);
    }
  });
  it("integration tests start nginx through the leg's runner, so every matrix leg runs all of them", () => {
    for (const { file, text } of sources('test/integration')) {
      expect(text, `${file}: use startEdge/startNginx from test/support/edge.ts`).not.toMatch(/\bstartLocalNginx\b|\bNGINX_NJS_MODULE\b/);
    }
  });
});
