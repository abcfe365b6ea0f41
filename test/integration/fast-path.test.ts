// The native fast path against njs, on real nginx: two nginx processes echo the documented
// variables for the same raw requests, one with the generated maps (dist/envd-fast-path.conf),
// one with the same maps stripped of their native entries (njs decides every request). Every
// answer must be byte for byte the same: the shared vectors, the hostile corpus, and requests
// only raw HTTP can send (repeated or empty headers, absolute targets, HTTP/1.0 without Host).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FAST_PATH_CONF, renderFastPathConf } from '../../src/fast-path';
import { rawHttp, sendRaw, vectorRaw } from '../support/client';
import { startNginx, type Nginx } from '../support/edge';
import { echoConf, type Options } from '../support/echo-conf';
// @ts-expect-error plain ESM tool module without types
import { freePort } from '../../tools/nginx.mjs';
import corpus from '../corpus/hostile.json' with { type: 'json' };
import table from '../vectors.json' with { type: 'json' };

const optionSets = table.optionSets as Record<string, Options>;

const ECHO = `location / {
            default_type text/plain;
            set $envd_test_dispatch "$envd_location|$envd_upstream_uri";
            set $envd_test_njs_after_dispatch $envd_memo;
            return 200 "$envd_mode|$envd_route|$envd_sandbox_id|$envd_sandbox_port|$envd_rpc|$envd_upstream_uri|$envd_location\\n$envd_test_njs_ran\\n";
        }`;

function conf(listens: Record<string, number>): string {
  const servers = Object.entries(listens).map(([name, port]) => ({
    listen: `127.0.0.1:${port}`,
    options: name === 'default' ? undefined : optionSets[name],
  }));
  return echoConf(servers, ECHO, 'map $envd_test_njs_after_dispatch $envd_test_njs_ran { "" native; default njs; }');
}

/** Raw requests that header objects cannot express: the fast path must still agree with njs. */
function rawOnly(): { name: string; raw: string }[] {
  const stat = (headers: string[], target = '/filesystem.Filesystem/Stat', version = 'HTTP/1.1') =>
    `POST ${target} ${version}\r\n${headers.concat(['Content-Length: 0', 'Connection: close']).join('\r\n')}\r\n\r\n`;
  const hostForm = 'Host: 49983-abc123.sandbox.test';
  const pathTarget = '/sandbox/abc123/49983/filesystem.Filesystem/Stat';
  const out: { name: string; raw: string }[] = [
    { name: 'Accept repeated, text/event-stream second', raw: stat([hostForm, 'Content-Type: application/json', 'Accept: application/json', 'Accept: text/event-stream']) },
    { name: 'Accept repeated, text/event-stream first', raw: stat([hostForm, 'Accept: text/event-stream', 'Accept: application/json']) },
    { name: 'Upgrade empty, then websocket', raw: stat([hostForm, 'Upgrade:', 'Upgrade: websocket', 'Connection: upgrade']) },
    { name: 'Content-Type repeated, connect+json second', raw: stat([hostForm, 'Content-Type: application/json', 'Content-Type: application/connect+json']) },
    { name: 'Content-Type repeated, connect+json first', raw: stat([hostForm, 'Content-Type: application/connect+json', 'Content-Type: application/json']) },
    { name: 'E2b-Sandbox-Id empty, then another id (host form)', raw: stat([hostForm, 'E2b-Sandbox-Id:', 'E2b-Sandbox-Id: other1']) },
    { name: 'E2b-Sandbox-Id empty, then another id (path form)', raw: stat(['Host: cubeproxy.test', 'E2b-Sandbox-Id:', 'E2b-Sandbox-Id: other1'], pathTarget) },
    { name: 'E2b-Sandbox-* empty, then a route (header host)', raw: stat(['Host: sandbox.e2b.test', 'E2b-Sandbox-Id:', 'E2b-Sandbox-Id: abc123', 'E2b-Sandbox-Port:', 'E2b-Sandbox-Port: 49983']) },
    { name: 'E2b-Sandbox-Id repeated with the route id', raw: stat(['Host: cubeproxy.test', 'E2b-Sandbox-Id: abc123', 'E2b-Sandbox-Id: abc123'], pathTarget) },
    // nginx 1.22 reads the first line of a repeated header, later versions all lines joined: the
    // fast path claims the first two there and leaves the rest to njs, which must agree anyway.
    { name: 'E2b-Sandbox-Id repeated, the route id first (path form)', raw: stat(['Host: cubeproxy.test', 'E2b-Sandbox-Id: abc123', 'E2b-Sandbox-Id: other1'], pathTarget) },
    { name: 'E2b-Sandbox-Id repeated, the route id first (host form)', raw: stat([hostForm, 'E2b-Sandbox-Id: abc123', 'E2b-Sandbox-Id: other1']) },
    { name: 'E2b-Sandbox-Id repeated, another id first (host form)', raw: stat([hostForm, 'E2b-Sandbox-Id: other1', 'E2b-Sandbox-Id: abc123']) },
    { name: 'E2b-Sandbox-Port repeated, the route port first (path form)', raw: stat(['Host: cubeproxy.test', 'E2b-Sandbox-Port: 49983', 'E2b-Sandbox-Port: 1'], pathTarget) },
    { name: 'E2b-Sandbox-* as the SDK sends them (host form)', raw: stat([hostForm, 'E2b-Sandbox-Id: abc123', 'E2b-Sandbox-Port: 49983', 'Content-Type: application/json']) },
    { name: 'E2b-Sandbox-Id upper-case (host form)', raw: stat([hostForm, 'E2b-Sandbox-Id: ABC123']) },
    { name: 'E2b-Sandbox-Id a prefix of the route id (path form)', raw: stat(['Host: cubeproxy.test', 'E2b-Sandbox-Id: abc12'], pathTarget) },
    { name: 'E2b-Sandbox-Port with a leading zero (path form)', raw: stat(['Host: cubeproxy.test', 'E2b-Sandbox-Port: 049983'], pathTarget) },
    { name: 'E2b-Sandbox-Port empty (path form)', raw: stat(['Host: cubeproxy.test', 'E2b-Sandbox-Port:'], pathTarget) },
    { name: 'lower-case routing header names', raw: stat(['Host: cubeproxy.test', 'e2b-sandbox-id: other1'], pathTarget) },
    { name: 'underscore routing header (nginx ignores it)', raw: stat(['Host: cubeproxy.test', 'E2b_Sandbox_Id: other1'], pathTarget) },
    { name: 'absolute target naming another host', raw: stat(['Host: cubeproxy.test'], 'http://49983-abc123.sandbox.test/filesystem.Filesystem/Stat') },
    { name: 'absolute target, path form', raw: stat(['Host: 49983-abc123.sandbox.test'], 'http://cubeproxy.test' + pathTarget) },
    { name: 'HTTP/1.0 without Host, path form', raw: stat([], pathTarget, 'HTTP/1.0') },
    { name: 'HTTP/1.0 without Host, absolute host-form target', raw: stat([], 'http://49983-abc123.sandbox.test/filesystem.Filesystem/Stat', 'HTTP/1.0') },
    { name: 'Host with a trailing dot', raw: stat(['Host: 49983-abc123.sandbox.test.']) },
    { name: 'Host with an upper-case id', raw: stat(['Host: 49983-ABC123.sandbox.test']) },
    { name: 'Host with an empty port', raw: stat(['Host: 49983-abc123.sandbox.test:']) },
    { name: 'Content-Type with a tab before the parameters', raw: stat([hostForm, 'Content-Type: application/json\t; charset=utf-8']) },
    { name: 'Content-Type with trailing spaces', raw: stat([hostForm, 'Content-Type: application/json   ']) },
    { name: 'a fragment after the method', raw: stat([hostForm], '/filesystem.Filesystem/Stat#x') },
    { name: 'a 6 kB query', raw: stat([hostForm], '/filesystem.Filesystem/Stat?q=' + 'a'.repeat(6000)) },
    { name: 'a query with a newline-free control byte', raw: stat([hostForm], '/files?x=%0A&y=%00') },
    { name: 'a method path with a percent-encoded slash', raw: stat([hostForm], '/filesystem.Filesystem%2FStat') },
    { name: 'OPTIONS *', raw: 'OPTIONS * HTTP/1.1\r\nHost: cubeproxy.test\r\nConnection: close\r\n\r\n' },
  ];
  for (const name of ['Stat', 'ListDir', 'WatchDir']) {
    for (const host of ['49983-abc123.sandbox.test', 'localhost', 'cubeproxy.test', '1-x.y']) {
      out.push({ name: `GET ${name} on ${host}`, raw: rawHttp('GET', `/filesystem.Filesystem/${name}`, { Host: host }).toString('latin1') });
    }
  }
  return out;
}

describe('native fast path and njs agree on real nginx', () => {
  const ports: Record<'fast' | 'njs', Record<string, number>> = { fast: {}, njs: {} };
  const servers: Nginx[] = [];
  beforeAll(async () => {
    for (const leg of ['fast', 'njs'] as const) {
      for (const name of ['default', ...Object.keys(optionSets)]) ports[leg][name] = await freePort();
      // The njs leg: the same maps without native entries (what envd-edge did before the fast path).
      const files = leg === 'njs' ? { [`conf.d/envd/${FAST_PATH_CONF}`]: renderFastPathConf(false) } : {};
      servers.push(await startNginx(conf(ports[leg]), `http://127.0.0.1:${ports[leg].default}/`, files));
    }
  });
  afterAll(async () => {
    for (const s of servers) await s.stop();
  });

  /** Both legs' answers to each request: status and body (no Date header). */
  async function compare(requests: { name: string; raw: string; options?: string }[]) {
    const differ: { name: string; fast: string; njs: string }[] = [];
    const counts = { native: 0, njs: 0, refused: 0, bodiless: 0 };
    for (const r of requests) {
      const server = r.options || 'default';
      const [fast, njs] = await Promise.all(
        (['fast', 'njs'] as const).map(async (leg) => {
          const res = await sendRaw(ports[leg][server], Buffer.from(r.raw, 'latin1'), 10_000);
          return { status: res.status, body: res.text.slice(res.text.indexOf('\r\n\r\n') + 4) };
        }),
      );
      const [fastVars, fastTrace] = fast.body.split('\n');
      const [njsVars, njsTrace] = njs.body.split('\n');
      if (fast.status !== njs.status || fastVars !== njsVars) {
        differ.push({ name: r.name, fast: `${fast.status} ${fastVars}`, njs: `${njs.status} ${njsVars}` });
      }
      if (fast.status !== 200) counts.refused++;
      else if (!fast.body) counts.bodiless++; // HEAD: nothing echoed
      else {
        // The njs leg must really have run njs, or the comparison proves nothing.
        expect(njsTrace, `njs leg for ${r.name}`).toBe('njs');
        counts[fastTrace === 'native' ? 'native' : 'njs']++;
      }
    }
    return { differ, counts };
  }

  it('on every shared vector', async () => {
    const requests = table.vectors.map((v) => ({ name: v.name, raw: vectorRaw(v.request as Record<string, string>, ['Connection: close']), options: (v as { options?: string }).options }));
    const { differ, counts } = await compare(requests);
    console.log(`vectors: ${JSON.stringify(counts)}`);
    expect(differ).toEqual([]);
    expect(counts.native).toBeGreaterThanOrEqual(20);
  });

  it(`on the ${corpus.requests.length} requests of the hostile corpus`, async () => {
    const { differ, counts } = await compare(corpus.requests.map((e) => ({ name: `${e.category}: ${e.name}`, raw: e.raw })));
    console.log(`hostile corpus: ${JSON.stringify(counts)}`);
    expect(differ).toEqual([]);
    expect(counts.native).toBeGreaterThanOrEqual(50);
  });

  it('on repeated, empty and unusual headers and targets', async () => {
    const { differ, counts } = await compare(rawOnly());
    console.log(`raw-only requests: ${JSON.stringify(counts)}`);
    expect(differ).toEqual([]);
    expect(counts.native).toBeGreaterThanOrEqual(5);
  });

  it('leaves no js exception or fallback in either error log', () => {
    for (const s of servers) expect(s.errorLog()).not.toMatch(/js exception|envd-edge: .*fell back|\[alert\]|\[crit\]/);
  });
});
