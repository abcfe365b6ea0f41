// Starts the edge under test: a real nginx with the shipped snippets in front of an upstream.
// The runner is pluggable:
//   ENVD_EDGE_RUNNER=local (default)  the nginx binary on this machine (NGINX_BIN, NGINX_NJS_MODULE)
//   ENVD_EDGE_RUNNER=container        nginx in a container via testcontainers (tools/nginx-container.mjs):
//                                     ENVD_EDGE_IMAGE (default envd-edge-nginx:bookworm), DOCKER_HOST
//   ENVD_EDGE_ENGINE=njs|qjs          njs's JavaScript engine (default njs); qjs adds `js_engine qjs;`
import { afterEach } from 'vitest';
import {
  DEFAULT_NJS_MODULE,
  freePort,
  preparePrefix,
  renderExampleConf,
  startLocalNginx,
  // @ts-expect-error plain ESM tool module without types
} from '../../tools/nginx.mjs';
// @ts-expect-error plain ESM tool module without types
import { DEFAULT_IMAGE, startContainerNginx } from '../../tools/nginx-container.mjs';

export type Runner = 'local' | 'container';
export type Engine = 'njs' | 'qjs';

export interface Nginx {
  errorLog(): string;
  stop(): Promise<void>;
}

export interface Edge extends Nginx {
  port: number;
  url: string;
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

export function runner(): Runner {
  const name = process.env.ENVD_EDGE_RUNNER || 'local';
  if (name !== 'local' && name !== 'container') throw new Error(`unknown ENVD_EDGE_RUNNER=${name} (known: local, container)`);
  return name;
}

export function engine(): Engine {
  const name = process.env.ENVD_EDGE_ENGINE || 'njs';
  if (name !== 'njs' && name !== 'qjs') throw new Error(`unknown ENVD_EDGE_ENGINE=${name} (known: njs, qjs)`);
  return name;
}

/** The image the container runner uses. */
export function image(): string {
  return process.env.ENVD_EDGE_IMAGE || DEFAULT_IMAGE;
}

/** http-level directive selecting the engine; '' for njs (the default of every njs version). */
export function engineDirective(): string {
  return engine() === 'qjs' ? 'js_engine qjs;' : '';
}

/** Path of the njs module for `load_module`, as the runner's nginx sees it; '' when built in. */
export function njsModule(): string {
  if (runner() === 'container') return process.env.ENVD_EDGE_NJS_MODULE ?? DEFAULT_NJS_MODULE;
  return process.env.NGINX_NJS_MODULE ?? DEFAULT_NJS_MODULE;
}

/** One line naming the leg, for logs: `container envd-edge-nginx:sid, js_engine qjs`. */
export function legName(): string {
  return `${runner() === 'container' ? `container ${image()}` : 'local nginx'}, js_engine ${engine()}`;
}

/**
 * nginx with `conf` (a whole nginx.conf; paths relative to its prefix) on the runner of this leg.
 * The config must load the module with njsModule() and carry engineDirective() at http level.
 * `probeUrl` is polled until nginx answers.
 */
export async function startNginx(conf: string, probeUrl: string, files: Record<string, string> = {}): Promise<Nginx> {
  const prefix = preparePrefix(conf, { files });
  if (runner() === 'container') return startContainerNginx(prefix, { probeUrl, image: image() });
  return startLocalNginx(prefix, { probeUrl });
}

/** Prints the error log of each nginx `get` returns after a failed test of the calling suite. */
export function printLogOnFailure(get: () => (Pick<Nginx, 'errorLog'> | undefined)[]): void {
  afterEach((ctx) => {
    if (ctx.task.result?.state !== 'fail') return;
    for (const nginx of get()) if (nginx) console.error(`--- nginx error.log ---\n${nginx.errorLog()}`);
  });
}

export async function startEdge(opts: EdgeOptions): Promise<Edge> {
  const port: number = await freePort();
  const conf = renderExampleConf({
    listen: `127.0.0.1:${port}`,
    upstream: opts.upstream,
    plugin: opts.plugin !== false,
    httpExtra: [engineDirective(), opts.httpExtra || ''].filter(Boolean).join('\n    '),
    serverExtra: opts.serverExtra || '',
    njsModule: njsModule(),
  });
  // A request that names no sandbox reaches the upstream through the server's own location.
  const nginx = await startNginx(conf, `http://127.0.0.1:${port}/__probe`, opts.files);
  return { port, url: `http://127.0.0.1:${port}`, errorLog: () => nginx.errorLog(), stop: () => nginx.stop() };
}
