// The real e2b SDK through real nginx with envd-edge, in front of the fake envd, in all three
// routing forms; then the same timing scenarios against the CubeProxy-like config without the
// plugin (gzip for every type, the SDK's own Accept-Encoding: gzip), where they must fail: that is
// the field regression, and it proves envd-edge is what fixes it.
import dns from 'node:dns';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { CommandExitError, Sandbox } from 'e2b';
import { startFakeEnvd, type FakeEnvd } from '../fake-envd/server.mjs';
import { HOSTILE, startEdge, type Edge } from '../support/edge';

type Form = 'host' | 'path' | 'header';
const ID = 'abc123';
const MiB = 1024 * 1024;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const bytes = (s: string) => new TextEncoder().encode(s);

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<number> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) return Infinity;
    await sleep(1);
  }
  return performance.now();
}

/** Names under .sandbox.test and .e2b.test resolve to 127.0.0.1, in this process only. */
const realLookup = dns.lookup;
function installDnsShim() {
  (dns as { lookup: unknown }).lookup = (host: string, options: unknown, callback?: unknown) => {
    const cb = (typeof options === 'function' ? options : callback) as (...args: unknown[]) => void;
    const opts = (typeof options === 'object' && options) || {};
    if (/\.(sandbox|e2b)\.test$/.test(host)) {
      if ((opts as { all?: boolean }).all) return void process.nextTick(cb, null, [{ address: '127.0.0.1', family: 4 }]);
      return void process.nextTick(cb, null, '127.0.0.1', 4);
    }
    return (realLookup as (...args: unknown[]) => void)(host, options, callback);
  };
}

/** Where the SDK sends envd traffic for each routing form (E2B_SANDBOX_URL in debug mode). */
function sandboxUrl(form: Form, port: number): string {
  if (form === 'host') return `http://49983-${ID}.sandbox.test:${port}`;
  if (form === 'path') return `http://127.0.0.1:${port}/sandbox/${ID}/49983`;
  return `http://sandbox.e2b.test:${port}`;
}

async function connectSdk(url: string): Promise<Sandbox> {
  process.env.E2B_DEBUG = 'true';
  process.env.E2B_SANDBOX_URL = url;
  const sbx = await Sandbox.connect(ID);
  // Warm up: undici loads and opens its first connection outside the timings.
  await sbx.commands.run('true');
  return sbx;
}

/** Latencies of this run, printed at the end as the README's scenario table. */
const table: Record<string, Record<string, string>> = {};
const note = (leg: string, scenario: string, ms: number) => {
  (table[scenario] ??= {})[leg] = Number.isFinite(ms) ? `${ms.toFixed(0)} ms` : 'never';
};

// --- the timing scenarios, shared by the plugin legs and the baseline ---

async function backgroundRun(sbx: Sandbox) {
  const t0 = performance.now();
  const handle = await sbx.commands.run('sleep 2; echo done', { background: true, requestTimeoutMs: 10_000 });
  const returned = performance.now() - t0;
  const result = await handle.wait();
  return { returned, total: performance.now() - t0, stdout: result.stdout };
}

async function watchDirEvent(sbx: Sandbox, fake: FakeEnvd, dir: string) {
  await sbx.files.makeDir(dir);
  const events: { at: number; name: string }[] = [];
  const t0 = performance.now();
  const handle = await sbx.files.watchDir(dir, (e) => void events.push({ at: performance.now(), name: e.name }), { timeoutMs: 4000 });
  const started = performance.now() - t0;
  const written = performance.now() + Math.max(0, 1000 - started);
  await sleep(Math.max(0, 1000 - started));
  fs.writeFileSync(fake.hostPath(`${dir}/new.txt`), 'hello');
  const seen = await waitUntil(() => events.some((e) => e.name === 'new.txt'), 4000);
  await handle.stop().catch(() => undefined);
  return { started, delay: seen - written };
}

async function ptyMarker(sbx: Sandbox) {
  let out = '';
  const t0 = performance.now();
  const handle = await sbx.pty.create({ cols: 80, rows: 24, timeoutMs: 5000, onData: (d) => void (out += text(d)) });
  const created = performance.now() - t0;
  await waitUntil(() => out.length > 0, 3000);
  await sleep(100);
  const sent = performance.now();
  await sbx.pty.sendInput(handle.pid, bytes('echo marker\n'));
  const back = await waitUntil(() => /[\r\n]marker\r\n/.test(out), 3000);
  return { created, handle, delay: back - sent, output: () => out };
}

const LEGS: Form[] = ['host', 'path', 'header'];

describe('the e2b SDK through nginx with envd-edge (hostile globals)', () => {
  let root: string;
  let fake: FakeEnvd;
  beforeAll(async () => {
    installDnsShim();
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'envd-edge-sdk-'));
    fake = await startFakeEnvd({ root });
  });
  afterAll(async () => {
    await fake?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  describe.each(LEGS)('%s routing', (form) => {
    let edge: Edge;
    let sbx: Sandbox;
    const leg = `${form} routing`;
    beforeAll(async () => {
      edge = await startEdge({ upstream: `127.0.0.1:${fake.port}`, httpExtra: HOSTILE });
      sbx = await connectSdk(sandboxUrl(form, edge.port));
    });
    afterAll(async () => {
      await edge?.stop();
    });
    const withLog = async (fn: () => Promise<void>) => {
      try {
        await fn();
      } catch (error) {
        console.error(`--- nginx error.log (${leg}) ---\n${edge.errorLog()}`);
        throw error;
      }
    };

    it('reaches the fake envd in this routing form', () =>
      withLog(async () => {
        const before = fake.requests.length;
        await sbx.commands.run('true');
        const seen = fake.requests.slice(before).map((r) => r.url);
        expect(seen).toEqual(['/process.Process/Start']);
      }));

    it('background commands.run returns within 300 ms; wait() resolves after ~2 s with the output', () =>
      withLog(async () => {
        const r = await backgroundRun(sbx);
        note(leg, 'background run() returns', r.returned);
        note(leg, 'wait() for sleep 2', r.total);
        expect(r.returned).toBeLessThan(300);
        expect(r.total).toBeGreaterThan(1900);
        expect(r.stdout).toBe('done\n');
      }));

    it('foreground run: exact stdout and stderr; a non-zero exit is CommandExitError', () =>
      withLog(async () => {
        const t0 = performance.now();
        const ok = await sbx.commands.run("printf 'out line\\n'; printf 'err line\\n' >&2");
        note(leg, 'foreground run', performance.now() - t0);
        expect(ok).toMatchObject({ exitCode: 0, stdout: 'out line\n', stderr: 'err line\n' });
        const err = await sbx.commands.run('echo partial; echo oops >&2; exit 7').catch((e) => e);
        expect(err).toBeInstanceOf(CommandExitError);
        expect(err).toMatchObject({ exitCode: 7, stdout: 'partial\n', stderr: 'oops\n' });
      }));

    it('files.watchDir: an event for a file written 1 s later arrives within 200 ms of the write', () =>
      withLog(async () => {
        const r = await watchDirEvent(sbx, fake, `/home/user/watch-${form}`);
        note(leg, 'watchDir event after the write', r.delay);
        expect(r.delay).toBeLessThan(200);
      }));

    it('PTY: the marker streams back within 200 ms; resize; kill', () =>
      withLog(async () => {
        const r = await ptyMarker(sbx);
        note(leg, 'PTY marker round trip', r.delay);
        expect(r.delay).toBeLessThan(200);
        await sbx.pty.resize(r.handle.pid, { cols: 132, rows: 43 });
        await sbx.pty.sendInput(r.handle.pid, bytes('stty size\n'));
        expect(await waitUntil(() => r.output().includes('43 132'), 2000)).toBeLessThan(Infinity);
        expect(await sbx.pty.kill(r.handle.pid)).toBe(true);
        const err = await r.handle.wait().catch((e) => e);
        expect(err).toBeInstanceOf(CommandExitError);
      }));

    it('files.write / files.read of 50 MiB round-trip byte-identical', () =>
      withLog(async () => {
        const data = new Uint8Array(randomBytes(50 * MiB));
        let t0 = performance.now();
        await sbx.files.write(`/home/user/big-${form}.bin`, data.buffer as ArrayBuffer);
        note(leg, 'files.write 50 MiB', performance.now() - t0);
        expect(sha256(fs.readFileSync(fake.hostPath(`/home/user/big-${form}.bin`)))).toBe(sha256(data));
        t0 = performance.now();
        const back = await sbx.files.read(`/home/user/big-${form}.bin`, { format: 'bytes' });
        note(leg, 'files.read 50 MiB', performance.now() - t0);
        expect(back.length).toBe(data.length);
        expect(sha256(back)).toBe(sha256(data));
      }));

    it('StreamInput through a Connect client: each frame reaches the process as sent', () =>
      withLog(async () => {
        const { Process } = await import('../fake-envd/gen/process/process_pb.js');
        const received: { at: number; text: string }[] = [];
        const handle = await sbx.commands.run('cat', { background: true, stdin: true, onStdout: (d) => void received.push({ at: performance.now(), text: d }) });
        const url = sandboxUrl(form, edge.port);
        const headers: Record<string, string> = form === 'header' ? { 'E2b-Sandbox-Id': ID, 'E2b-Sandbox-Port': '49983' } : {};
        const client = createClient(Process, createConnectTransport({ baseUrl: url, httpVersion: '1.1' }));
        const sentAt: number[] = [];
        async function* frames() {
          yield { event: { case: 'start' as const, value: { process: { selector: { case: 'pid' as const, value: handle.pid } } } } };
          for (let i = 0; i < 3; i++) {
            await sleep(300);
            sentAt.push(performance.now());
            yield { event: { case: 'data' as const, value: { input: { input: { case: 'stdin' as const, value: bytes(`frame${i}\n`) } } } } };
          }
          await sleep(300);
        }
        await client.streamInput(frames(), { headers });
        const ended = performance.now();
        const arrivals = [0, 1, 2].map((i) => received.find((r) => r.text.includes(`frame${i}`))?.at ?? Infinity);
        note(leg, 'StreamInput frame → process', Math.max(...arrivals.map((at, i) => at - sentAt[i])));
        for (let i = 0; i < 3; i++) expect(arrivals[i] - sentAt[i]).toBeLessThan(200);
        expect(ended - arrivals[0]).toBeGreaterThan(700);
        await sbx.commands.closeStdin(handle.pid);
        expect((await handle.wait()).stdout).toBe('frame0\nframe1\nframe2\n');
      }));

    it('commands.kill() ends the process', () =>
      withLog(async () => {
        const handle = await sbx.commands.run('sleep 30', { background: true });
        const t0 = performance.now();
        expect(await sbx.commands.kill(handle.pid)).toBe(true);
        const err = await handle.wait().catch((e) => e);
        note(leg, 'kill() → end event', performance.now() - t0);
        expect(err).toBeInstanceOf(CommandExitError);
        expect((await sbx.commands.list()).map((p) => p.pid)).not.toContain(handle.pid);
      }));
  });

  describe('baseline: the same config without envd-edge reproduces the field regressions', () => {
    let edge: Edge;
    let sbx: Sandbox;
    const leg = 'without envd-edge';
    beforeAll(async () => {
      edge = await startEdge({ upstream: `127.0.0.1:${fake.port}`, httpExtra: HOSTILE, plugin: false });
      sbx = await connectSdk(sandboxUrl('host', edge.port));
    });
    afterAll(async () => {
      await edge?.stop();
    });

    it('background run() blocks until the command has finished', async () => {
      const r = await backgroundRun(sbx);
      note(leg, 'background run() returns', r.returned);
      expect(r.returned).toBeGreaterThan(1500);
    });

    it('the watchDir event arrives late, or not at all', async () => {
      const r = await watchDirEvent(sbx, fake, '/home/user/watch-baseline').catch(() => ({ started: Infinity, delay: Infinity }));
      note(leg, 'watchDir event after the write', r.delay);
      expect(r.delay).toBeGreaterThan(200);
    });

    it('the PTY is unusable: create blocks, the marker does not come back in time', async () => {
      const r = await ptyMarker(sbx).catch(() => ({ created: Infinity, delay: Infinity, handle: undefined }));
      note(leg, 'PTY marker round trip', r.delay);
      expect(r.created > 1000 || r.delay > 200).toBe(true);
      if (r.handle) await sbx.pty.kill(r.handle.pid).catch(() => undefined);
    });
  });

  afterAll(() => {
    const legs = [...LEGS.map((f) => `${f} routing`), 'without envd-edge'];
    const lines = [`| scenario | ${legs.join(' | ')} |`, `|---|${legs.map(() => '---|').join('')}`];
    for (const [scenario, byLeg] of Object.entries(table)) lines.push(`| ${scenario} | ${legs.map((l) => byLeg[l] ?? '').join(' | ')} |`);
    console.log(`SDK scenarios through nginx, measured:\n${lines.join('\n')}`);
  });
});
