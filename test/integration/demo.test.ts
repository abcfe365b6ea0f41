// `npm run demo` as a newcomer runs it: it prints `ready http://…`, streams a Start through real
// nginx to the fake envd, runs the README's SDK snippet, and stops everything on SIGTERM.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { envelope, parseEnvelopes } from '../support/connect';
// @ts-expect-error plain ESM tool module without types
import { freePort, ROOT } from '../../tools/nginx.mjs';

function portOpen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => (s.destroy(), resolve(true)));
    s.on('error', () => resolve(false));
  });
}

describe('npm run demo', () => {
  let demo: ChildProcess;
  let port: number;
  let output = '';
  let ready = '';
  beforeAll(async () => {
    port = await freePort();
    demo = spawn(process.execPath, [join(ROOT, 'examples/demo.mjs')], { env: { ...process.env, LISTEN: `127.0.0.1:${port}` }, stdio: ['ignore', 'pipe', 'pipe'] });
    ready = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ready line in 30 s:\n${output}`)), 30_000);
      const onData = (d: Buffer) => {
        output += d.toString();
        const m = /^ready (http:\/\/\S+)$/m.exec(output);
        if (m) {
          clearTimeout(timer);
          resolve(m[1]);
        }
      };
      demo.stdout!.on('data', onData);
      demo.stderr!.on('data', (d) => (output += d.toString()));
      demo.on('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
    });
  });
  afterAll(() => {
    if (demo.exitCode === null) demo.kill('SIGKILL');
  });

  it('prints `ready http://<LISTEN>`', () => {
    expect(ready).toBe(`http://127.0.0.1:${port}`);
  });

  it('streams a process.Process/Start: the start event at once, output as it is written', async () => {
    const t0 = performance.now();
    const res = await fetch(`${ready}/sandbox/abc123/49983/process.Process/Start`, {
      method: 'POST',
      headers: { 'content-type': 'application/connect+json', 'connect-protocol-version': '1' },
      body: envelope(0, JSON.stringify({ process: { cmd: '/bin/sh', args: ['-c', 'echo one; sleep 1; echo two'], envs: {} } })),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('x-accel-buffering')).toBe('no');
    const reader = res.body!.getReader();
    const first = await reader.read();
    const firstAt = performance.now() - t0;
    let rest = Buffer.alloc(0);
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      rest = Buffer.concat([rest, Buffer.from(value)]);
    }
    const frames = parseEnvelopes(Buffer.concat([Buffer.from(first.value!), rest])).map((f) => f.payload);
    expect(firstAt).toBeLessThan(500);
    expect(JSON.parse(frames[0]).event).toHaveProperty('start');
    expect(frames.some((f) => f.includes('"end"'))).toBe(true);
  });

  it('runs the README SDK snippet (examples/sdk-snippet.mjs) against it', async () => {
    const snippet = readFileSync(join(ROOT, 'examples/sdk-snippet.mjs'), 'utf8');
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain(snippet.trim());
    const run = spawn(process.execPath, [join(ROOT, 'examples/sdk-snippet.mjs')], {
      env: { ...process.env, E2B_DEBUG: 'true', E2B_SANDBOX_URL: `${ready}/sandbox/abc123/49983` },
    });
    let out = '';
    run.stdout.on('data', (d) => (out += d));
    run.stderr.on('data', (d) => (out += d));
    const code = await new Promise((r) => run.on('exit', r));
    expect(code, out).toBe(0);
    const returned = Number(/background run returned after (\d+) ms/.exec(out)?.[1]);
    expect(returned).toBeLessThan(300);
    expect(out).toMatch(/wait\(\) after \d+ ms: done/);
    expect(out).toContain('read back: hello from the SDK');
  });

  it('stops nginx and the fake envd on SIGTERM', async () => {
    demo.kill('SIGTERM');
    const code = await new Promise((r) => demo.on('exit', r));
    expect(code).toBe(0);
    expect(await portOpen(port)).toBe(false);
  });
});
