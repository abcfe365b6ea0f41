// Renders an nginx prefix (config + envd-edge files) and runs nginx on it as a local process.
// Shared by `npm run demo`, the integration tests and the benchmarks.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const EXAMPLE_CONF = join(ROOT, 'examples/cubeproxy/nginx.conf');
/** Debian's (and the official image's) path of the njs HTTP module. */
export const DEFAULT_NJS_MODULE = '/usr/lib/nginx/modules/ngx_http_js_module.so';
/** Lines of the example that belong to envd-edge end with this marker. */
const PLUGIN_MARK = /#\s*envd-edge\b.*$/;

/**
 * The example config with its placeholders filled in.
 * - plugin: false drops every line marked `# envd-edge` (the config as it was before the plugin);
 * - httpExtra / serverExtra: directives added at http level (e.g. the hostile `gzip_types *;`)
 *   and in the data-plane server.
 */
export function renderExampleConf({ listen, upstream, plugin = true, httpExtra = '', serverExtra = '', njsModule } = {}) {
  const module = njsModule !== undefined ? njsModule : process.env.NGINX_NJS_MODULE ?? DEFAULT_NJS_MODULE;
  let text = readFileSync(EXAMPLE_CONF, 'utf8');
  if (!plugin) text = text.split('\n').filter((line) => !PLUGIN_MARK.test(line)).join('\n');
  return fillPlaceholders(text, { listen, upstream, httpExtra, serverExtra, njsModule: module });
}

/** Fills the `{{...}}` placeholders of the example and of configs in its shape (bench/conf/). */
export function fillPlaceholders(text, { listen, upstream = '', httpExtra = '', serverExtra = '', njsModule = '' }) {
  return text
    .replace('{{LOAD_MODULE}}', njsModule ? `load_module ${njsModule};` : '')
    .replace('{{HTTP_EXTRA}}', httpExtra)
    .replace('{{SERVER_EXTRA}}', serverExtra)
    .replace('{{UPSTREAM}}', upstream)
    .replace('{{LISTEN}}', listen);
}

/**
 * A fresh nginx prefix: conf/nginx.conf from `conf`, conf/conf.d/ from the repo's conf.d/, and
 * the build's outputs as conf/conf.d/envd/envd.js and conf/conf.d/envd/envd-fast-path.conf (the
 * same copy steps as README "Install"). Readable by nginx's unprivileged workers.
 * `files` replaces shipped files by path relative to conf/.
 */
export function preparePrefix(
  conf,
  { bundle = join(ROOT, 'dist/envd.js'), fastPath = join(ROOT, 'dist/envd-fast-path.conf'), parent = tmpdir(), files = {} } = {},
) {
  for (const built of [bundle, fastPath]) {
    if (!existsSync(built)) throw new Error(`${built} is missing: run \`npm run build\` first`);
  }
  const prefix = mkdtempSync(join(parent, 'envd-edge-nginx-'));
  chmodSync(prefix, 0o755);
  mkdirSync(join(prefix, 'logs'));
  cpSync(join(ROOT, 'conf.d'), join(prefix, 'conf/conf.d'), { recursive: true });
  cpSync(bundle, join(prefix, 'conf/conf.d/envd/envd.js'));
  cpSync(fastPath, join(prefix, 'conf/conf.d/envd/envd-fast-path.conf'));
  writeFileSync(join(prefix, 'conf/nginx.conf'), conf);
  // Replacements for shipped files, relative to conf/ (e.g. shorter stream timeouts for a test).
  for (const [name, text] of Object.entries(files)) writeFileSync(join(prefix, 'conf', name), text);
  return prefix;
}

export function nginxBinary() {
  return process.env.NGINX_BIN || 'nginx';
}

/** `nginx -v` as one line, e.g. `nginx version: nginx/1.22.1`. */
export function nginxVersion(bin = nginxBinary()) {
  const out = spawnSync(bin, ['-v'], { encoding: 'utf8' });
  if (out.error) throw new Error(`cannot run ${bin}: ${out.error.message} (install nginx, or set NGINX_BIN)`);
  return (out.stderr || out.stdout).trim();
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** Resolves once `url` answers any HTTP status; rejects after `timeoutMs`. */
export async function waitForHttp(url, { timeoutMs = 10_000, isAlive = () => true } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    if (!isAlive()) throw new Error(`the server for ${url} exited before answering`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return;
    } catch (error) {
      last = error;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`no HTTP answer from ${url} within ${timeoutMs} ms: ${last && last.message}`);
}

/**
 * Starts nginx in the foreground on a prepared prefix. Returns { pid, errorLog(), reload(), stop() }.
 * `probeUrl` is polled until nginx answers.
 */
export async function startLocalNginx(prefix, { probeUrl, bin = nginxBinary() } = {}) {
  const args = ['-p', prefix + '/', '-c', 'conf/nginx.conf', '-e', 'logs/error.log'];
  const test = spawnSync(bin, [...args, '-t', '-q'], { encoding: 'utf8' });
  if (test.error || test.status !== 0) rmSync(prefix, { recursive: true, force: true });
  if (test.error) throw new Error(`cannot run ${bin}: ${test.error.message} (install nginx, or set NGINX_BIN)`);
  if (test.status !== 0) throw new Error(`nginx -t failed for ${prefix}:\n${test.stderr}`);
  const child = spawn(bin, [...args, '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'inherit'] });
  let exited = false;
  const done = new Promise((r) => child.once('exit', () => { exited = true; r(); }));
  const errorLog = () => {
    try {
      return readFileSync(join(prefix, 'logs/error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  if (probeUrl) {
    try {
      await waitForHttp(probeUrl, { isAlive: () => !exited });
    } catch (error) {
      child.kill('SIGKILL');
      const log = errorLog();
      await done;
      rmSync(prefix, { recursive: true, force: true });
      throw new Error(`${error.message}\n--- nginx error.log ---\n${log}`);
    }
  }
  return {
    pid: child.pid,
    prefix,
    /** Resolves when the nginx master exits, for whatever reason. */
    exited: done,
    errorLog,
    /** Sends SIGHUP (nginx -s reload). */
    reload() {
      child.kill('SIGHUP');
    },
    async stop({ keepPrefix = false } = {}) {
      if (!exited) {
        child.kill('SIGQUIT');
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
        await done;
        clearTimeout(timer);
      }
      if (!keepPrefix) rmSync(prefix, { recursive: true, force: true });
    },
  };
}
