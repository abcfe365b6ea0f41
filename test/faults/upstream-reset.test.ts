// Fault 1: envd dies in the middle of a stream, after it sent its headers and some frames.
// nginx can no longer change the status (200 is on the wire), so it closes the client connection
// without the chunked body's last chunk (`0\r\n\r\n`), and no Connect end-stream envelope ever
// arrives: the client must see an error, never a clean end of stream.
//
// test/acceptance/sdk-errors.test.ts already covers a *background* `commands.run` whose upstream
// (a scripted socket) resets after the start event, and @connectrpc's client on the same cut.
// This file adds: the real fake envd behind a relay that resets mid-output during a *foreground*
// run (the SDK is reading stdout when the stream dies), and the raw bytes on the client's socket
// for each way an upstream can die (RST, FIN between frames, FIN inside an envelope, FIN inside a
// chunk).
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommandExitError, SandboxError } from 'e2b';
import { envelope } from '../support/connect';
import { startFakeEnvd } from '../fake-envd/server.mjs';
import type { FakeEnvd } from '../fake-envd/server.mjs';
import {
  chunk,
  connectStreamRequest,
  eventKind,
  onRequestHead,
  openStream,
  printLogOnFailure,
  sdkThroughEdge,
  sleep,
  startLocalEdge,
  startRawUpstream,
  startRelay,
  logMark,
  verbose,
  type LocalEdge,
  type RawUpstream,
  type Relay,
} from './harness';

const FRAMES_BEFORE_CUT = 3;
const FRAME_GAP_MS = 100;

type Cut = 'rst' | 'fin' | 'fin-mid-envelope' | 'fin-mid-chunk';

/** How a scripted envd dies after FRAMES_BEFORE_CUT frames, picked by the `x-cut` request header. */
async function startDyingUpstream(): Promise<RawUpstream> {
  return startRawUpstream((socket) =>
    onRequestHead(socket, async (head) => {
      const cut = (/\r\nx-cut: *([a-z-]+)/i.exec(head)?.[1] || 'rst') as Cut;
      socket.write('HTTP/1.1 200 OK\r\nContent-Type: application/connect+json\r\nTransfer-Encoding: chunked\r\n\r\n');
      for (let i = 1; i <= FRAMES_BEFORE_CUT; i++) {
        socket.write(chunk(envelope(0, JSON.stringify({ event: { data: { stdout: Buffer.from(`tick ${i}\n`).toString('base64') } } }))));
        await sleep(FRAME_GAP_MS);
      }
      const next = envelope(0, JSON.stringify({ event: { data: { stdout: Buffer.from('never whole\n').toString('base64') } } }));
      if (cut === 'rst') return void socket.resetAndDestroy();
      if (cut === 'fin') return void socket.end();
      if (cut === 'fin-mid-envelope') return void socket.end(chunk(next.subarray(0, 12)));
      // A chunk header announcing the whole envelope, then only part of it.
      socket.end(Buffer.concat([Buffer.from(next.length.toString(16) + '\r\n'), next.subarray(0, 12)]));
    }),
  );
}

describe('envd resets a stream mid-way', () => {
  let dying: RawUpstream;
  let edge: LocalEdge;
  let root: string;
  let fake: FakeEnvd;
  let relay: Relay;
  let relayEdge: LocalEdge;
  beforeAll(async () => {
    dying = await startDyingUpstream();
    edge = await startLocalEdge({ upstream: dying.address });
    root = mkdtempSync(join(tmpdir(), 'envd-edge-faults-root-'));
    fake = await startFakeEnvd({ root });
    relay = await startRelay(`127.0.0.1:${fake.port}`);
    relayEdge = await startLocalEdge({ upstream: relay.address });
  });
  afterAll(async () => {
    await edge?.stop();
    await relayEdge?.stop();
    await relay?.close();
    await fake?.close();
    await dying?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });
  printLogOnFailure(() => [edge, relayEdge]);

  const cuts: [Cut, RegExp][] = [
    ['rst', /recv\(\) failed \(104: Connection reset by peer\) while reading upstream/],
    ['fin', /upstream prematurely closed connection while reading upstream/],
    ['fin-mid-envelope', /upstream prematurely closed connection while reading upstream/],
    ['fin-mid-chunk', /upstream prematurely closed connection while reading upstream/],
  ];
  it.each(cuts)('raw HTTP/1.1 client, upstream %s: 200 and the frames, then a close without `0\\r\\n\\r\\n` and without end-stream', async (cut, logLine) => {
    const mark = logMark(edge);
    const { done } = openStream(edge.port, connectStreamRequest('/process.Process/Start', { process: { cmd: 'x' } }, { 'x-cut': cut }));
    const res = await done;
    verbose(`upstream ${cut}: client bytes`, res.raw.toString('latin1'));
    verbose(`upstream ${cut}: client socket`, { error: res.error ?? null, closedAfterLastFrameMs: Math.round(res.closedAt - res.frames[res.frames.length - 1].at) });
    const where = `${cut}: ${JSON.stringify(res.raw.toString('latin1'))}`;
    expect(res.status, where).toBe(200);
    expect(res.headers['transfer-encoding'], where).toBe('chunked');
    expect(res.frames.map((f) => f.flags), where).toEqual([0, 0, 0]);
    expect(res.frames.map((f) => Buffer.from(JSON.parse(f.payload).event.data.stdout, 'base64').toString())).toEqual(['tick 1\n', 'tick 2\n', 'tick 3\n']);
    // The failure is visible on the wire: no last chunk, no end-stream envelope.
    expect(res.terminated, where).toBe(false);
    expect(res.raw.includes('\r\n0\r\n\r\n'), where).toBe(false);
    expect(res.endStream, where).toBe(false);
    // The bytes of the cut envelope that did arrive stay a fragment; nothing is invented.
    expect(res.partialEnvelopeBytes, where).toBe(cut === 'fin-mid-envelope' || cut === 'fin-mid-chunk' ? 12 : 0);
    // nginx closed at once, not at a timeout.
    expect(res.closedAt - res.frames[2].at, where).toBeLessThan(1000);
    // nginx names the cause in its error log (the access log still says 200: it was sent).
    await sleep(50);
    expect(mark.since()).toMatch(logLine);
  });

  it('e2b SDK, foreground commands.run on the real fake envd, relay resets while stdout is streaming: run() rejects', async () => {
    const sbx = await sdkThroughEdge(relayEdge.url);
    const ticks: string[] = [];
    let cutAt = 0;
    const started = Date.now();
    const outcome = await sbx.commands
      .run('for i in $(seq 1 40); do echo tick $i; sleep 0.1; done', {
        onStdout: (line) => {
          ticks.push(line);
          if (ticks.length === 3 && !cutAt) {
            cutAt = Date.now();
            relay.resetAll();
          }
        },
      })
      .then(
        (result) => `resolved with exit code ${result.exitCode}`,
        (error: Error) => error,
      );
    expect(cutAt, 'the command never printed 3 ticks').toBeGreaterThan(0);
    // 2.51.0 says `SandboxError: 2: [unknown] terminated`: not an exit of the command.
    expect(outcome, String(outcome)).toBeInstanceOf(SandboxError);
    expect(outcome).not.toBeInstanceOf(CommandExitError);
    const error = outcome as Error;
    verbose('SDK after the reset', `${error.constructor.name}: ${error.message} (${Date.now() - cutAt} ms after it)`);
    // The error came from the cut, at once, not from the command finishing 4 s later.
    expect(Date.now() - started).toBeLessThan(3000);
    expect(ticks.length).toBeLessThan(40);
    expect(relayEdge.errorLog()).toMatch(/recv\(\) failed \(104: Connection reset by peer\) while reading upstream/);
  });

  it('raw HTTP/1.1 client on the real fake envd: Start output, then the relay resets: no last chunk, no end-stream', async () => {
    let cut = false;
    const { done } = openStream(
      relayEdge.port,
      connectStreamRequest('/process.Process/Start', { process: { cmd: '/bin/sh', args: ['-c', 'for i in $(seq 1 40); do echo tick $i; sleep 0.1; done'], envs: {} } }),
      {
        // Cut once three data events are through.
        onFrame: (_frame, all) => {
          if (!cut && all.filter((f) => eventKind(f) === 'data').length === 3) {
            cut = true;
            relay.resetAll();
          }
        },
      },
    );
    const res = await done;
    const kinds = res.frames.map(eventKind);
    expect(cut, kinds.join(',')).toBe(true);
    expect(res.status).toBe(200);
    expect(kinds.slice(0, 4)).toEqual(['start', 'data', 'data', 'data']);
    expect(kinds).not.toContain('end');
    expect(res.endStream).toBe(false);
    expect(res.terminated).toBe(false);
    expect(res.raw.includes('\r\n0\r\n\r\n')).toBe(false);
  });
});
