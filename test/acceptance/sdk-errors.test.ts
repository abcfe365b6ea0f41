// The e2b SDK understands the edge's own errors: an unreachable sandbox surfaces as the SDK's
// sandbox-unavailable / timeout classes, a malformed sandbox id as InvalidArgumentError, and a
// stream the upstream cuts as an error, never as a clean end.
import { createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { InvalidArgumentError, Sandbox, SandboxNotFoundError, TimeoutError } from 'e2b';
import { envelope } from '../support/connect';
import { printLogOnFailure, startEdge, type Edge } from '../support/edge';
// @ts-expect-error plain ESM tool module without types
import { freePort } from '../../tools/nginx.mjs';
import { ensureGenerated } from '../fake-envd/generate.mjs';

async function sdkFor(url: string, id: string): Promise<Sandbox> {
  process.env.E2B_DEBUG = 'true';
  process.env.E2B_SANDBOX_URL = url;
  return Sandbox.connect(id);
}

/** An upstream that answers Start with a start event, then resets the connection; others get 200. */
async function startCuttingUpstream(): Promise<{ address: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.once('data', (head) => {
      if (!head.toString('latin1').startsWith('POST /process.Process/Start ')) {
        return void socket.end('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
      }
      const start = envelope(0, JSON.stringify({ event: { start: { pid: 4242 } } }));
      socket.write(`HTTP/1.1 200 OK\r\nContent-Type: application/connect+json\r\nTransfer-Encoding: chunked\r\n\r\n${start.length.toString(16)}\r\n`);
      socket.write(Buffer.concat([start, Buffer.from('\r\n')]));
      setTimeout(() => socket.resetAndDestroy(), 300);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => {
      for (const s of sockets) s.destroy();
      server.close(() => r());
    }),
  };
}

describe('SDK error classes for errors the edge answers', () => {
  let down: Edge;
  let cut: Edge;
  let cutter: Awaited<ReturnType<typeof startCuttingUpstream>>;
  beforeAll(async () => {
    down = await startEdge({ upstream: `127.0.0.1:${await freePort()}` });
    cutter = await startCuttingUpstream();
    cut = await startEdge({ upstream: cutter.address });
  });
  printLogOnFailure(() => [down, cut]);
  afterAll(async () => {
    await down?.stop();
    await cut?.stop();
    await cutter?.close();
  });

  describe('the sandbox is unreachable (nothing listens upstream)', () => {
    it('commands.run → SandboxNotFoundError (the stream carries unavailable)', async () => {
      const sbx = await sdkFor(`http://127.0.0.1:${down.port}/sandbox/abc123/49983`, 'abc123');
      const err = await sbx.commands.run('true').catch((e) => e);
      expect(err).toBeInstanceOf(SandboxNotFoundError);
    });
    it('commands.list → TimeoutError (unary unavailable, the SDK reads it as a sandbox timeout)', async () => {
      const sbx = await sdkFor(`http://127.0.0.1:${down.port}/sandbox/abc123/49983`, 'abc123');
      const err = await sbx.commands.list().catch((e) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err.message).toContain('abc123');
      expect(err.message).toContain('sandbox timeout');
    });
    it('files.read → TimeoutError (REST 502)', async () => {
      const sbx = await sdkFor(`http://127.0.0.1:${down.port}/sandbox/abc123/49983`, 'abc123');
      const err = await sbx.files.read('/home/user/a.txt').catch((e) => e);
      expect(err).toBeInstanceOf(TimeoutError);
      expect(err.message).toContain('could not connect');
    });
  });

  describe('a malformed sandbox id', () => {
    const url = () => `http://127.0.0.1:${down.port}/sandbox/Bad_Id/49983`;
    it('commands.list → InvalidArgumentError naming the id', async () => {
      const err = await (await sdkFor(url(), 'Bad_Id')).commands.list().catch((e) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
      expect(err.message).toContain('Bad_Id');
    });
    it('commands.run → InvalidArgumentError', async () => {
      const err = await (await sdkFor(url(), 'Bad_Id')).commands.run('true').catch((e) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
    });
    it('files.read → InvalidArgumentError', async () => {
      const err = await (await sdkFor(url(), 'Bad_Id')).files.read('/home/user/a.txt').catch((e) => e);
      expect(err).toBeInstanceOf(InvalidArgumentError);
    });
  });

  describe('a stream the upstream cuts after its first event', () => {
    it('the SDK handle ends in an error, not a clean exit', async () => {
      const sbx = await sdkFor(`http://127.0.0.1:${cut.port}/sandbox/abc123/49983`, 'abc123');
      const handle = await sbx.commands.run('sleep 5', { background: true });
      expect(handle.pid).toBe(4242);
      const outcome = await handle.wait().then(
        () => 'clean end',
        (e: Error) => e,
      );
      expect(outcome).toBeInstanceOf(Error);
    });
    it('a raw Connect client sees an error, not a clean end of stream', async () => {
      await ensureGenerated();
      const { Process } = await import('../fake-envd/gen/process/process_pb.js');
      const client = createClient(Process, createConnectTransport({ baseUrl: `http://127.0.0.1:${cut.port}/sandbox/abc123/49983`, httpVersion: '1.1', useBinaryFormat: false }));
      const kinds: string[] = [];
      const outcome = await (async () => {
        for await (const res of client.start({ process: { cmd: '/bin/true', args: [], envs: {} } })) kinds.push(res.event?.event.case ?? '?');
        return 'clean end';
      })().catch((e: Error) => e);
      expect(kinds, String(outcome)).toEqual(['start']);
      expect(outcome).toBeInstanceOf(Error);
    });
  });
});
