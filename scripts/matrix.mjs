#!/usr/bin/env node
// `npm run test:matrix`: the integration suite (`vitest run test/integration`) once per leg —
// the local nginx, then each image's nginx in a container (tools/nginx-container.mjs) under each
// JavaScript engine its njs has — plus the shared vectors replayed in each leg's njs CLI.
// One summary line per leg (nginx, njs, engine, test counts); exits 1 if any leg fails.
//
// Needs `npm run build` (dist/envd.js) and, for the container legs, a docker daemon (DOCKER_HOST,
// see .ci/dockerd.sh) holding the images (`npm run images`).
//
// Environment:
//   ENVD_EDGE_MATRIX_LEGS=local,sid/qjs   run only these legs (names as printed: local, <suite>/<engine>)
//   ENVD_EDGE_IMAGE_SUITES=bookworm,sid   the suites whose images make legs (default bookworm,trixie,sid)
//   ENVD_EDGE_IMAGES / ENVD_EDGE_IMAGE_<SUITE>   which image a suite's legs run (tools/nginx-container.mjs)
//   ENVD_EDGE_MATRIX_VITEST_ARGS="…"      extra vitest arguments, e.g. a test name filter (-t …)
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../tools/nginx.mjs';
import { BUILT_REPO, imageFor, SUITES } from '../tools/nginx-container.mjs';

/** Our debootstrap images must offer these engines; a leg that cannot run fails the matrix. */
const REQUIRED_ENGINES = { sid: ['njs', 'qjs'] };

const only = process.env.ENVD_EDGE_MATRIX_LEGS ? process.env.ENVD_EDGE_MATRIX_LEGS.split(',').map((s) => s.trim()) : null;
const wanted = (name) => !only || only.includes(name);
const suites = (process.env.ENVD_EDGE_IMAGE_SUITES || SUITES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
const vitestExtra = (process.env.ENVD_EDGE_MATRIX_VITEST_ARGS || '').split(/\s+/).filter(Boolean);

const docker = (args) => spawnSync('docker', args, { encoding: 'utf8' });
/** `1.22.1-9+deb12u9` → `1.22.1`; `0.8.9` stays. */
const upstreamVersion = (v) => (v ? /^(?:\d+:)?(\d+(?:\.\d+)+)/.exec(v)?.[1] : undefined);

/**
 * What an image holds: versions from our labels (or the official image's NGINX_VERSION /
 * NJS_VERSION), whether it has the njs CLI, and whether its njs module accepts `js_engine qjs`.
 */
function probeImage(image) {
  const inspect = docker(['image', 'inspect', image, '--format', '{{json .Config}}']);
  if (inspect.status !== 0) return { missing: true };
  const config = JSON.parse(inspect.stdout);
  const labels = config.Labels || {};
  const env = Object.fromEntries((config.Env || []).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const module = process.env.ENVD_EDGE_NJS_MODULE ?? '/usr/lib/nginx/modules/ngx_http_js_module.so';
  // One short container: nginx -v, njs -v, and `nginx -t` of a config that selects QuickJS.
  const script = [
    'nginx -v 2>&1',
    'if command -v njs >/dev/null; then echo "njs-cli $(njs -v)"; else echo "njs-cli none"; fi',
    't=$(mktemp -d) && mkdir -p $t/conf $t/logs',
    `printf '${module ? `load_module ${module};` : ''}\\nevents {}\\nhttp { js_engine qjs; }\\n' > $t/conf/nginx.conf`,
    'if nginx -p $t/ -c conf/nginx.conf -e logs/error.log -t -q >$t/out 2>&1; then echo "qjs yes"; else echo "qjs no $(tr "\\n" " " < $t/out)"; fi',
  ].join('\n');
  const run = docker(['run', '--rm', '--network', 'host', '--entrypoint', 'sh', image, '-c', script]);
  const out = run.stdout || '';
  const cli = /^njs-cli (\S+)/m.exec(out)?.[1];
  return {
    nginx: upstreamVersion(labels['envd-edge.nginx']) || upstreamVersion(env.NGINX_VERSION) || /nginx\/(\S+)/.exec(out)?.[1],
    njs: upstreamVersion(labels['envd-edge.njs-module']) || upstreamVersion(env.NJS_VERSION),
    njsCli: cli && cli !== 'none' ? cli : undefined,
    qjs: /^qjs yes/m.test(out),
    qjsWhyNot: /^qjs no (.*)$/m.exec(out)?.[1]?.trim(),
    probeError: run.status !== 0 ? (run.stderr || out).trim() : undefined,
  };
}

function runLogged(cmd, args, env) {
  return new Promise((resolve) => {
    let out = '';
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', (b) => { out += b; process.stdout.write(b); });
    child.stderr.on('data', (b) => { out += b; process.stderr.write(b); });
    child.on('error', (e) => resolve({ status: 127, out: out + String(e) }));
    child.on('exit', (code, signal) => resolve({ status: code ?? (signal ? 128 : 1), out }));
  });
}

async function runLeg(leg, jsonDir) {
  const started = Date.now();
  console.log(`\n== leg ${leg.name}: ${leg.describe}`);
  const result = { ...leg, counts: null, replay: 'not run', ok: false };
  // 1. The shared vectors inside the leg's njs CLI.
  if (leg.replay) {
    const r = spawnSync(process.execPath, [join(ROOT, 'test/njs/replay.mjs'), join(ROOT, 'dist/envd.js'), '--', ...leg.replay.args], {
      encoding: 'utf8',
      env: { ...process.env, ...leg.replay.env },
    });
    process.stdout.write(r.stdout || '');
    process.stderr.write(r.stderr || '');
    const m = /(\d+) of (\d+) vectors match/.exec(r.stdout || '');
    result.replay = r.status === 0 && m ? `${m[1]}/${m[2]} vectors` : `FAILED${m ? ` (${m[1]}/${m[2]})` : ''}`;
    result.replayOk = r.status === 0;
  } else {
    result.replay = leg.noReplay || 'no njs CLI';
    result.replayOk = true;
  }
  // 2. The integration suite through the leg's nginx.
  const json = join(jsonDir, `${leg.name.replace(/\W+/g, '-')}.json`);
  const vitest = join(ROOT, 'node_modules/vitest/vitest.mjs');
  const r = await runLogged(process.execPath, [vitest, 'run', 'test/integration', '--reporter=default', '--reporter=json', `--outputFile.json=${json}`, ...vitestExtra], leg.env);
  if (existsSync(json)) {
    const report = JSON.parse(readFileSync(json, 'utf8'));
    result.counts = {
      passed: report.numPassedTests,
      failed: report.numFailedTests + (report.numFailedTestSuites && !report.numFailedTests ? report.numFailedTestSuites : 0),
      skipped: report.numPendingTests + (report.numTodoTests || 0),
      total: report.numTotalTests,
    };
  }
  const identity = /ENVD_EDGE_LEG (\{.*\})/.exec(r.out);
  result.reported = identity ? JSON.parse(identity[1]) : null;
  result.seconds = (Date.now() - started) / 1000;
  // The identity test must have run, unless extra vitest arguments filtered it out on purpose.
  const identityOk = !!result.reported || vitestExtra.length > 0;
  result.ok = r.status === 0 && !!result.counts && result.counts.total > 0 && result.counts.failed === 0 && result.replayOk && identityOk;
  return result;
}

function legsToRun() {
  const legs = [];
  const problems = [];
  if (wanted('local')) {
    legs.push({
      name: 'local',
      describe: 'the nginx binary on this machine',
      env: { ENVD_EDGE_RUNNER: 'local', ENVD_EDGE_ENGINE: 'njs' },
      replay: spawnSync('njs', ['-v']).status === 0 ? { args: [], env: {} } : null,
      noReplay: 'no local njs CLI',
    });
  }
  const containerLegs = suites.flatMap((s) => ['njs', 'qjs'].map((e) => `${s}/${e}`)).filter(wanted);
  if (!containerLegs.length) return { legs, problems };
  if (docker(['info']).status !== 0) {
    problems.push(`no docker daemon answers (DOCKER_HOST=${process.env.DOCKER_HOST || 'unset'}): container legs not run. ` +
      'Start one with `eval "$(.ci/dockerd.sh start)"`, or run only `ENVD_EDGE_MATRIX_LEGS=local`.');
    return { legs, problems };
  }
  for (const suite of suites) {
    const names = ['njs', 'qjs'].filter((e) => wanted(`${suite}/${e}`));
    if (!names.length) continue;
    const image = imageFor(suite);
    const probe = probeImage(image);
    if (probe.missing) {
      problems.push(`${suite}: image ${image} is missing (npm run images)`);
      continue;
    }
    if (probe.probeError) console.log(`matrix: probing ${image}: ${probe.probeError}`);
    const ours = image.startsWith(BUILT_REPO + ':');
    for (const engine of names) {
      const name = `${suite}/${engine}`;
      if (engine === 'qjs' && !probe.qjs) {
        const why = `njs ${probe.njs || '?'} in ${image} has no QuickJS (${probe.qjsWhyNot || 'js_engine qjs refused'})`;
        if (ours && (REQUIRED_ENGINES[suite] || []).includes('qjs')) problems.push(`${name}: ${why}`);
        else console.log(`matrix: leg ${name} not run: ${why}`);
        continue;
      }
      const env = {
        ENVD_EDGE_RUNNER: 'container',
        ENVD_EDGE_IMAGE: image,
        ENVD_EDGE_ENGINE: engine,
        ENVD_EDGE_EXPECT_ENGINE: engine,
      };
      if (probe.nginx) env.ENVD_EDGE_EXPECT_NGINX = probe.nginx;
      if (probe.njs) env.ENVD_EDGE_EXPECT_NJS = probe.njs;
      legs.push({
        name,
        describe: `${image} (nginx ${probe.nginx || '?'}, njs ${probe.njs || '?'}), js_engine ${engine}`,
        env,
        replay: probe.njsCli ? { args: engine === 'qjs' ? ['-n', 'QuickJS', '-m'] : [], env: { NJS_IMAGE: image } } : null,
        noReplay: `no njs CLI in ${image}`,
      });
    }
  }
  return { legs, problems };
}

async function main() {
  if (!existsSync(join(ROOT, 'dist/envd.js'))) {
    console.error('matrix: dist/envd.js is missing: run `npm run build` first');
    process.exit(2);
  }
  const started = Date.now();
  const { legs, problems } = legsToRun();
  for (const p of problems) console.error(`matrix: ${p}`);
  const jsonDir = mkdtempSync(join(tmpdir(), 'envd-edge-matrix-'));
  const results = [];
  try {
    for (const leg of legs) results.push(await runLeg(leg, jsonDir));
  } finally {
    rmSync(jsonDir, { recursive: true, force: true });
  }
  const pad = (s, n) => String(s).padEnd(n);
  console.log(`\n== matrix (${((Date.now() - started) / 1000).toFixed(0)} s)`);
  console.log(`${pad('leg', 14)}${pad('nginx', 9)}${pad('njs', 8)}${pad('engine', 8)}${pad('integration tests', 36)}${pad('njs CLI replay', 28)}time`);
  const total = { passed: 0, failed: 0, skipped: 0 };
  for (const r of results) {
    const c = r.counts;
    const counts = c ? `${c.passed} passed, ${c.failed} failed, ${c.skipped} skipped` : 'no vitest report';
    if (c) for (const k of Object.keys(total)) total[k] += c[k];
    if (!c || (!r.ok && c.failed === 0)) total.failed++; // a leg that broke without a failing test
    const rep = r.reported || {};
    console.log(
      `${pad(r.name, 14)}${pad(rep.nginx || '?', 9)}${pad(rep.njs || '?', 8)}${pad(rep.engine || '?', 8)}${pad(counts, 36)}` +
        `${pad(r.replay, 28)}${r.seconds.toFixed(0)} s  ${r.ok ? 'ok' : 'FAILED'}`,
    );
  }
  for (const p of problems) console.log(`FAILED: ${p}`);
  const failedLegs = results.filter((r) => !r.ok).length + problems.length;
  console.log(`${results.length - results.filter((r) => !r.ok).length} of ${results.length + problems.length} legs ok`);
  total.failed += problems.length;
  console.log(`matrix: ${total.passed} passed, ${total.failed} failed, ${total.skipped} skipped`);
  process.exit(failedLegs || !results.length ? 1 : 0);
}

main();
