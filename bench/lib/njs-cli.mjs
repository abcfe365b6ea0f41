// The classifier alone inside the njs CLI (the same engine as the nginx module): microseconds per
// classifyRequest() call for the unary Stat request of the requests/s runs, path- and host-routed.
// It separates the pure classification cost from what nginx adds around it (VM clone per request,
// variable access, one call per js_set variable read).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../../tools/nginx.mjs';

const SCRIPT = `
import envd from 'envd.js';
var reqs = {
  path: { method: 'POST', host: '127.0.0.1:8081', uri: '/sandbox/abc123/49983/filesystem.Filesystem/Stat', contentType: 'application/json', sandboxIdHeader: 'abc123', sandboxPortHeader: '49983' },
  host: { method: 'POST', host: '49983-abc123.sandbox.test', uri: '/filesystem.Filesystem/Stat', contentType: 'application/json', sandboxIdHeader: 'abc123', sandboxPortHeader: '49983' }
};
var out = {};
var names = Object.keys(reqs);
for (var k = 0; k < names.length; k++) {
  var req = reqs[names[k]];
  if (typeof envd.classifyRequest !== 'function') throw new Error('the bundle exports no classifyRequest');
  var mode = envd.classifyRequest(req, undefined).mode;
  for (var w = 0; w < 2000; w++) envd.classifyRequest(req, undefined);
  var n = 0;
  var t0 = Date.now();
  while (Date.now() - t0 < 400) { for (var i = 0; i < 500; i++) envd.classifyRequest(req, undefined); n += 500; }
  out[names[k]] = { us_per_call: (Date.now() - t0) * 1000 / n, calls: n, mode: mode };
}
console.log('RESULT ' + JSON.stringify(out));
`;

export function measureNjsCli(bundle = join(ROOT, 'dist/envd.js')) {
  const dir = mkdtempSync(join(tmpdir(), 'envd-edge-bench-njs-'));
  try {
    copyFileSync(bundle, join(dir, 'envd.js'));
    writeFileSync(join(dir, 'micro.mjs'), SCRIPT);
    const run = spawnSync('njs', ['-p', dir, join(dir, 'micro.mjs')], { encoding: 'utf8', timeout: 20_000 });
    if (run.error) return { error: `not measured: cannot run the njs CLI (${run.error.message})` };
    const m = /RESULT (.*)/.exec(run.stdout || '');
    if (run.status !== 0 || !m) return { error: `not measured: njs CLI failed: ${(run.stderr || run.stdout).trim().split('\n').slice(-3).join(' ')}` };
    const version = spawnSync('njs', ['-v'], { encoding: 'utf8' }).stdout.trim();
    return { njs: version, ...JSON.parse(m[1]) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
