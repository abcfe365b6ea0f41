// Generated requests (fast-check) over the core: total, deterministic, the path-route strip
// round-trips, and `reject` exactly when an independent reading of the rules says invalid.
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { classifyRequest } from '../../src/classify';
import type { RequestFacts } from '../../src/types';

const RUNS = 25_000;
let generated = 0;
afterAll(() => console.log(`fast-check: ${generated} generated requests classified`));

const MODES = ['stream', 'duplex', 'buffer', 'upgrade', 'reject'];
const nasty = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 80 }),
  fc.constantFrom('/sandbox/', '..', '%2e', '%2F', '%00', '//', '\\', '?', ':', '[', '%', '-', '.', '49983', 'abc123', 'sandbox.'),
);
const text = fc.array(nasty, { maxLength: 6 }).map((parts) => parts.join(''));
const facts: fc.Arbitrary<RequestFacts> = fc.record(
  {
    method: fc.constantFrom('GET', 'POST', 'PUT', 'OPTIONS', ''),
    host: text,
    uri: text,
    contentType: fc.option(fc.oneof(text, fc.constantFrom('application/json', 'application/connect+json', 'application/grpc', 'application/grpc-web+proto')), { nil: undefined }),
    accept: fc.option(fc.oneof(text, fc.constant('text/event-stream')), { nil: undefined }),
    upgrade: fc.option(text, { nil: undefined }),
    connection: fc.option(text, { nil: undefined }),
    sandboxIdHeader: fc.option(text, { nil: undefined }),
    sandboxPortHeader: fc.option(text, { nil: undefined }),
  },
  { requiredKeys: ['method', 'host', 'uri'] },
);

const counted = <A extends unknown[]>(predicate: (...args: A) => void) => (...args: A) => {
  generated++;
  predicate(...args);
};

describe('classifyRequest over generated requests', () => {
  it('is total: never throws, always a known mode, a rejection exactly with reject', () => {
    fc.assert(
      fc.property(facts, counted((req: RequestFacts) => {
        const c = classifyRequest(req);
        expect(MODES).toContain(c.mode);
        expect(c.mode === 'reject').toBe(c.rejection !== undefined);
        if (c.rejection) expect(c.rejection.status).toBeGreaterThanOrEqual(400);
        if (c.rejection) expect(c.rejection.status).toBeLessThan(500);
      })),
      { numRuns: RUNS },
    );
  });

  it('is deterministic', () => {
    fc.assert(
      fc.property(facts, counted((req: RequestFacts) => {
        expect(classifyRequest({ ...req })).toEqual(classifyRequest({ ...req }));
      })),
      { numRuns: RUNS },
    );
  });

  const id = fc.stringMatching(/^[a-z0-9]{1,63}$/);
  const port = fc.integer({ min: 1, max: 65535 }).map(String);
  const segment = fc.stringMatching(/^[A-Za-z0-9_~-][A-Za-z0-9._~-]{0,12}$/).filter((s) => s !== '.' && s !== '..');
  const rest = fc.array(segment, { maxLength: 4 }).map((parts) => parts.map((p) => '/' + p).join(''));
  const query = fc.option(fc.stringMatching(/^[A-Za-z0-9=&%./-]{0,20}$/), { nil: undefined }).map((q) => (q === undefined ? '' : '?' + q));

  it('strips the path-route prefix and keeps the rest and the query, so the URI round-trips', () => {
    fc.assert(
      fc.property(id, port, rest, query, counted((i: string, p: string, r: string, q: string) => {
        const uri = `/sandbox/${i}/${p}${r}${q}`;
        const c = classifyRequest({ method: 'GET', host: 'cubeproxy.test', uri });
        expect(c.mode).not.toBe('reject');
        expect(c.route).toBe('path');
        expect([c.sandboxId, c.sandboxPort]).toEqual([i, p]);
        expect(c.upstreamUri).toBe((r || '/') + q);
        expect(`/sandbox/${i}/${p}${r ? c.upstreamUri : c.upstreamUri.slice(1)}`).toBe(uri);
      })),
      { numRuns: RUNS },
    );
  });

  // The rules of README "Validation", read independently of src/route.ts.
  function oracleValid(i: string, p: string, path: string, idHeader?: string): boolean {
    const idOk = i.length >= 1 && i.length <= 63 && i.split('').every((ch) => 'abcdefghijklmnopqrstuvwxyz0123456789'.includes(ch));
    const portOk = /^\d+$/.test(p) && p[0] !== '0' && Number(p) >= 1 && Number(p) <= 65535;
    const lower = path.toLowerCase();
    const pathOk =
      !lower.includes('%2f') && !lower.includes('%5c') && !lower.includes('%00') && !path.includes('\\') && !path.includes('//') &&
      !path.replace(/%2e/gi, '.').split('/').some((s) => s === '.' || s === '..');
    return idOk && portOk && pathOk && (idHeader === undefined || idHeader === i);
  }
  const maybeId = fc.oneof(id, fc.constantFrom('', 'ABC', 'a_b', 'a.b', 'x'.repeat(64), 'a-b', '%61'));
  const maybePort = fc.oneof(port, fc.constantFrom('0', '65536', '99999999', '080', '+80', '0x50', '', '1e3', '８０'));
  const maybePath = fc.oneof(rest.map((r) => r || '/'), fc.constantFrom('/a/../b', '/%2e%2E/x', '/a%2fb', '//x', '/a\\b', '/./x', '/x/.', '/%2E'));
  const maybeHeader = fc.option(fc.oneof(id, fc.constant('other1')), { nil: undefined });

  it('rejects a host-routed request exactly when the rules say it is invalid', () => {
    fc.assert(
      fc.property(maybeId, maybePort, maybePath, maybeHeader, counted((i: string, p: string, path: string, h: string | undefined) => {
        const c = classifyRequest({ method: 'GET', host: `${p}-${i}.sandbox.test`, uri: path, sandboxIdHeader: h });
        // A host that does not even look like <digits>-<id>. is simply not the host form.
        if (!/^\d+-[^.]+\./.test(`${p}-${i}.sandbox.test`)) return void expect(c.route).not.toBe('host');
        // Host names are case-insensitive, and the id is the label up to the first dot.
        const hostId = i.toLowerCase().split('.')[0];
        expect(c.mode === 'reject', JSON.stringify({ i, p, path, h, c })).toBe(!oracleValid(hostId, p, path, h));
      })),
      { numRuns: RUNS },
    );
  });
});
