#!/usr/bin/env node
// Writes test/corpus/hostile.json: raw HTTP requests (bytes as latin1 strings) with the status the
// edge must answer, by category. Deterministic; rerun after changing the rules:
//   node test/corpus/generate.mjs
// The expected statuses follow README "Validation" and "Errors": 400 for a malformed route,
// 403 for envd's control paths, 200 (the test upstream) for everything that is fine, and nginx's
// own 4xx where its HTTP parser refuses the request before envd-edge runs.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ID = 'abc123';
const corpus = [];
const add = (category, name, raw, status) => corpus.push({ category, name, raw, status });

function req(method, target, headers, body = '') {
  const lines = headers.map(([k, v]) => `${k}: ${v}`);
  if (body || method === 'POST') lines.push(`Content-Length: ${Buffer.byteLength(body, 'latin1')}`);
  lines.push('Connection: close');
  return `${method} ${target} HTTP/1.1\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

// Each routing form turns a sandbox-relative path into a request.
const FORMS = {
  host: (path, extra = [], port = '49983') => ['GET', path, [['Host', `${port}-${ID}.sandbox.test`], ...extra]],
  path: (path, extra = [], port = '49983') => ['GET', `/sandbox/${ID}/${port}${path}`, [['Host', 'cubeproxy.test'], ...extra]],
  header: (path, extra = [], port = '49983') => ['GET', path, [['Host', 'sandbox.e2b.test'], ['E2b-Sandbox-Id', ID], ['E2b-Sandbox-Port', port], ...extra]],
};
const build = (form, path, extra, port, method = 'GET', body = '') => {
  const [, target, headers] = FORMS[form](path, extra, port);
  return req(method, target, headers, body);
};

// 1. Dot segments, raw and encoded, that would walk out of the sandbox path or onto /init.
const dots = [
  '/../init', '/files/../init', '/./init', '/files/./../init', '/%2e%2e/init', '/%2E%2E/init', '/.%2e/init', '/%2e./init',
  '/files/%2e%2e/%2e%2e/etc/passwd', '/a/b/../../init', '/%2e/init', '/files/..', '/files/.', '/..', '/.',
];
// 2. Encoded slashes and backslashes, duplicate slashes, malformed or control encodings.
const slashes = ['/files%2f..%2finit', '/files%2F..', '/a%5cb', '/a%5C..%5Cinit', '//init', '/files//x', '///', '/a//'];
const nginxRefuses = ['/files%00', '/%00init', '/files%zz', '/files%', '/files%0', '/a%0d%0aX-Injected:%20yes'];
for (const form of Object.keys(FORMS)) {
  for (const path of dots) add('dot-segment', `${form} ${path}`, build(form, path), 400);
  for (const path of slashes) add('slash', `${form} ${path}`, build(form, path), 400);
  for (const path of nginxRefuses) add('encoding', `${form} ${path}`, build(form, path), 400);
}

// 3. Ports that are not 1-65535 in plain decimal.
const badPorts = ['0', '65536', '99999999', '99999999999999999999', '080', '00001', '+80', '-1', '0x50', '1e3', '8O', '49983 ', '%34%39%39%38%33'];
for (const port of badPorts) {
  add('port', `path port ${JSON.stringify(port)}`, req('GET', `/sandbox/${ID}/${port.replace(/ /g, '%20')}/health`, [['Host', 'cubeproxy.test']]), 400);
  if (port.trim() === port) {
    add('port', `header port ${JSON.stringify(port)}`, req('GET', '/health', [['Host', 'sandbox.e2b.test'], ['E2b-Sandbox-Id', ID], ['E2b-Sandbox-Port', port]]), 400);
  }
  if (!port.includes(' ') && !port.includes('%')) {
    // Only `<digits>-<id>.` is the host form: `0x50-…`, `+80-…` name no sandbox and keep the
    // server's own locations (200 from the test upstream).
    add('port', `host port ${JSON.stringify(port)}`, req('GET', '/health', [['Host', `${port}-${ID}.sandbox.test`]]), /^\d+$/.test(port) ? 400 : 200);
  }
}

// 4. Ids outside [a-z0-9]{1,63}.
const badIds = ['ABC', 'a_b', 'a.b', 'a-b', 'x'.repeat(64), 'x'.repeat(5000), '%61bc', 'ab%20c', 'é', '..', '.', '~a', 'a+b', 'a:b'];
for (const id of badIds) {
  const pathId = id.replace('é', '%C3%A9');
  add('id', `path id ${JSON.stringify(id.slice(0, 20))}`, req('GET', `/sandbox/${pathId}/49983/health`, [['Host', 'cubeproxy.test']]), 400);
  if (!/[^\x21-\x7e]/.test(id)) {
    add('id', `header id ${JSON.stringify(id.slice(0, 20))}`, req('GET', '/health', [['Host', 'sandbox.e2b.test'], ['E2b-Sandbox-Id', id], ['E2b-Sandbox-Port', '49983']]), 400);
  }
}
// Host labels are case-insensitive, and `a.b` makes `a` the id: those two are valid host routes.
for (const id of ['a_b', 'x'.repeat(64), '~a', 'a+b']) {
  add('id', `host id ${JSON.stringify(id.slice(0, 20))}`, req('GET', '/health', [['Host', `49983-${id}.sandbox.test`]]), 400);
}

// 5. Routing headers: one without the other, conflicts with the host or path, duplicates.
for (const host of ['sandbox.e2b.test', 'localhost', '127.0.0.1', '[::1]']) {
  add('headers', `${host}: id without port`, req('GET', '/health', [['Host', host], ['E2b-Sandbox-Id', ID]]), 400);
  add('headers', `${host}: port without id`, req('GET', '/health', [['Host', host], ['E2b-Sandbox-Port', '49983']]), 400);
  add('headers', `${host}: empty id`, req('GET', '/health', [['Host', host], ['E2b-Sandbox-Id', ''], ['E2b-Sandbox-Port', '49983']]), 400);
  add('headers', `${host}: two different ids`, req('GET', '/health', [['Host', host], ['E2b-Sandbox-Id', ID], ['E2b-Sandbox-Id', 'other1'], ['E2b-Sandbox-Port', '49983']]), 400);
}
add('headers', 'host names abc123, header names other1', req('GET', '/health', [['Host', `49983-${ID}.sandbox.test`], ['E2b-Sandbox-Id', 'other1']]), 400);
add('headers', 'path names abc123, header names other1', req('GET', `/sandbox/${ID}/49983/health`, [['Host', 'cubeproxy.test'], ['E2b-Sandbox-Id', 'other1']]), 400);
add('headers', 'host names port 49983, header names 3000', req('GET', '/health', [['Host', `49983-${ID}.sandbox.test`], ['E2b-Sandbox-Port', '3000']]), 400);
add('headers', 'path names port 49983, header names 1', req('GET', `/sandbox/${ID}/49983/health`, [['Host', 'cubeproxy.test'], ['E2b-Sandbox-Port', '1']]), 400);

// 6. envd's control path, every spelling, every form, every method.
const internal = ['/init', '/init/', '/%69nit', '/%69%6E%69%74', '/i%6eit', '/init?x=1', '/init?', '/%69nit/'];
for (const form of Object.keys(FORMS)) {
  for (const path of internal) {
    for (const method of ['GET', 'POST', 'PUT']) {
      add('internal', `${form} ${method} ${path}`, build(form, path, method === 'GET' ? [] : [['Content-Type', 'application/json']], '49983', method, method === 'GET' ? '' : '{}'), 403);
    }
  }
}
// Look-alikes that are not the control path reach envd.
for (const path of ['/initx', '/INIT', '/init.html', '/files/init', '/init%2Dx']) {
  add('internal', `host look-alike ${path}`, build('host', path), 200);
}

// 7. Oversized parts.
add('size', 'request target of 9000 bytes', build('host', '/files?path=' + 'a'.repeat(9000)), 414);
add('size', 'path of 8300 bytes', build('host', '/' + 'a'.repeat(8300)), 414);
add('size', 'one header of 9000 bytes', build('host', '/health', [['X-Big', 'b'.repeat(9000)]]), 400);
add('size', 'host of 300 bytes', req('GET', '/health', [['Host', `49983-${'h'.repeat(300)}.sandbox.test`]]), 400);
add('size', 'E2b-Sandbox-Port of 2000 bytes', req('GET', '/health', [['Host', 'sandbox.e2b.test'], ['E2b-Sandbox-Id', ID], ['E2b-Sandbox-Port', '9'.repeat(2000)]]), 400);

// 8. HTTP that nginx's parser refuses before any njs runs.
add('http', 'no Host in HTTP/1.1', 'GET /health HTTP/1.1\r\nConnection: close\r\n\r\n', 400);
add('http', 'two Host headers', req('GET', '/health', [['Host', `49983-${ID}.sandbox.test`], ['Host', `49983-other1.sandbox.test`]]), 400);
add('http', 'Content-Length and Transfer-Encoding', `POST /process.Process/List HTTP/1.1\r\nHost: 49983-${ID}.sandbox.test\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n0\r\n\r\n`, 400);
add('http', 'bad chunk size', `POST /process.Process/List HTTP/1.1\r\nHost: 49983-${ID}.sandbox.test\r\nTransfer-Encoding: chunked\r\nContent-Type: application/json\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400);
add('http', 'space in the target', `GET /files x HTTP/1.1\r\nHost: 49983-${ID}.sandbox.test\r\nConnection: close\r\n\r\n`, 400);
add('http', 'NUL in a header', req('GET', '/health', [['Host', `49983-${ID}.sandbox.test`], ['X-A', 'a\x00b']]), 400);
// nginx drops an invalid header line (ignore_invalid_headers) and serves the request.
add('http', 'header line without a colon is dropped', `GET /health HTTP/1.1\r\nHost: 49983-${ID}.sandbox.test\r\nbroken\r\nConnection: close\r\n\r\n`, 200);
add('http', 'header value with surrounding spaces is trimmed', req('GET', '/health', [['Host', 'sandbox.e2b.test'], ['E2b-Sandbox-Id', ID], ['E2b-Sandbox-Port', '49983 ']]), 200);
add('http', 'bad Host characters', req('GET', '/health', [['Host', '49983-abc/123.sandbox.test']]), 400);
add('http', 'lowercase method', `get /health HTTP/1.1\r\nHost: 49983-${ID}.sandbox.test\r\nConnection: close\r\n\r\n`, 400);
add('http', 'negative Content-Length', `POST /health HTTP/1.1\r\nHost: 49983-${ID}.sandbox.test\r\nContent-Length: -1\r\nConnection: close\r\n\r\n`, 400);

// 9. Hostile but valid: these reach envd (the test upstream answers 200).
const benign = [
  '/health', '/health?path=..%2F..%2Fetc%2Fpasswd', '/health?path=/a//b&x=%00', '/process.Process/%4Cist', '/a%20b', '/%7Euser',
  '/health?path=%2e%2e', '/health?path=../../init', '/sandbox/other/1/x', '/_envd/version', '/_envd/explain', '/init-not', '/~', '/a;b', '/a=b', "/a'b",
];
for (const form of Object.keys(FORMS)) {
  for (const path of benign) {
    if (form === 'host' || !path.startsWith('/sandbox/')) add('benign', `${form} ${path}`, build(form, path), 200);
  }
  for (const type of ['application/connect+json; x=1', 'APPLICATION/JSON', 'application/grpc-web-text', 'text/event-stream', 'multipart/form-data; boundary=----x', '']) {
    add('benign', `${form} POST content-type ${JSON.stringify(type)}`, build(form, '/process.Process/List', [['Content-Type', type]], '49983', 'POST', '{}'), 200);
  }
  for (const method of ['PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD']) {
    add('benign', `${form} ${method} /files`, build(form, '/files?path=x', [], '49983', method), 200);
  }
  for (const port of ['1', '80', '3000', '65535']) add('benign', `${form} port ${port}`, build(form, '/health', [], port), 200);
  add('benign', `${form} Upgrade without Connection: upgrade`, build(form, '/ws', [['Upgrade', 'websocket']]), 200);
  add('benign', `${form} Accept wildcard`, build(form, '/page', [['Accept', '*/*;q=0.1, text/*']]), 200);
}
add('benign', 'host with a trailing dot', req('GET', '/health', [['Host', `49983-${ID}.sandbox.test.`]]), 200);
add('benign', 'host with a port', req('GET', '/health', [['Host', `49983-${ID}.sandbox.test:443`]]), 200);
add('benign', 'upper-case host', req('GET', '/health', [['Host', `49983-${ID.toUpperCase()}.SANDBOX.TEST`]]), 200);
add('benign', 'host without a domain is not the host form', req('GET', '/health', [['Host', `49983-${ID}`]]), 200);
add('benign', 'routing headers on a foreign host are ignored', req('GET', '/health', [['Host', 'api.e2b.test'], ['E2b-Sandbox-Id', 'x_y']]), 200);
add('benign', '/sandboxes is not the path form', req('GET', `/sandboxes/${ID}/0/health`, [['Host', 'cubeproxy.test']]), 200);
add('benign', 'HTTP/1.0 without Host', 'GET /health HTTP/1.0\r\n\r\n', 200);

// 10. The whole unary catalog and the REST endpoints, in every form, with odd but valid details.
const UNARY = ['process.Process/List', 'process.Process/Update', 'process.Process/SendInput', 'process.Process/SendSignal',
  'process.Process/CloseStdin', 'filesystem.Filesystem/Stat', 'filesystem.Filesystem/MakeDir', 'filesystem.Filesystem/Move',
  'filesystem.Filesystem/ListDir', 'filesystem.Filesystem/Remove', 'filesystem.Filesystem/CreateWatcher',
  'filesystem.Filesystem/GetWatcherEvents', 'filesystem.Filesystem/RemoveWatcher'];
for (const form of Object.keys(FORMS)) {
  for (const method of UNARY) {
    for (const type of ['application/json', 'application/proto']) {
      // The test upstream answers SendSignal with envd's own 404, which must pass through.
      const status = method === 'process.Process/SendSignal' ? 404 : 200;
      add('catalog', `${form} ${method} ${type}`, build(form, '/' + method, [['Content-Type', type], ['Connect-Protocol-Version', '1']], '49983', 'POST', '{}'), status);
    }
  }
  for (const port of ['2', '22', '443', '1024', '8080', '49982', '50000', '60000', '65534', '9999']) {
    add('port', `${form} valid port ${port}`, build(form, '/health', [], port), 200);
  }
  for (const path of ['/health', '/envs', '/metrics']) {
    for (const method of ['GET', 'POST', 'DELETE']) add('rest', `${form} ${method} ${path}`, build(form, path, [], '49983', method), 200);
  }
}

const out = join(dirname(fileURLToPath(import.meta.url)), 'hostile.json');
writeFileSync(out, JSON.stringify({ about: 'Generated by test/corpus/generate.mjs: do not edit by hand.', requests: corpus }, null, 1) + '\n');
console.log(`wrote ${corpus.length} requests to ${out}`);
