// Starts the edge under test: a real nginx with the shipped snippets in front of an upstream.
// The runner is pluggable: ENVD_EDGE_RUNNER=local (default) runs the nginx binary on this machine.
import {
  freePort,
  preparePrefix,
  renderExampleConf,
  startLocalNginx,
  // @ts-expect-error plain ESM tool module without types
} from '../../tools/nginx.mjs';

export interface Edge {
  port: number;
  url: string;
  errorLog(): string;
  stop(): Promise<void>;
}

export interface EdgeOptions {
  upstream: string;
  /** false: the example config with envd-edge's lines removed. */
  plugin?: boolean;
  /** Extra http-level directives (the hostile variant). */
  httpExtra?: string;
  /** Extra directives in the data-plane server. */
  serverExtra?: string;
  /** Replacements for shipped files, by path relative to conf/ (e.g. conf.d/envd/stream-timeouts.inc). */
  files?: Record<string, string>;
}

/** CubeProxy-like globals made worse: gzip on every type (the client asks for gzip too). */
export const HOSTILE = 'gzip_types *;';

export async function startEdge(opts: EdgeOptions): Promise<Edge> {
  const runner = process.env.ENVD_EDGE_RUNNER || 'local';
  if (runner !== 'local') throw new Error(`unknown ENVD_EDGE_RUNNER=${runner} (known: local)`);
  const port: number = await freePort();
  const conf = renderExampleConf({
    listen: `127.0.0.1:${port}`,
    upstream: opts.upstream,
    plugin: opts.plugin !== false,
    httpExtra: opts.httpExtra || '',
    serverExtra: opts.serverExtra || '',
  });
  const nginx = await startLocalNginx(preparePrefix(conf, { files: opts.files }), {
    // A request that names no sandbox reaches the upstream through the server's own location.
    probeUrl: `http://127.0.0.1:${port}/__probe`,
  });
  return { port, url: `http://127.0.0.1:${port}`, errorLog: nginx.errorLog, stop: () => nginx.stop() };
}
