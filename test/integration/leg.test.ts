// Which nginx, njs and engine this leg really ran. The matrix (scripts/matrix.mjs) claims them in
// ENVD_EDGE_EXPECT_NGINX / ENVD_EDGE_EXPECT_NJS (version prefixes) and ENVD_EDGE_EXPECT_ENGINE
// (njs | qjs); the edge's /_envd/version endpoint and its Server header must agree. Unset, a local
// run is checked against the local `nginx -v` and `njs -v`.
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engine, legName, printLogOnFailure, runner, startEdge, type Edge } from '../support/edge';
import { startTestUpstream, type TestUpstream } from '../support/upstream';
// @ts-expect-error plain ESM tool module without types
import { nginxVersion } from '../../tools/nginx.mjs';

/** What njs.engine says (absent before njs 0.8.x) → the value of nginx's `js_engine` directive. */
const ENGINE_OF: Record<string, string> = { njs: 'njs', QuickJS: 'qjs' };

/** `version` is `prefix` or starts with `prefix.` (1.30 matches 1.30.6, not 1.3.0). */
function matchesPrefix(version: string, prefix: string): boolean {
  return version === prefix || version.startsWith(prefix + '.');
}

function localExpectations(): { nginx?: string; njs?: string } {
  if (runner() !== 'local') return {};
  const njs = spawnSync('njs', ['-v'], { encoding: 'utf8' });
  return {
    nginx: /nginx\/(\S+)/.exec(nginxVersion())?.[1],
    njs: njs.status === 0 ? njs.stdout.trim() : undefined,
  };
}

describe(`leg identity (${legName()})`, () => {
  let upstream: TestUpstream;
  let edge: Edge;
  let reported: { nginx: string; njs: string; engine: string; rawEngine: string };
  beforeAll(async () => {
    upstream = await startTestUpstream();
    edge = await startEdge({ upstream: upstream.address });
    const res = await fetch(`${edge.url}/_envd/version`);
    const body = (await res.json()) as { njs: string; engine: string };
    const server = res.headers.get('server') || '';
    reported = {
      nginx: /^nginx\/(\S+)/.exec(server)?.[1] || server,
      njs: body.njs,
      engine: ENGINE_OF[body.engine] || body.engine,
      rawEngine: body.engine,
    };
    // One parseable line per leg for the matrix's summary, and for a person reading the log.
    console.log(`ENVD_EDGE_LEG ${JSON.stringify({ leg: legName(), ...reported })}`);
  });
  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });
  printLogOnFailure(() => [edge]);

  it('nginx is the version the leg claims', () => {
    const expected = process.env.ENVD_EDGE_EXPECT_NGINX || localExpectations().nginx;
    expect(reported.nginx).toMatch(/^\d+\.\d+\.\d+$/);
    if (expected) expect(matchesPrefix(reported.nginx, expected), `nginx ${reported.nginx}, leg claims ${expected}`).toBe(true);
  });

  it('njs is the version the leg claims', () => {
    const expected = process.env.ENVD_EDGE_EXPECT_NJS || localExpectations().njs;
    expect(reported.njs).toMatch(/^\d+\.\d+\.\d+$/);
    if (expected) expect(matchesPrefix(reported.njs, expected), `njs ${reported.njs}, leg claims ${expected}`).toBe(true);
  });

  it('the JavaScript engine is the one the leg claims', () => {
    expect(reported.engine).toBe(process.env.ENVD_EDGE_EXPECT_ENGINE || engine());
  });
});
