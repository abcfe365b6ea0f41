// The servers of a benchmark run: the stand-in envd and the fake envd (processes of their own),
// the return-200 upstream nginx, and the nginx configs under test, on the local nginx (njs
// engine) or in a container of the sid image (QuickJS). Plus what the measurements read from
// /proc: worker pids, CPU time, RSS.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_NJS_MODULE,
  fillPlaceholders,
  freePort,
  nginxBinary,
  preparePrefix,
  renderExampleConf,
  ROOT,
  startLocalNginx,
} from '../../tools/nginx.mjs';
import { nginxWorkers } from '../../tools/proc.mjs';

export const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..');
export const STATIC_REGEX_CONF = join(BENCH, 'conf/static-regex.conf');
export const UPSTREAM_200_CONF = join(BENCH, 'conf/upstream-200.conf');

/** A bench config template (bench/conf/) with its placeholders filled as the example's are. */
export function renderTemplate(path, options) {
  return fillPlaceholders(readFileSync(path, 'utf8'), options);
}

/** Replaces `from` (a string or regex) in `text`, and fails loudly when the example changed. */
export function mustReplace(text, from, to, where) {
  const found = typeof from === 'string' ? text.includes(from) : from.test(text);
  if (found) return text.replace(from, to);
  throw new Error(`cannot derive the bench config: ${where} no longer holds ${from}`);
}

/** A shipped or built file (path relative to the repo) with `from` replaced, as mustReplace. */
function derivedFile(path, from, to) {
  return mustReplace(readFileSync(join(ROOT, path), 'utf8'), from, to, path);
}

/**
 * The example as rendered, with a main section for many concurrent streams: more
 * worker_connections (each stream is a client and an upstream connection) and an fd limit to match.
 */
export function withManyConnections(conf, connections) {
  let text = mustReplace(conf, /worker_connections\s+\d+;/, `worker_connections ${connections};`, "the example's events section");
  text = mustReplace(text, /^(worker_processes[^\n]*\n)/m, `$1worker_rlimit_nofile ${connections * 2 + 1024};\n`, "the example's main section");
  return text;
}

/**
 * A node server in a child process of its own (so its work never shares the measuring client's
 * event loop): `args` after node, ready when its stdout matches `listening` (capturing the port).
 */
async function startNodeServer(what, args, listening) {
  // The IPC channel closes when this process dies, however it dies: the servers stop on it.
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the ${what} did not start within 10 s`));
    }, 10_000);
    child.stdout.on('data', (b) => {
      out += b;
      const m = listening.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${what} exited (${code}) before listening`));
    });
  });
  const exited = new Promise((r) => child.once('exit', r));
  return {
    port,
    pid: child.pid,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

/** The stand-in envd (bench/lib/standin.mjs). */
export function startStandin() {
  return startNodeServer('stand-in envd', [join(BENCH, 'lib/standin.mjs')], /standin listening (\d+)/);
}

/** The fake envd of the tests (real processes, envd's encoding), on a free port and a temporary root. */
export function startFakeEnvd() {
  return startNodeServer('fake envd', [join(ROOT, 'test/fake-envd/cli.mjs'), '--port', '0'], /fake-envd listening http:\/\/[^:]+:(\d+)/);
}

/** The return-200 upstream of the requests/s runs: a second local nginx. */
export async function startUpstream200() {
  const port = await freePort();
  const conf = renderTemplate(UPSTREAM_200_CONF, { listen: `127.0.0.1:${port}` });
  return startNginx({ conf, port, engine: 'njs', probePath: '/' });
}

/** DOCKER_HOST as the tests find it: the environment, else .ci/dockerd.sh's default socket. */
export function dockerHost() {
  if (process.env.DOCKER_HOST) return process.env.DOCKER_HOST;
  const dir = process.env.ENVD_EDGE_DOCKER_DIR || '/tmp/envd-edge-docker';
  const sock = join(dir, 'docker.sock');
  return existsSync(sock) ? `unix://${sock}` : '';
}

/**
 * Why the QuickJS leg cannot run here, or '' when it can: a reachable daemon holding the image.
 * Checked up front so a missing docker costs no time and reads "not measured: <why>".
 */
export async function containerUnavailable(image) {
  const host = dockerHost();
  if (!host) return 'no docker daemon (DOCKER_HOST unset and no /tmp/envd-edge-docker/docker.sock; see .ci/dockerd.sh)';
  process.env.DOCKER_HOST = host;
  const { containerEnvDefaults } = await import('../../tools/nginx-container.mjs');
  containerEnvDefaults();
  try {
    const { getContainerRuntimeClient, ImageName } = await import('testcontainers');
    const client = await Promise.race([
      getContainerRuntimeClient(),
      new Promise((_, reject) => setTimeout(() => reject(new Error('no answer within 10 s')), 10_000)),
    ]);
    if (!(await client.image.exists(ImageName.fromString(image)))) return `image ${image} is not in the docker daemon at ${host} (npm run images)`;
    return '';
  } catch (error) {
    return `docker daemon at ${host} unusable: ${String(error.message || error).split('\n')[0]}`;
  }
}

/** Host pid of a container's init process (nginx's master: the image's entrypoint is nginx). */
async function containerPid(id) {
  const { getContainerRuntimeClient } = await import('testcontainers');
  const client = await getContainerRuntimeClient();
  const info = await client.container.inspect(client.container.getById(id));
  return info.State.Pid;
}

/**
 * An nginx under test: `conf` in a fresh prefix (shipped conf.d/ and dist/envd.js), on the local
 * binary (engine njs) or in a container (engine qjs). Resolves { port, url, masterPid, stop() }.
 */
export async function startNginx({ conf, port, engine, image, files = {}, probePath = '/__probe' }) {
  const prefix = preparePrefix(conf, { files });
  const probeUrl = `http://127.0.0.1:${port}${probePath}`;
  if (engine === 'qjs') {
    const { startContainerNginx } = await import('../../tools/nginx-container.mjs');
    const nginx = await startContainerNginx(prefix, { probeUrl, image });
    return { ...nginx, port, url: `http://127.0.0.1:${port}`, masterPid: await containerPid(nginx.id) };
  }
  const nginx = await startLocalNginx(prefix, { probeUrl });
  return { ...nginx, port, url: `http://127.0.0.1:${port}`, masterPid: nginx.pid };
}

/** njs module path for load_module, as the engine's nginx sees it. */
export function njsModuleFor(engine) {
  if (engine === 'qjs') return process.env.ENVD_EDGE_NJS_MODULE ?? DEFAULT_NJS_MODULE;
  return process.env.NGINX_NJS_MODULE ?? DEFAULT_NJS_MODULE;
}

/** A js_set module that imports the shipped bundle and does nothing: njs's cost per request alone. */
const FLOOR_JS = 'import envd from "envd.js";\nfunction floor(r) { return envd ? "" : "x"; }\nexport default { floor };\n';

/**
 * The configs a benchmark compares. (a), (b), (c) are the brief's; the others are what-ifs that
 * show where a cost comes from (details only, never a goal).
 */
export const VARIANTS = {
  envd_edge: 'examples/cubeproxy/nginx.conf as rendered by renderExampleConf (a)',
  static_regex: 'bench/conf/static-regex.conf: the known fix, three methods in regex locations (b)',
  plain: 'the example with its `# envd-edge` lines dropped: no classification, plain proxy_pass (c)',
  envd_edge_no_upstream_keepalive:
    '(a) without its `proxy_set_header Connection "";` line: nginx then sends `Connection: close` upstream and the /_envd/ locations open a connection per request',
  envd_edge_buf4k: '(a) without the 16k buffer sizes of conf.d/envd/unbuffered.inc: nginx\'s default, a stream read and forwarded 4 KiB at a time',
  envd_edge_njs_only:
    '(a) with every entry of dist/envd-fast-path.conf\'s maps removed, defaults kept: njs classifies every request, the design before the fast path',
  envd_edge_dispatch_floor:
    '(a) with nothing classified: server.inc sends every request to /_envd/buffer (an unconditional rewrite), proxy_pass $envd_backend$request_uri, no add_header. What the internal-location design costs before any decision (host-routed only: it strips no /sandbox/ prefix)',
  envd_edge_constant_decision:
    '(a) with $envd_fast_route a constant `host:buffer`: no key, no regex, nothing validated; the maps that read it, the dispatch, add_header and proxy_pass as shipped. What everything but the native decision costs (host-routed only)',
  njs_floor: '(c) plus one js_set, read in a server-level `if`, whose module imports the shipped bundle and returns "": the njs VM per request without any classification',
};

/**
 * One variant's nginx.conf (and replaced files) for `engine` (njs: local nginx; qjs: `js_engine
 * qjs;` for the sid image), listening on `port`, proxying to `upstream`. `connections` > 0 raises
 * worker_connections and the fd limit (withManyConnections).
 */
export function renderVariant(name, { port, upstream, engine = 'njs', connections = 0 }) {
  const listen = `127.0.0.1:${port}`;
  const httpExtra = engine === 'qjs' ? 'js_engine qjs;' : '';
  const njsModule = njsModuleFor(engine);
  const base = { listen, upstream, httpExtra, njsModule };
  let conf;
  const files = {};
  switch (name) {
    case 'envd_edge':
      conf = renderExampleConf(base);
      break;
    case 'static_regex':
      conf = renderTemplate(STATIC_REGEX_CONF, base);
      break;
    case 'plain':
      conf = renderExampleConf({ ...base, plugin: false });
      break;
    case 'envd_edge_no_upstream_keepalive': {
      conf = mustReplace(renderExampleConf(base), /^\s*proxy_set_header Connection "";.*\n/m, '', 'the example');
      break;
    }
    case 'envd_edge_buf4k': {
      conf = renderExampleConf(base);
      const lines = /^proxy_buffer_size .*\n^proxy_buffers .*\n^proxy_busy_buffers_size .*\n/m;
      files['conf.d/envd/unbuffered.inc'] = derivedFile('conf.d/envd/unbuffered.inc', lines, '# bench what-if: nginx\'s default buffer sizes\n');
      break;
    }
    case 'envd_edge_njs_only': {
      conf = renderExampleConf(base);
      // Every map entry dropped, defaults kept: each documented variable is its njs twin, as
      // the generator's own njs-only variant (renderFastPathConf(false)) has it.
      files['conf.d/envd/envd-fast-path.conf'] = derivedFile('dist/envd-fast-path.conf', /^ {4}"[^\n]*;\n/gm, '');
      break;
    }
    case 'envd_edge_dispatch_floor': {
      conf = renderExampleConf(base);
      files['conf.d/envd/server.inc'] = derivedFile('conf.d/envd/server.inc', /^if \(\$envd_location\) \{[^}]*\}\n([\s\S]*?)^add_header [^\n]*\n/m, 'rewrite ^ /_envd/buffer last;\n$1');
      files['conf.d/envd/proxy.inc'] = derivedFile('conf.d/envd/proxy.inc', /^proxy_pass \$envd_backend\$envd_upstream_uri;$/m, 'proxy_pass $envd_backend$request_uri;');
      break;
    }
    case 'envd_edge_constant_decision': {
      conf = renderExampleConf(base);
      // The route map's captures become maps of their own: defined for the other maps, never read.
      const captures = ['envd_fast_path_sandbox_id', 'envd_fast_path_sandbox_port', 'envd_fast_path_upstream_uri', 'envd_fast_host_sandbox_id', 'envd_fast_host_sandbox_port'];
      const constant = ['map $request_uri $envd_fast_route {\n    default "host:buffer";\n}', ...captures.map((c) => `map $request_uri $${c} {\n    default "";\n}`)].join('\n');
      files['conf.d/envd/envd-fast-path.conf'] = derivedFile('dist/envd-fast-path.conf', /^map "\$request_uri\\n[^"]*" \$envd_fast_route \{[\s\S]*?\n\}/m, constant);
      break;
    }
    case 'njs_floor':
      conf = renderExampleConf({
        ...base,
        plugin: false,
        httpExtra: [httpExtra, 'js_import bench_floor from conf.d/envd/bench-floor.js;', 'js_set $bench_floor bench_floor.floor;'].filter(Boolean).join('\n    '),
        serverExtra: 'if ($bench_floor) { return 500; }',
      });
      files['conf.d/envd/bench-floor.js'] = FLOOR_JS;
      break;
    default:
      throw new Error(`unknown variant ${name}`);
  }
  if (connections > 0) conf = withManyConnections(conf, connections);
  return { conf, files };
}

/** Starts one variant; resolves the nginx with { variant, engine } added. */
export async function startVariant(name, { port, upstream, engine = 'njs', connections = 0, image }) {
  const p = port || (await freePort());
  const { conf, files } = renderVariant(name, { port: p, upstream, engine, connections });
  const nginx = await startNginx({ conf, files, port: p, engine, image });
  return { ...nginx, variant: name, engine };
}

// ---- /proc -------------------------------------------------------------------------------------

function procStat(pid) {
  const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // the command name is in parentheses and may contain spaces: fields start after the last ')'
  return text.slice(text.lastIndexOf(')') + 2).split(' ');
}

/** nginx worker pids of a master (the ones named "nginx: worker process"). */
export function workerPids(masterPid) {
  return nginxWorkers(masterPid).map((w) => w.pid);
}

const TICK_NS = 1e9 / Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim() || 100);

/** CPU time a process has used, in ns (schedstat when the kernel has it, else utime+stime). */
export function cpuNs(pid) {
  try {
    const v = Number(readFileSync(`/proc/${pid}/schedstat`, 'utf8').split(' ')[0]);
    if (v > 0) return v;
  } catch {
    // fall through
  }
  const f = procStat(pid);
  return (Number(f[11]) + Number(f[12])) * TICK_NS;
}

/**
 * Where the req/s runs put their processes: nginx under test on the last CPU, alone; wrk, the
 * upstream and the driver on the others. nginx then has a core to itself, as in production, and
 * its req/s follow its CPU per request instead of how the scheduler shares 2 cores among 3 busy
 * processes. null (nothing pinned) with one CPU or without taskset (util-linux).
 */
export function cpuAffinityPlan(nproc) {
  if (nproc < 2 || spawnSync('taskset', ['-V']).status !== 0) return null;
  return { nginx: String(nproc - 1), load_and_upstream: nproc === 2 ? '0' : `0-${nproc - 2}` };
}

/** Pins a process, all its threads, to `cpus` (a taskset list); throws when taskset refuses. */
export function pinProcess(pid, cpus) {
  const out = spawnSync('taskset', ['-apc', cpus, String(pid)], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`taskset -apc ${cpus} ${pid}: ${(out.stderr || out.error || '').toString().trim()}`);
}

/** Pins every worker of an nginx to `cpus`, as pinProcess. */
export function pinWorkers(masterPid, cpus) {
  for (const pid of workerPids(masterPid)) pinProcess(pid, cpus);
}

/** Resident set of a process in KiB (VmRSS). */
export function rssKiB(pid) {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

export function sumWorkers(masterPid, fn) {
  const pids = workerPids(masterPid);
  if (!pids.length) throw new Error(`no nginx worker found under master ${masterPid}`);
  return pids.reduce((sum, pid) => sum + fn(pid), 0);
}

/** Versions for the report. */
export function localNginxVersion() {
  return /nginx\/(\S+)/.exec(spawnSync(nginxBinary(), ['-v'], { encoding: 'utf8' }).stderr || '')?.[1];
}

export { freePort };
