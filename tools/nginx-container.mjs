// Runs nginx on a prepared prefix (tools/nginx.mjs preparePrefix) inside a container, through
// testcontainers: the prefix is bind-mounted at the same path, the container shares the host's
// network (every server listens on 127.0.0.1; dockerd runs with --bridge=none), and readiness is
// probed over HTTP like startLocalNginx does. Shared by the integration tests, the matrix and the
// benchmarks.
//
// Environment (read when a container starts):
//   DOCKER_HOST                      the daemon (see .ci/dockerd.sh)
//   ENVD_EDGE_IMAGE                  the image, default envd-edge-nginx:bookworm (`npm run images`)
//   ENVD_EDGE_NJS_MODULE             the njs module's path inside the image
//                                    (default /usr/lib/nginx/modules/ngx_http_js_module.so: Debian's and the official image's)
//   TESTCONTAINERS_RYUK_DISABLED     defaulted to true (Ryuk needs an image from a registry)
//   TESTCONTAINERS_HOST_OVERRIDE     defaulted to 127.0.0.1 (no bridge gateway to discover)
import { chmodSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { waitForHttp } from './nginx.mjs';

/** The Debian suites `npm run images` builds, oldest first. */
export const SUITES = ['bookworm', 'trixie', 'sid'];
/** The repository of the images `npm run images` builds with debootstrap. */
export const BUILT_REPO = 'envd-edge-nginx';
/**
 * With ENVD_EDGE_IMAGES=official (a machine that reaches Docker Hub) the legs use nginx's own
 * images instead: the oldest maintained njs 0.7 line, the 1.26 stable line, and mainline.
 * Their njs version comes from the image's NJS_VERSION variable. Untested on this project's
 * machines (no registry there).
 */
export const OFFICIAL = { bookworm: 'nginx:1.22', trixie: 'nginx:1.26', sid: 'nginx:mainline' };

/** The image a suite's leg runs: ENVD_EDGE_IMAGE_<SUITE>, then the official set, then ours. */
export function imageFor(suite) {
  const explicit = process.env[`ENVD_EDGE_IMAGE_${suite.toUpperCase()}`];
  if (explicit) return explicit;
  if (process.env.ENVD_EDGE_IMAGES === 'official') return OFFICIAL[suite] || `nginx:${suite}`;
  return `${BUILT_REPO}:${suite}`;
}

export const DEFAULT_IMAGE = `${BUILT_REPO}:bookworm`;

/** testcontainers' settings for this project's private dockerd (no registry, no bridge). */
export function containerEnvDefaults() {
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
}

/**
 * nginx's workers run as an unprivileged user (nobody, www-data or nginx, by image): every
 * directory of the prefix must be searchable and every file readable by others. nginx's temp
 * paths are the image's own (/var/lib/nginx, /var/cache/nginx): its master creates them as root
 * and hands them to the worker user.
 */
export function openPrefix(prefix) {
  const walk = (path) => {
    const st = statSync(path);
    if (st.isDirectory()) {
      chmodSync(path, st.mode | 0o755);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else {
      chmodSync(path, st.mode | 0o644);
    }
  };
  walk(prefix);
}

/**
 * Starts nginx in a container on a prepared prefix. Returns the same shape as startLocalNginx:
 * { id, image, prefix, errorLog(), reload(), stop() }; errorLog() holds the container's output
 * and the prefix's logs/error.log.
 */
export async function startContainerNginx(prefix, { probeUrl, image = process.env.ENVD_EDGE_IMAGE || DEFAULT_IMAGE, startupTimeoutMs = 30_000 } = {}) {
  containerEnvDefaults();
  const { GenericContainer, ImageName, getContainerRuntimeClient } = await import('testcontainers');
  // Tests never pull (testcontainers would, for a missing image): images come from `npm run images`.
  const client = await getContainerRuntimeClient();
  if (!(await client.image.exists(ImageName.fromString(image)))) {
    rmSync(prefix, { recursive: true, force: true });
    throw new Error(`image ${image} is not in the docker daemon at ${process.env.DOCKER_HOST || 'its default socket'}: run \`npm run images\``);
  }
  openPrefix(prefix);
  const nginxArgs = ['-p', prefix + '/', '-c', 'conf/nginx.conf', '-e', 'logs/error.log'];
  const output = [];
  let exited = false;
  let container;
  try {
    container = await new GenericContainer(image)
      .withNetworkMode('host')
      .withBindMounts([{ source: prefix, target: prefix, mode: 'rw' }])
      // The official images' entrypoint runs config scripts for `nginx` commands: go around it.
      .withEntrypoint(['nginx'])
      .withCommand([...nginxArgs, '-g', 'daemon off;'])
      .withLabels({ 'envd-edge': 'test' })
      .withStartupTimeout(startupTimeoutMs)
      // No ports are exposed (host network), so the default listening-ports strategy has nothing
      // to wait for; readiness is the HTTP probe below.
      .withLogConsumer((stream) => {
        stream.on('data', (chunk) => output.push(String(chunk)));
        stream.on('end', () => (exited = true));
        stream.on('error', () => (exited = true));
      })
      .start();
  } catch (error) {
    rmSync(prefix, { recursive: true, force: true });
    throw new Error(`cannot start a container of ${image} (DOCKER_HOST=${process.env.DOCKER_HOST || 'unset'}): ${error.message}`);
  }
  const readErrorLog = () => {
    try {
      return readFileSync(join(prefix, 'logs/error.log'), 'utf8');
    } catch {
      return '';
    }
  };
  const errorLog = () =>
    `--- container ${container.getId().slice(0, 12)} (${image}) output ---\n${output.join('')}` +
    `--- logs/error.log ---\n${readErrorLog()}`;
  let stopped = false;
  const stopContainer = async () => {
    if (stopped) return;
    stopped = true;
    // docker stop: SIGTERM (nginx's fast shutdown), SIGKILL after the timeout; then removed.
    await container.stop({ timeout: 3_000 }).catch(() => {});
  };
  if (probeUrl) {
    try {
      await waitForHttp(probeUrl, { isAlive: () => !exited, timeoutMs: startupTimeoutMs });
    } catch (error) {
      // Give the log stream a moment to deliver nginx's last words.
      await new Promise((r) => setTimeout(r, 200));
      const log = errorLog();
      await stopContainer();
      rmSync(prefix, { recursive: true, force: true });
      throw new Error(`${error.message}\n${log}`);
    }
  }
  return {
    id: container.getId(),
    image,
    prefix,
    errorLog,
    /** nginx -s reload inside the container (SIGHUP to its master). */
    async reload() {
      const r = await container.exec(['nginx', ...nginxArgs, '-s', 'reload']);
      if (r.exitCode !== 0) throw new Error(`nginx -s reload failed: ${r.output}`);
    },
    /** Runs a command in the container, e.g. ['nginx', '-v']. */
    exec: (cmd) => container.exec(cmd),
    async stop({ keepPrefix = false } = {}) {
      await stopContainer();
      if (!keepPrefix) rmSync(prefix, { recursive: true, force: true });
    },
  };
}
