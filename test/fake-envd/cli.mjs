#!/usr/bin/env node
// Runs the fake envd until SIGINT/SIGTERM.
//
//   node test/fake-envd/cli.mjs [--port 49983] [--root /tmp/x] [--host 127.0.0.1]
//
// Without --root a temporary directory is used and removed on exit.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startFakeEnvd } from './server.mjs';

const { values } = parseArgs({
  options: {
    port: { type: 'string', default: '49983' },
    root: { type: 'string' },
    host: { type: 'string', default: '127.0.0.1' },
    help: { type: 'boolean', short: 'h' },
  },
});

if (values.help) {
  console.log('usage: node test/fake-envd/cli.mjs [--port 49983] [--root DIR] [--host 127.0.0.1]');
  process.exit(0);
}

const tempRoot = values.root ? null : fs.mkdtempSync(path.join(os.tmpdir(), 'fake-envd-'));
const fake = await startFakeEnvd({
  root: values.root ?? tempRoot,
  port: Number(values.port),
  host: values.host,
});
console.log(`fake-envd listening ${fake.url}`);
console.log(`fake-envd root ${fake.root}`);

let stopping = false;
async function stop(signal) {
  if (stopping) return;
  stopping = true;
  await fake.close();
  if (tempRoot) fs.rmSync(tempRoot, { recursive: true, force: true });
  console.log(`fake-envd stopped (${signal})`);
  process.exit(0);
}
process.on('SIGINT', () => stop('SIGINT'));
process.on('SIGTERM', () => stop('SIGTERM'));
// Started with an IPC channel (the benchmark does that): never outlive the parent.
process.on('disconnect', () => stop('disconnect'));
