// The fake envd: a node:http (HTTP/1.1) server on 127.0.0.1 with envd's Connect services
// (process.Process, filesystem.Filesystem — Connect JSON/binary, gRPC and gRPC-Web through
// connectNodeAdapter) and its REST paths, all working on real processes and real files under
// `root`.
//
//   const fake = await startFakeEnvd({ root: '/tmp/x' });  // → { port, url, root, close() }
import http from 'node:http';
import { ensureGenerated } from './generate.mjs';

/** How many recent requests `fake.requests` keeps. */
const REQUEST_LOG_SIZE = 1000;

/**
 * @param {object} o
 * @param {string} o.root  directory that plays the sandbox's `/` (created when missing)
 * @param {number} [o.port]  0 picks a free port
 * @param {string} [o.host]  must be a loopback address
 */
export async function startFakeEnvd({ root, port = 0, host = '127.0.0.1' } = {}) {
  if (!root) throw new Error('startFakeEnvd: root is required');
  if (!/^(127\.\d+\.\d+\.\d+|::1|localhost)$/.test(host)) {
    throw new Error(`startFakeEnvd: host must be a loopback address, got ${host}`);
  }
  await ensureGenerated();
  const [{ connectNodeAdapter }, { Process }, { Filesystem }, paths, processes, processService, fsService, rest] =
    await Promise.all([
      import('@connectrpc/connect-node'),
      import('./gen/process/process_pb.js'),
      import('./gen/filesystem/filesystem_pb.js'),
      import('./paths.mjs'),
      import('./processes.mjs'),
      import('./process-service.mjs'),
      import('./filesystem-service.mjs'),
      import('./rest.mjs'),
    ]);

  const sandboxPaths = paths.createPaths(root);
  const table = new processes.ProcessTable({ paths: sandboxPaths });
  const filesystem = fsService.createFilesystemService(sandboxPaths);
  const stats = { initCalls: 0 };
  const requests = [];

  const handler = connectNodeAdapter({
    routes(router) {
      router.service(Process, processService.createProcessService(table));
      router.service(Filesystem, filesystem.service);
    },
    fallback: rest.createRestHandler({ paths: sandboxPaths, stats }),
  });

  const server = http.createServer(
    {
      // streams (and a slow 50 MiB upload) may outlive node's default 5 min request timeout
      requestTimeout: 0,
      keepAliveTimeout: 65_000,
    },
    (req, res) => {
      requests.push({ at: Date.now(), method: req.method, url: req.url, headers: { ...req.headers } });
      if (requests.length > REQUEST_LOG_SIZE) requests.shift();
      handler(req, res);
    },
  );

  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = server.address().port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing = null;
  async function close() {
    if (closing) return closing;
    closing = (async () => {
      filesystem.closeAll();
      table.killAll();
      await table.drain(2000);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(() => resolve()));
    })();
    return closing;
  }

  return {
    port: actualPort,
    url: `http://${urlHost}:${actualPort}`,
    root: sandboxPaths.root,
    /** Recent requests as received: { at, method, url, headers }. */
    requests,
    /** Counters, e.g. initCalls (hits on the internal /init path). */
    stats,
    /** Processes currently running, as ProcessTable entries. */
    processes: () => table.list(),
    /** Sandbox path → host path under root. */
    hostPath: (sandboxPath) => sandboxPaths.toHost(sandboxPath),
    close,
  };
}
