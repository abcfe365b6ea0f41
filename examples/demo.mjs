#!/usr/bin/env node
// npm run demo: real nginx with envd-edge, rendered from examples/cubeproxy/nginx.conf into a
// temporary prefix, in front of the fake envd (test/fake-envd) or of UPSTREAM=host:port.
//
//   LISTEN=127.0.0.1:8081  where nginx listens (default)
//   UPSTREAM=host:port     an envd of your own instead of the fake one
//   NGINX_BIN=/path/nginx  another nginx binary
//
// Prints `ready http://…` once nginx accepts requests; Ctrl-C / SIGTERM stops everything.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { preparePrefix, renderExampleConf, startLocalNginx } from '../tools/nginx.mjs';

const listen = process.env.LISTEN || '127.0.0.1:8081';
const cleanups = [];
let stopping = false;

async function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch (error) {
      console.error(`demo: while stopping: ${error.message}`);
    }
  }
  process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

async function upstream() {
  if (process.env.UPSTREAM) return process.env.UPSTREAM;
  const { startFakeEnvd } = await import('../test/fake-envd/server.mjs');
  const root = mkdtempSync(join(tmpdir(), 'envd-edge-demo-root-'));
  const envd = await startFakeEnvd({ root });
  cleanups.push(async () => {
    await envd.close();
    rmSync(root, { recursive: true, force: true });
  });
  console.log(`demo: fake envd on 127.0.0.1:${envd.port} (sandbox root ${root})`);
  return `127.0.0.1:${envd.port}`;
}

try {
  const target = await upstream();
  const prefix = preparePrefix(renderExampleConf({ listen, upstream: target }));
  const nginx = await startLocalNginx(prefix, { probeUrl: `http://${listen}/_envd/version` });
  cleanups.push(() => nginx.stop());
  nginx.exited.then(() => {
    if (!stopping) console.error(`demo: nginx exited unexpectedly:\n${nginx.errorLog()}`);
    return stop(1);
  });
  console.log(`demo: nginx ${prefix} (logs in ${prefix}/logs), upstream ${target}`);
  console.log(`ready http://${listen}`);
} catch (error) {
  console.error(`demo: ${error.message}`);
  await stop(1);
}
