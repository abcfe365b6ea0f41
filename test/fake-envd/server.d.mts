// Types of server.mjs for TypeScript tests.

export interface FakeEnvdRequest {
  at: number;
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeEnvdProcess {
  pid: number;
  tag?: string;
  pty: boolean;
  ended: boolean;
}

export interface FakeEnvd {
  port: number;
  /** e.g. http://127.0.0.1:40123 */
  url: string;
  /** real path of the directory that plays the sandbox's `/` */
  root: string;
  /** the most recent requests as received (at most 1000) */
  requests: FakeEnvdRequest[];
  stats: { initCalls: number };
  processes(): FakeEnvdProcess[];
  /** sandbox path (e.g. /home/user/x) → host path under root */
  hostPath(sandboxPath: string): string;
  /** kills every process it started, closes watchers, connections and the server */
  close(): Promise<void>;
}

export function startFakeEnvd(options: { root: string; port?: number; host?: string }): Promise<FakeEnvd>;
