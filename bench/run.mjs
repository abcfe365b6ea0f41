#!/usr/bin/env node
// npm run bench [-- --quick] : envd-edge's performance figures, each beside its goal, measured in
// one run on the same nginx and upstreams. Writes bench/results.json, bench/results.md and
// bench/results.svg, prints the table. See bench/README.md.
//
// Options:
//   --quick             smaller counts (< 60 s in all); same JSON keys
//   --only=a,b          run only these sections: ttff, rps, throughput, idle (the others read "not measured")
//   --no-container      skip the QuickJS leg (nginx in the sid image)
//   --out=DIR           where the results go (default: bench/)
// Environment: NGINX_BIN, NGINX_NJS_MODULE (local nginx, as for the tests); DOCKER_HOST (else
// .ci/dockerd.sh's /tmp/envd-edge-docker/docker.sock), ENVD_EDGE_BENCH_QJS_IMAGE (default
// envd-edge-nginx:sid), ENVD_EDGE_NJS_MODULE (the module's path inside the image).
//
// Exit status: 0 when every measurement ran, missed goals included (it is a benchmark, not a
// test: misses are printed as MISSED); 1 when a measurement itself failed.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join, resolve } from 'node:path';
import { measureIdle } from './lib/idle.mjs';
import { measureNjsCli } from './lib/njs-cli.mjs';
import { markdown, printTable, svg, THROUGHPUT_PARTS, verdict } from './lib/report.mjs';
import { measureRps } from './lib/rps.mjs';
import {
  BENCH,
  containerUnavailable,
  cpuAffinityPlan,
  localNginxVersion,
  pinProcess,
  pinWorkers,
  startFakeEnvd,
  startStandin,
  startUpstream200,
  startVariant,
  VARIANTS,
} from './lib/servers.mjs';
import { round } from './lib/stats.mjs';
import { fakeEnvdStart, measureThroughput, standinStart } from './lib/throughput.mjs';
import { measureTtff } from './lib/ttff.mjs';
import { running as wrkRunning, wrkVersion } from './lib/wrk.mjs';

const args = process.argv.slice(2);
const flag = (name) => args.includes(`--${name}`);
const option = (name) => args.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const QUICK = flag('quick');
const SECTIONS = (option('only') || 'ttff,throughput,idle,rps').split(',').map((s) => s.trim());
const OUT = resolve(option('out') || BENCH);
const QJS_IMAGE = process.env.ENVD_EDGE_BENCH_QJS_IMAGE || 'envd-edge-nginx:sid';

const P = QUICK
  ? { ttffStreams: 200, ttffWarmup: 20, stdoutMiB: 32, ceilingMiB: 64, tputRounds: 2, idleStreams: 1000, rpsSeconds: 2, rpsRounds: 1, rpsWarmup: 0, whatIf: false, deadlineS: 170 }
  : { ttffStreams: 1000, ttffWarmup: 100, stdoutMiB: 256, ceilingMiB: 256, tputRounds: 3, idleStreams: 5000, rpsSeconds: 4, rpsRounds: 3, rpsWarmup: 1, whatIf: true, deadlineS: 900 };

// ---- fd limit: each idle stream is a socket here and one in the stand-in (which inherits it) ---
/** This process's soft fd limit: it cannot change during the run, so it is asked once. */
const FD_SOFT_LIMIT = (() => {
  const out = spawnSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).stdout.trim();
  return out === 'unlimited' ? Infinity : Number(out);
})();
const NEED_FDS = P.idleStreams + 2048;
if (SECTIONS.includes('idle') && FD_SOFT_LIMIT < NEED_FDS && !process.env.ENVD_EDGE_BENCH_ULIMIT) {
  // Raise the soft limit for a child run of this same script (to the hard limit if 65536 is refused).
  writeSync(1, `bench: ulimit -n is ${FD_SOFT_LIMIT}, below the ${NEED_FDS} the idle streams need: re-running under ulimit -n 65536 (or the hard limit)\n`);
  const r = spawnSync(
    'sh',
    ['-c', 'ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"', 'sh', process.execPath, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, ENVD_EDGE_BENCH_ULIMIT: '1' } },
  );
  process.exit(r.status ?? 1);
}

// ---- lifecycle ----------------------------------------------------------------------------------
const cleanups = [];
async function cleanup() {
  for (const child of wrkRunning) child.kill('SIGTERM');
  while (cleanups.length) {
    const fn = cleanups.pop();
    try {
      await fn();
    } catch (error) {
      console.error(`bench: while cleaning up: ${error.message}`);
    }
  }
}
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, async () => {
    if (interrupted) return;
    interrupted = true;
    console.error(`bench: ${sig}, stopping servers`);
    await cleanup();
    process.exit(130);
  });
}
// A watchdog: the whole run is bounded in time, whatever hangs.
const watchdog = setTimeout(async () => {
  console.error(`bench: still running after ${P.deadlineS} s, giving up`);
  await cleanup();
  process.exit(1);
}, P.deadlineS * 1000);
watchdog.unref();

const t0 = Date.now();
const log = (msg) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)} s] ${msg}`);
const errText = (e) => String((e && e.stack) || e);

async function started(promise) {
  const server = await promise;
  cleanups.push(() => server.stop());
  return server;
}

async function versionOf(url) {
  try {
    const res = await fetch(`${url}/_envd/version`, { signal: AbortSignal.timeout(3000) });
    return res.ok ? await res.json() : { error: `HTTP ${res.status}` };
  } catch (error) {
    return { error: String(error.message || error) };
  }
}

// ---- the run ------------------------------------------------------------------------------------
const details = {};
const notes = [];
const notMeasured = {};
const machine = {
  nproc: availableParallelism(),
  cpu: cpus()[0]?.model?.trim() || 'unknown',
  mem_gib: round(totalmem() / 2 ** 30, 1),
  kernel: release(),
  node: process.version,
  nginx_local: `nginx ${localNginxVersion() || '?'}`,
  wrk: wrkVersion() || 'missing',
  fd_soft_limit: FD_SOFT_LIMIT,
  loadavg_start: loadavg().map((x) => round(x, 2)),
};
if (machine.loadavg_start[0] > 0.5) notes.push(`load average was ${machine.loadavg_start[0]} at the start: other work shared the machine, figures are noisy`);
log(`envd-edge bench (${QUICK ? 'quick' : 'full'}): ${machine.nproc} cores, node ${machine.node}, ${machine.nginx_local}, wrk ${machine.wrk}, load ${machine.loadavg_start.join(' ')}`);

const pick = (s) => ({ port: s.port, url: s.url, masterPid: s.masterPid });
const docker = { checked: false, why: '' };
/** '' when the QuickJS leg can run (docker reachable, image present), else why not. */
async function qjsUnavailable() {
  if (flag('no-container')) return '--no-container';
  if (!docker.checked) {
    docker.checked = true;
    docker.why = await containerUnavailable(QJS_IMAGE);
  }
  return docker.why;
}

try {
  // Sections 1, 3 and 4 run against the stand-in envd (its own process). 1 and 3 share nginx
  // instances in front of it; 4 starts one nginx at a time with a main section for many streams.
  const needStandin = SECTIONS.some((s) => ['ttff', 'throughput', 'idle'].includes(s));
  let standin;
  const front = {};
  let sections = SECTIONS;
  if (needStandin) {
    try {
      standin = await started(startStandin());
      const upstream = `127.0.0.1:${standin.port}`;
      for (const name of ['envd_edge', 'static_regex', 'envd_edge_no_upstream_keepalive']) front[name] = await started(startVariant(name, { upstream }));
      machine.njs_local = await versionOf(front.envd_edge.url);
      log(`stand-in envd on :${standin.port}; nginx ${machine.njs_local.engine || '?'} ${machine.njs_local.njs || '?'}: envd_edge :${front.envd_edge.port}, static_regex :${front.static_regex.port}`);
    } catch (error) {
      log(`FAILED to start the stand-in envd and its nginx: ${error.message}`);
      for (const s of ['ttff', 'throughput', 'idle']) if (SECTIONS.includes(s)) details[s] = { error: `setup failed: ${errText(error)}` };
      sections = SECTIONS.filter((s) => s === 'rps');
    }
  }
  /** Start streams straight to an envd (the stand-in by default), or path-routed through an nginx. */
  const direct = (envd = standin) => ({ name: 'direct', port: envd.port, path: '/process.Process/Start' });
  const through = (name, nginx) => ({ name, port: nginx.port, masterPid: nginx.masterPid, path: '/sandbox/abc123/49983/process.Process/Start' });
  const via = (name) => through(name, front[name]);

  // 1. first stream frame
  if (sections.includes('ttff')) {
    try {
      const names = ['envd_edge', 'static_regex', 'envd_edge_no_upstream_keepalive'];
      log(`1. first stream frame: ${P.ttffStreams} Start streams each: direct, ${names.join(', ')} (rotating order)`);
      const r = await measureTtff({ targets: [direct(), ...names.map(via)], streams: P.ttffStreams, warmup: P.ttffWarmup });
      details.ttff = {
        upstream: 'stand-in envd (bench/lib/standin.mjs): the start event at once, the end 5 ms later; one keep-alive client connection per target',
        what_if: { static_regex: VARIANTS.static_regex, envd_edge_no_upstream_keepalive: VARIANTS.envd_edge_no_upstream_keepalive },
        ...r,
      };
      const a = r.added.envd_edge;
      log(`   direct p50 ${round(r.direct.p50_ms)} p99 ${round(r.direct.p99_ms)} ms; envd_edge p50 ${round(r.envd_edge.p50_ms)} p99 ${round(r.envd_edge.p99_ms)} ms (added p50 ${round(a.p50_ms)}, p99 ${round(a.p99_ms)}); static_regex p50 ${round(r.static_regex.p50_ms)} p99 ${round(r.static_regex.p99_ms)} ms`);
    } catch (error) {
      details.ttff = { error: errText(error) };
      log(`   FAILED: ${error.message}`);
    }
  }

  // 3. stream throughput: a real process's stdout through the fake envd (the goal's figure), then
  // the stand-in at memory speed (the proxy's ceiling). Each source is one part of details.throughput.
  if (sections.includes('throughput')) {
    details.throughput = {};
    /** One source: `setup` resolves its envd and the nginx configs in front of it (by variant name). */
    const part = async (key, { title, source, start, mib, setup, stopAfter }) => {
      let envd;
      let servers = {};
      try {
        ({ envd, servers } = await setup());
        const names = Object.keys(servers);
        const bytes = mib * 1048576;
        log(`3. ${title}: ${mib} MiB of stdout from ${source}, ${P.tputRounds} rounds: direct, ${names.join(', ')}`);
        const r = await measureThroughput({ targets: [direct(envd), ...names.map((n) => through(n, servers[n]))], start: start(bytes), stdoutBytes: bytes, rounds: P.tputRounds });
        details.throughput[key] = { source, what_if: Object.fromEntries(names.filter((n) => n !== 'envd_edge').map((n) => [n, VARIANTS[n]])), ...r };
        log(`   MiB/s of stdout: ${Object.entries(r.mib_s).map(([k, v]) => `${k} ${Math.round(v)}`).join(', ')}; envd_edge ÷ direct ${round(r.ratio.envd_edge)}`);
      } catch (error) {
        details.throughput[key] = { error: errText(error) };
        log(`   FAILED: ${error.message}`);
      } finally {
        if (stopAfter) for (const s of [...Object.values(servers), envd]) if (s) await s.stop();
      }
    };
    await part('fake_envd', {
      title: 'stream throughput',
      source: 'the fake envd (test/fake-envd) running `head -c <bytes> /dev/zero`',
      start: fakeEnvdStart,
      mib: P.stdoutMiB,
      stopAfter: true,
      setup: async () => {
        const envd = await started(startFakeEnvd());
        const servers = {};
        for (const name of ['envd_edge', 'static_regex']) servers[name] = await started(startVariant(name, { upstream: `127.0.0.1:${envd.port}` }));
        return { envd, servers };
      },
    });
    await part('standin', {
      title: 'proxy ceiling',
      source: 'the stand-in envd (bench/lib/standin.mjs): prepared 32 KiB data events at memory speed',
      start: standinStart,
      mib: P.ceilingMiB,
      setup: async () => {
        front.envd_edge_buf4k = await started(startVariant('envd_edge_buf4k', { upstream: `127.0.0.1:${standin.port}` }));
        return { envd: standin, servers: Object.fromEntries(['envd_edge', 'static_regex', 'envd_edge_buf4k'].map((n) => [n, front[n]])) };
      },
    });
  }

  // 4. idle streams
  if (sections.includes('idle')) {
    const streams = Math.min(P.idleStreams, Math.max(100, FD_SOFT_LIMIT - 2048));
    if (streams < P.idleStreams) notes.push(`idle streams: only ${streams} of ${P.idleStreams} (ulimit -n ${FD_SOFT_LIMIT}); raise the fd limit for the full count`);
    const connections = Math.max(4096, streams * 2 + 1024);
    const legs = [{ variant: 'envd_edge', engine: 'njs' }, { variant: 'static_regex', engine: 'njs' }];
    if (P.whatIf) {
      legs.push({ variant: 'njs_floor', engine: 'njs' });
      legs.push({ variant: 'envd_edge', engine: 'qjs' });
    }
    details.idle = { streams, nginx_main: `example's main section with worker_connections ${connections}, worker_rlimit_nofile ${connections * 2 + 1024}`, legs: {} };
    for (const leg of legs) {
      const key = leg.engine === 'njs' ? leg.variant : `${leg.variant}_${leg.engine}`;
      let nginx;
      try {
        if (leg.engine === 'qjs') {
          const why = await qjsUnavailable();
          if (why) {
            details.idle.legs[key] = { not_measured: why };
            continue;
          }
        }
        nginx = await startVariant(leg.variant, { upstream: `127.0.0.1:${standin.port}`, engine: leg.engine, connections, image: QJS_IMAGE });
        cleanups.push(() => nginx.stop());
        log(`4. idle streams: ${streams} concurrent WatchDir streams through ${key} :${nginx.port}`);
        const r = await measureIdle({ port: nginx.port, masterPid: nginx.masterPid, streams });
        details.idle.legs[key] = r;
        log(`   worker RSS ${r.before_kib} → ${r.after_kib} KiB: ${round(r.per_stream_kib, 2)} KiB per stream (${r.after_close_kib} KiB after they closed)`);
      } catch (error) {
        if (key === 'envd_edge') details.idle.error = errText(error);
        else details.idle.legs[key] = { not_measured: `failed: ${String(error.message).split('\n')[0]}` };
        log(`   ${key} FAILED: ${error.message}`);
      } finally {
        if (nginx) await nginx.stop(); // idempotent: the cleanup list may call it again
      }
    }
    details.idle.what_if = Object.fromEntries(Object.keys(details.idle.legs).filter((k) => k !== 'envd_edge').map((k) => [k, VARIANTS[k.replace(/_qjs$/, '')] + (k.endsWith('_qjs') ? ', QuickJS (sid image)' : '')]));
    if (details.idle.legs.envd_edge && !details.idle.error) Object.assign(details.idle, details.idle.legs.envd_edge);
  }
  // free the stand-in and its nginx instances before the CPU-bound requests/s runs
  await cleanup();

  // 2. unary requests/s
  if (SECTIONS.includes('rps')) {
    try {
      if (!machine.wrk || machine.wrk === 'missing') throw new Error('wrk is not installed (Debian: apt-get install -y wrk)');
      const scratch = mkdtempSync(join(tmpdir(), 'envd-edge-bench-'));
      cleanups.push(() => rmSync(scratch, { recursive: true, force: true }));
      const upstream = await started(startUpstream200());
      const upstreamAddr = `127.0.0.1:${upstream.port}`;
      const affinity = cpuAffinityPlan(machine.nproc);
      if (affinity) {
        pinWorkers(upstream.masterPid, affinity.load_and_upstream);
        // This driver too (it only waits for wrk here, and req/s is the last section).
        pinProcess(process.pid, affinity.load_and_upstream);
      }
      const instances = [];
      const rpsNotMeasured = {};
      // One nginx process per config and round (see lib/rps.mjs).
      const launch = async (engine, variants, routings) => {
        const rounds = [];
        for (let r = 0; r < P.rpsRounds; r++) {
          rounds.push(await Promise.all(variants.map((v) => started(startVariant(v, { upstream: upstreamAddr, engine, image: QJS_IMAGE })))));
        }
        variants.forEach((config, i) =>
          instances.push({ label: `${engine}/${config}`, engine, config, routings, processes: rounds.map((servers) => pick(servers[i])) }),
        );
        return rounds[0][0];
      };
      const njsEdge = await launch('njs', ['envd_edge'], ['path', 'host', 'path_bare', 'host_bare']);
      await launch('njs', ['static_regex', 'plain'], ['path', 'host']);
      machine.njs_engine = await versionOf(njsEdge.url);
      const whatIf = P.whatIf ? ['envd_edge_njs_only', 'envd_edge_no_upstream_keepalive', 'njs_floor', 'envd_edge_dispatch_floor', 'envd_edge_constant_decision'] : [];
      if (P.whatIf) {
        await launch('njs', ['envd_edge_njs_only'], ['path', 'host']);
        await launch('njs', ['envd_edge_no_upstream_keepalive'], ['path', 'path_bare']);
        await launch('njs', ['njs_floor'], ['path']);
        await launch('njs', ['envd_edge_dispatch_floor', 'envd_edge_constant_decision'], ['host']);
      }
      const why = await qjsUnavailable();
      if (why) rpsNotMeasured.qjs = why;
      else {
        try {
          const qjsEdge = await launch('qjs', ['envd_edge', 'static_regex', 'plain'], ['path', 'host']);
          const v = await qjsEdge.exec(['nginx', '-v']).catch(() => ({ output: '' }));
          machine.njs_qjs = { image: QJS_IMAGE, nginx: /nginx\/(\S+)/.exec(v.output || '')?.[1], ...(await versionOf(qjsEdge.url)) };
        } catch (error) {
          rpsNotMeasured.qjs = `containers did not start: ${String(error.message).split('\n')[0]}`;
          for (let i = instances.length - 1; i >= 0; i--) if (instances[i].engine === 'qjs') instances.splice(i, 1);
        }
      }
      if (rpsNotMeasured.qjs) log(`   QuickJS leg not measured: ${rpsNotMeasured.qjs}`);
      const cellCount = instances.reduce((n, i) => n + i.routings.length, 0);
      const seconds = cellCount * P.rpsRounds * P.rpsSeconds + instances.length * P.rpsRounds * P.rpsWarmup;
      log(`2. unary req/s: ${cellCount} config×routing cells, ${P.rpsRounds} round(s) of ${P.rpsSeconds} s, a fresh nginx process per config and round (≈ ${Math.round(seconds)} s)`);
      const cells = await measureRps({
        instances,
        scriptDir: scratch,
        rounds: P.rpsRounds,
        seconds: P.rpsSeconds,
        warmupSeconds: P.rpsWarmup,
        affinity,
        onRun: (cell, run, r) => log(`   round ${r + 1} ${cell.inst.label.padEnd(36)} ${cell.routing}: ${Math.round(run.rps)} req/s, ${round(run.worker_cpu_us_per_req, 1)} µs CPU/req`),
      });
      // With nginx the bottleneck on a CPU of its own, req/s follow its CPU per request. The CPU
      // ratio is also the capacity ratio when nothing could be pinned.
      const cpuRatio = {};
      for (const c of cells) {
        const ref = cells.find((x) => x.engine === c.engine && x.config === 'static_regex' && x.routing === c.routing.replace(/_bare$/, ''));
        if (ref && c.config !== 'static_regex') c.static_cpu_ratio = ref.worker_cpu_us_per_req / c.worker_cpu_us_per_req;
        if (ref && c.config === 'envd_edge' && !c.routing.endsWith('_bare')) (cpuRatio[c.engine] ??= {})[c.routing] = c.static_cpu_ratio;
      }
      details.rps = {
        static_cpu_ratio_envd_edge: cpuRatio,
        cpu_affinity: affinity || 'none: one CPU or no taskset, every process shares every CPU',
        connections: 32,
        seconds: P.rpsSeconds,
        rounds: P.rpsRounds,
        upstream: 'nginx return 200 (bench/conf/upstream-200.conf), a second nginx, worker_processes 1',
        cells,
        what_if: whatIf.map((config) => ({ config, about: VARIANTS[config] })),
        not_measured: rpsNotMeasured,
      };
    } catch (error) {
      details.rps = { error: errText(error) };
      log(`   FAILED: ${error.message}`);
    }
    const r = measureNjsCli();
    details.njs_cli = r;
    if (!r.error) log(`   njs CLI: classifyRequest() ${round(r.path.us_per_call, 2)} µs (path-routed Stat), ${round(r.host.us_per_call, 2)} µs (host-routed)`);
  }
} finally {
  await cleanup();
}

// ---- figures ------------------------------------------------------------------------------------
const results = { mode: QUICK ? 'quick' : 'full' };
const set = (key, value, whyNot) => {
  results[key] = Number.isFinite(value) ? round(value, 4) : null;
  if (!Number.isFinite(value)) notMeasured[key] = whyNot;
};
const failed = (section) => (details[section]?.error ? 'failed (see details)' : `section not run (--only=${SECTIONS.join(',')})`);
set('ttff_p99_added_ms', details.ttff?.added?.envd_edge?.p99_ms, failed('ttff'));
set('ttff_p50_added_ms', details.ttff?.added?.envd_edge?.p50_ms, failed('ttff'));
const ratioFor = (engine) => {
  const cells = details.rps?.cells?.filter((c) => c.engine === engine) || [];
  const ratios = ['path', 'host'].map((routing) => {
    const a = cells.find((c) => c.config === 'envd_edge' && c.routing === routing);
    const b = cells.find((c) => c.config === 'static_regex' && c.routing === routing);
    return a && b ? a.rps / b.rps : NaN;
  });
  // the headline is the worse routing form
  return ratios.some((x) => !Number.isFinite(x)) ? NaN : Math.min(...ratios);
};
set('rps_ratio_vs_static', ratioFor('njs'), failed('rps'));
set('rps_ratio_vs_static_qjs', ratioFor('qjs'), details.rps?.not_measured?.qjs || failed('rps'));
const failedPart = (part) => (details.throughput?.[part]?.error ? 'failed (see details)' : failed('throughput'));
for (const { part, key } of THROUGHPUT_PARTS) set(key, details.throughput?.[part]?.ratio?.envd_edge, failedPart(part));
set('idle_stream_kib', details.idle?.per_stream_kib, failed('idle'));
results.not_measured = notMeasured;
results.goals = {
  ttff_p99_added_ms: '<= 2',
  rps_ratio_vs_static: '>= 0.98 (njs engine; the worse of path- and host-routed)',
  stream_throughput_ratio: '>= 0.90 (stdout of a real process through the fake envd)',
  idle_stream_kib: '<= 32',
};
machine.loadavg_end = loadavg().map((x) => round(x, 2));
results.machine = machine;
results.params = P;
results.finished_at = new Date().toISOString();
results.duration_s = (Date.now() - t0) / 1000;
results.notes = notes;
results.details = details;
results.verdicts = Object.fromEntries(Object.keys(results.goals).map((k) => [k, verdict(k, results[k])]));

mkdirSync(OUT, { recursive: true });
// the raw first-frame latencies (sorted, per target) stay out of the JSON: keep it small
const forJson = JSON.parse(JSON.stringify(results, (k, v) => (k === 'cdf' ? undefined : typeof v === 'number' ? round(v, 4) : v)));
writeFileSync(join(OUT, 'results.json'), JSON.stringify(forJson, null, 2) + '\n');
writeFileSync(join(OUT, 'results.md'), markdown(results));
writeFileSync(join(OUT, 'results.svg'), svg(results));
printTable(results);
console.log(`\nwrote ${join(OUT, 'results.json')}, results.md, results.svg in ${round(results.duration_s, 1)} s`);
// A section's error, or one of its parts' (section 3 has a part a source).
const failedHere = (d) => d && typeof d.error === 'string' && !/^not measured/.test(d.error);
const measurementFailed = Object.values(details).some((d) => failedHere(d) || (d && Object.values(d).some(failedHere)));
clearTimeout(watchdog);
process.exit(measurementFailed ? 1 : 0);
