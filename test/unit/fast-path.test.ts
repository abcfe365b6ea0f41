// The fast-path generator (src/fast-path.ts) over the catalog: its patterns against the core's
// own rules, its maps against classifyRequest for the shared vectors and for generated requests,
// and the built file against a fresh generation.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ENVD_REST_CATALOG, ENVD_RPC_CATALOG } from '../../src/catalog';
import {
  DOCUMENTED_VARIABLES,
  FAST_PATH_CONF,
  charsetClass,
  claimedEndpoints,
  decimalRange,
  fastPathMaps,
  nginxToken,
  renderFastPathConf,
} from '../../src/fast-path';
import { DEFAULT_ID_CHARS, DEFAULT_ID_MAX_LENGTH, isValidPort, isValidSandboxId } from '../../src/route';
import type { ClassifyOptions, RequestFacts } from '../../src/types';
import { jsVarDefaults, njsValue, pcre, throughMaps, type FastPath } from '../support/nginx-map';
import table from '../vectors.json' with { type: 'json' };

const root = join(import.meta.dirname, '../..');
const maps = fastPathMaps(true);
const whole = (pattern: string) => new RegExp('^' + pattern + '$');

/** Every documented variable through the maps equals njs's value for the same request. */
function expectSameAsNjs(req: RequestFacts, options?: ClassifyOptions): FastPath {
  const result = throughMaps(maps, req, options);
  for (const name of DOCUMENTED_VARIABLES) {
    expect(result.values[name].value, `$${name} of ${JSON.stringify({ req, options })}`).toBe(njsValue(req, options, name));
  }
  return result.fastPath;
}

describe('fast path patterns, against the core rules they stand for', () => {
  it('decimalRange(65535) is isValidPort: every number 0-99999, and spellings isValidPort refuses', () => {
    const port = whole(decimalRange(65535));
    for (let n = 0; n <= 99_999; n++) expect(port.test(String(n)), String(n)).toBe(isValidPort(String(n)));
    for (const s of ['', '00', '01', '080', '065535', '+1', '-1', '1e3', '0x50', ' 80', '80 ', '100000', '655350', '８０']) {
      expect(port.test(s), s).toBe(isValidPort(s));
    }
  });

  it('decimalRange is exact for other bounds too', () => {
    for (const max of [1, 9, 10, 19, 99, 100, 255, 1000, 20000, 65535, 99999]) {
      const re = whole(decimalRange(max));
      for (let n = 0; n <= Math.min(max * 10 + 10, 200_000); n++) expect(re.test(String(n)), `${n} of 1-${max}`).toBe(n >= 1 && n <= max);
      expect(re.test('0' + max)).toBe(false);
    }
  });

  it('the default id pattern is isValidSandboxId under the default settings', () => {
    const id = whole(charsetClass(DEFAULT_ID_CHARS) + `{1,${DEFAULT_ID_MAX_LENGTH}}`);
    const samples = ['', 'a', 'abc123', 'ABC', 'a-b', 'a_b', 'a.b', '%61', 'é', 'x'.repeat(63), 'x'.repeat(64), '0', 'z9', ' a', 'a\n'];
    for (const s of samples) expect(id.test(s), JSON.stringify(s)).toBe(isValidSandboxId(s));
    for (let c = 0; c < 256; c++) expect(id.test(String.fromCharCode(c)), `char ${c}`).toBe(isValidSandboxId(String.fromCharCode(c)));
  });

  it('charsetClass reads a charset spec as the core does', () => {
    for (const spec of ['a-z0-9-', 'a-f', '-a', 'a-', '^x', ']', '\\', 'a-z0-9_.']) {
      const re = whole(charsetClass(spec) + '{1,8}');
      for (let c = 32; c < 127; c++) {
        const ch = String.fromCharCode(c);
        expect(re.test(ch), `${JSON.stringify(ch)} in ${spec}`).toBe(isValidSandboxId(ch, { idChars: spec, idMaxLength: 8 }));
      }
    }
  });

  it('tokens nginx would misread are refused, newlines and tabs are escaped', () => {
    expect(nginxToken('a\nb\tc')).toBe('"a\\nb\\tc"');
    expect(() => nginxToken('a"b')).toThrow(/nginx token/);
    expect(() => nginxToken('a\\nb')).toThrow(/nginx token/);
  });
});

describe('fast path over the catalog', () => {
  const claims = claimedEndpoints();
  const claimed = claims.map((e) => e.rpc);
  const kindOf = (name: string) => (name.charAt(0) === '/' ? ENVD_REST_CATALOG[name] : ENVD_RPC_CATALOG[name]);
  const all = Object.keys(ENVD_RPC_CATALOG).concat(Object.keys(ENVD_REST_CATALOG));
  const buffered = all.filter((name) => kindOf(name) === 'unary' || kindOf(name) === 'rest');
  const streams = all.filter((name) => kindOf(name) === 'server_stream' || kindOf(name) === 'client_stream');
  const others = all.filter((name) => buffered.indexOf(name) < 0 && streams.indexOf(name) < 0);

  it('claims every method and REST endpoint but the internal ones: unary ones for unary media only', () => {
    expect([...claimed].sort()).toEqual([...buffered, ...streams].sort());
    expect(others).toEqual(['/init']);
    for (const e of claims) {
      const kind = kindOf(e.rpc);
      expect(e.mode, e.rpc).toBe(kind === 'server_stream' ? 'stream' : kind === 'client_stream' ? 'duplex' : 'buffer');
      expect(e.unaryMediaOnly, e.rpc).toBe(e.mode === 'buffer');
    }
  });

  const forms = (path: string): RequestFacts[] => [
    { method: 'POST', host: '49983-abc123.sandbox.test', uri: path, contentType: 'application/json' },
    { method: 'POST', host: 'cubeproxy.test', uri: '/sandbox/abc123/49983' + path, contentType: 'application/proto' },
    { method: 'GET', host: '3000-x.Example.COM:8443', uri: path + '?q=%2F..%2F' },
    { method: 'GET', host: 'cubeproxy.test:80', uri: '/sandbox/z/65535' + path + '?a=/b' },
  ];
  /** The same requests in the streaming protocols: the media a claim for unary media refuses. */
  const streamingForms = (path: string): RequestFacts[] =>
    forms(path).flatMap((req) => [
      { ...req, contentType: 'application/connect+json' },
      { ...req, contentType: 'Application/gRPC-Web+proto' },
      { ...req, contentType: 'application/grpc' },
      { ...req, accept: 'text/event-stream' },
    ]);

  it.each(buffered)('%s: decided natively in the host and path forms, as njs would; streaming media go to njs', (name) => {
    const path = name.charAt(0) === '/' ? name : '/' + name;
    for (const req of forms(path)) expect(expectSameAsNjs(req), JSON.stringify(req)).toBe('all');
    if (name.charAt(0) === '/') for (const req of forms(path + '/')) expect(expectSameAsNjs(req)).toBe('all');
    for (const req of streamingForms(path)) expect(expectSameAsNjs(req), JSON.stringify(req)).toBe('njs');
  });

  it.each(streams)('%s: decided natively in the host and path forms whatever the media, as njs would', (name) => {
    const path = '/' + name;
    for (const req of forms(path).concat(streamingForms(path))) expect(expectSameAsNjs(req), JSON.stringify(req)).toBe('all');
    // An upgrade makes it a tunnel, and another sandbox in the headers a refusal: njs decides.
    for (const req of forms(path)) {
      expect(expectSameAsNjs({ ...req, upgrade: 'websocket', connection: 'upgrade' })).toBe('njs');
      expect(expectSameAsNjs({ ...req, sandboxIdHeader: 'other1' })).toBe('njs');
    }
  });

  it.each(others)('%s: left to njs in every form', (name) => {
    const path = name.charAt(0) === '/' ? name : '/' + name;
    for (const req of forms(path)) expect(expectSameAsNjs(req), JSON.stringify(req)).toBe('njs');
  });
});

describe('fast path over the shared vectors', () => {
  it.each(table.vectors.map((v) => [v.name, v] as const))('%s', (_name, vector) => {
    const options = vector.options ? (table.optionSets as Record<string, ClassifyOptions>)[vector.options] : undefined;
    const declared = (vector as { fastPath?: string }).fastPath;
    expect(['all', 'route', 'njs'], 'every vector declares its fastPath').toContain(declared);
    expect(expectSameAsNjs(vector.request as RequestFacts, options)).toBe(declared);
  });
});

describe('fast path over generated requests (fast-check)', () => {
  // Requests the fast path claims, then up to three mutations that may push them over the boundary.
  const unary = claimedEndpoints().map((e) => (e.rpc.charAt(0) === '/' ? e.rpc : '/' + e.rpc));
  const validId = fc.oneof(fc.stringMatching(/^[a-z0-9]{1,63}$/), fc.constantFrom('abc123', 'x'.repeat(63), '0'));
  const validPort = fc.oneof(fc.integer({ min: 1, max: 65535 }).map(String), fc.constantFrom('1', '9', '10', '65535', '49983'));
  const query = fc.constantFrom('', '?', '?a=b', '?x=/../%2f//', '?connect=v1&message=%7B%7D', '?p=%00#x');
  const domain = fc.constantFrom('sandbox.test', 'Example.COM', 'x', 'a.b.c', 'x:8080', 'x:', 'a-b_c.d');
  const unaryType = fc.constantFrom(undefined, '', 'application/json', 'Application/JSON; charset=utf-8', 'application/json ;x=1', 'application/proto',
    'multipart/form-data; boundary=x', 'APPLICATION/OCTET-STREAM');
  const quietAccept = fc.constantFrom(undefined, '', '*/*', 'application/json', 'text/html, */*;q=0.8');
  const claimable = fc.record({
    form: fc.constantFrom('path', 'host', 'none'),
    id: validId,
    port: validPort,
    endpoint: fc.oneof(fc.constantFrom(...unary), fc.constantFrom(...Object.keys(ENVD_REST_CATALOG).filter((n) => ENVD_REST_CATALOG[n] === 'rest').map((n) => n + '/'))),
    query,
    domain,
    plainHost: fc.constantFrom('cubeproxy.test', 'cubeproxy.test:80', 'localhost', 'localhost:8081', '127.0.0.1', '[::1]:80', 'sandbox.e2b.test', 'Sandbox.x', 'a1-x.y'),
    contentType: unaryType,
    accept: quietAccept,
    method: fc.constantFrom('GET', 'POST', 'PUT'),
  }).map((g): [RequestFacts, ClassifyOptions | undefined] => {
    const req: RequestFacts = { method: g.method, host: '', uri: g.endpoint + g.query, contentType: g.contentType, accept: g.accept };
    if (g.form === 'host') req.host = `${g.port}-${g.id}.${g.domain}`;
    else req.host = g.plainHost;
    if (g.form === 'path') req.uri = `/sandbox/${g.id}/${g.port}${req.uri}`;
    return [req, undefined];
  });
  type Mutation = (req: RequestFacts, options: ClassifyOptions | undefined) => [RequestFacts, ClassifyOptions | undefined];
  const pick = <T,>(values: T[]) => fc.constantFrom(...values);
  const set = <K extends keyof RequestFacts>(key: K, values: RequestFacts[K][]): fc.Arbitrary<Mutation> =>
    pick(values).map((value) => (req, options) => [{ ...req, [key]: value }, options]);
  const rewrite = (edits: [RegExp, string][]): fc.Arbitrary<Mutation> =>
    pick(edits).map(([from, to]) => (req, options) => [{ ...req, uri: req.uri.replace(from, to) }, options]);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    set('sandboxIdHeader', ['', 'abc123', 'other1', 'ABC123', 'abc123,abc123']),
    set('sandboxPortHeader', ['', '49983', '1', '0']),
    set('upgrade', ['', 'websocket', 'h2c']),
    set('connection', ['upgrade', 'keep-alive, Upgrade', 'close']),
    set('contentType', ['application/connect+json', 'application/grpc', 'application/grpc-web+proto', 'text/plain', ' application/json',
      'application/jsonx', 'application/json\t', 'Application/Connect+Proto']),
    set('accept', ['text/event-stream', 'Text/Event-Stream;q=1', 'application/json, text/event-stream', 'text/event-streamx', 'event-stream']),
    set('host', ['', '1-x', '49983-abc', '49983-abc.', ' 49983-abc.x', '_x', '-1-abc.x', '0x50-abc.x', '49983-ABC.x', '65536-abc.x', '080-abc.x',
      '49983-abc.x:1:2', '49983-' + 'a'.repeat(64) + '.x', '49983-a_b.x', '[49983-abc.x]']),
    set('uri', ['/sandbox', '/sandbox?x', '/sandbox/', '/sandboxes/a/1/files', '/%73andbox/abc/1/files', '*', '/sandbox#x', '/', '/sandbox/abc/1']),
    rewrite([
      [/\/(?=[^/?]*(?:\?|$))/, '//'], [/^\/sandbox\/[^/]+/, '/sandbox/ABC'], [/^\/sandbox\/[^/]+/, '/sandbox/' + 'a'.repeat(64)],
      [/^(\/sandbox\/[^/]+\/)[^/]+/, '$165536'], [/^(\/sandbox\/[^/]+\/)[^/]+/, '$1080'], [/^(\/sandbox\/[^/]+\/)[^/]+/, '$1+1'],
      [/files/, 'f%69les'], [/files/, 'files/x'], [/files/, 'init'], [/Stat|List|Move/, 'WatchDir'], [/\.Process\/\w+/, '.Process/Start'],
      [/\.Process\/\w+/, '.Process/StreamInput'], [/(\/[A-Za-z]+)(?=\?|$)/, '$1/'], [/(\/[A-Za-z]+)(?=\?|$)/, '$1#x'], [/\?/, '/.?'],
      [/^/, '/sandbox/abc123/49983'], [/\/(?=[a-zA-Z])/, '/./'], [/\/(?=[a-zA-Z])/, '/\\'],
    ]),
    pick<ClassifyOptions>([{ allowInternal: true }, { idChars: 'a-z0-9' }, { idMaxLength: 63 }, { idChars: '0-9a-z' },
      { idChars: 'a-z0-9-', idMaxLength: 40 }, { idMaxLength: 64 }, { idChars: '' }]).map((o): Mutation => (req) => [req, o]),
  );
  const request = fc.tuple(claimable, fc.array(mutation, { maxLength: 3 })).map(([[req, options], mutations]) =>
    mutations.reduce<[RequestFacts, ClassifyOptions | undefined]>((acc, m) => m(acc[0], acc[1]), [req, options]));

  it('every variable through the maps equals njs, for 30,000 requests around the boundary', () => {
    const counts: Record<FastPath, number> = { all: 0, route: 0, njs: 0 };
    fc.assert(
      fc.property(request, ([req, opts]) => {
        const facts = Object.fromEntries(Object.entries(req).filter(([, v]) => v !== undefined)) as unknown as RequestFacts;
        counts[expectSameAsNjs(facts, opts)]++;
      }),
      { numRuns: 30_000 },
    );
    console.log(`fast path over generated requests: ${JSON.stringify(counts)}`);
    // The generator must reach both sides of the boundary, or the property proves little.
    expect(counts.all).toBeGreaterThan(3000);
    expect(counts.route).toBeGreaterThan(3000);
    expect(counts.njs).toBeGreaterThan(3000);
  });
});

describe('the generated file', () => {
  it(`dist/${FAST_PATH_CONF} is what the generator renders from the current catalog (run \`npm run build\`)`, () => {
    const built = join(root, 'dist', FAST_PATH_CONF);
    expect(existsSync(built), `${built} is missing: run \`npm run build\``).toBe(true);
    expect(readFileSync(built, 'utf8')).toBe(renderFastPathConf(true));
  });

  it('names every catalog entry it claims, and no internal one', () => {
    const text = renderFastPathConf(true);
    for (const name of claimedEndpoints().map((e) => e.rpc)) expect(text).toContain(name.replace(/\./g, '\\.'));
    for (const name of Object.keys(ENVD_REST_CATALOG).filter((n) => ENVD_REST_CATALOG[n] === 'internal')) expect(text).not.toContain(name);
  });

  it('defines each documented variable once, as a map falling back to its njs twin of envd.conf', () => {
    const text = renderFastPathConf(true);
    const envdConf = readFileSync(join(root, 'conf.d/envd.conf'), 'utf8');
    for (const name of DOCUMENTED_VARIABLES) {
      expect(text.match(new RegExp(`^map .* \\$${name} \\{$`, 'gm')), name).toHaveLength(1);
      expect(text).toContain(`default "$${name}_js";`);
      expect(envdConf).toMatch(new RegExp(`^js_set \\$${name}_js +envd\\.\\w+;`, 'm'));
      // A second definition of the same name (js_set, js_var, set, map) would silently replace the map.
      const definition = new RegExp(`^\\s*(?:(?:js_set|js_var|set)\\s+|map\\s+\\S+\\s+)\\$${name}(?!\\w)`, 'm');
      expect(envdConf.replace(/#.*$/gm, '')).not.toMatch(definition);
      expect(`map $x $${name} {`).toMatch(definition);
    }
    expect(envdConf).toMatch(new RegExp(`^include conf\\.d/envd/${FAST_PATH_CONF.replace(/\./g, '\\.')};$`, 'm'));
  });

  it('is built for the id settings envd.conf declares as defaults', () => {
    const defaults = jsVarDefaults();
    expect(defaults.envd_sandbox_id_chars).toBe(DEFAULT_ID_CHARS);
    expect(defaults.envd_sandbox_id_max_length).toBe(String(DEFAULT_ID_MAX_LENGTH));
  });

  it('without native entries, every variable comes from njs', () => {
    const off = fastPathMaps(false);
    for (const v of table.vectors) {
      const options = v.options ? (table.optionSets as Record<string, ClassifyOptions>)[v.options] : undefined;
      const result = throughMaps(off, v.request as RequestFacts, options);
      for (const name of DOCUMENTED_VARIABLES) expect(result.values[name].njs, name).toEqual([`${name}_js`]);
    }
    expect(renderFastPathConf(false)).not.toContain('"~');
  });

  it('the PCRE-to-JavaScript reading keeps PCRE\'s `$` before a final newline', () => {
    expect(pcre('^a$', false).test('a\n')).toBe(true);
    expect(pcre('^a$', false).test('a\n\n')).toBe(false);
  });
});
