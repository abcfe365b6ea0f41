// Fault 5: idle streams and proxy_read_timeout. envd sends a keepalive event every
// `Keepalive-Ping-Interval` seconds (the SDK asks for 50 s, envd's default is 90 s) and the stream
// locations' proxy_read_timeout is 120 s, so a quiet but healthy stream survives; an envd that goes
// silent is cut when the timeout fires.
//
// Shortened here: proxy_read_timeout/proxy_send_timeout 2s stand in for the shipped 120s
// (conf.d/envd/stream-timeouts.inc) and a 1 s keepalive (the fake envd takes whole seconds)
// for the SDK's 50 s: keepalive interval / timeout = 0.5 here, 0.42 in production.
//
// What the client sees when the timeout fires: the response is already 200 with frames on the
// wire, so nginx cannot send an error status. It logs "upstream timed out (110: Connection timed
// out) while reading upstream" and closes the client connection (FIN) without the chunked body's
// last chunk, and no Connect end-stream envelope comes. Clients read that as an error, never as
// a clean end: the SDK says `SandboxError: 2: [unknown] terminated`, @connectrpc/connect-node
// `ConnectError [aborted] aborted`. What they cannot read is *why* (no `deadline_exceeded`).
// The edge could add that: a js_body_filter on the stream locations is called once more when
// nginx gives up (an empty, non-last buffer after data had flowed) and may then send an
// end-stream envelope with last=true, which nginx delivers with the last chunk. Not implemented.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Code, ConnectError, createClient } from '@connectrpc/connect';
import { createConnectTransport } from '@connectrpc/connect-node';
import { CommandExitError, SandboxError } from 'e2b';
import { startFakeEnvd } from '../fake-envd/server.mjs';
import type { FakeEnvd } from '../fake-envd/server.mjs';
import { ensureGenerated } from '../fake-envd/generate.mjs';
import { connectStreamRequest, eventKind, logMark, openStream, printLogOnFailure, sdkThroughEdge, startLocalEdge, verbose, type LocalEdge } from './harness';

const READ_TIMEOUT_MS = 2000;
const QUIET_COMMAND = 'sleep 4; echo done';
const startQuiet = (extra: Record<string, string> = {}) =>
  connectStreamRequest('/process.Process/Start', { process: { cmd: '/bin/sh', args: ['-c', QUIET_COMMAND], envs: {} } }, extra);

describe('idle streams and proxy_read_timeout (2s standing in for 120s)', () => {
  let root: string;
  let fake: FakeEnvd;
  let edge: LocalEdge;
  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'envd-edge-faults-root-'));
    fake = await startFakeEnvd({ root });
    edge = await startLocalEdge({
      upstream: `127.0.0.1:${fake.port}`,
      files: { 'conf.d/envd/stream-timeouts.inc': 'proxy_read_timeout 2s;\nproxy_send_timeout 2s;\n' },
    });
  });
  afterAll(async () => {
    await edge?.stop();
    await fake?.close();
    if (root) rmSync(root, { recursive: true, force: true });
  });
  printLogOnFailure(() => [edge]);

  it('envd sends a keepalive every 1 s: a 4 s quiet command outlives the 2 s timeout and ends cleanly', async () => {
    const res = await openStream(edge.port, startQuiet({ 'Keepalive-Ping-Interval': '1' })).done;
    const kinds = res.frames.map(eventKind);
    const gaps = res.frames.slice(1).map((f, i) => f.at - res.frames[i].at);
    verbose('keepalive stream: events', kinds);
    expect(res.status).toBe(200);
    expect(kinds[0]).toBe('start');
    expect(kinds.filter((k) => k === 'keepalive').length).toBeGreaterThanOrEqual(3);
    expect(kinds.slice(-3)).toEqual(['data', 'end', 'END_STREAM']);
    expect(JSON.parse(res.frames.find((f) => eventKind(f) === 'end')!.payload).event.end.exitCode ?? 0).toBe(0);
    expect(res.terminated).toBe(true);
    expect(res.endStream).toBe(true);
    // Longer than the timeout in all, never silent for as long as the timeout.
    expect(res.closedAt - res.headersAt).toBeGreaterThan(2 * READ_TIMEOUT_MS - 200);
    expect(Math.max(...gaps)).toBeLessThan(READ_TIMEOUT_MS - 500);
  });

  it('envd goes silent (no keepalive asked for: 90 s): the stream is cut at the timeout, no last chunk, no end-stream', async () => {
    const mark = logMark(edge);
    const res = await openStream(edge.port, startQuiet()).done;
    verbose('silent stream: client bytes', res.raw.toString('latin1'));
    verbose('silent stream: client socket', { error: res.error ?? null, closedAfterStartMs: Math.round(res.closedAt - res.frames[0].at) });
    expect(res.status).toBe(200);
    expect(res.frames.map(eventKind)).toEqual(['start']);
    expect(res.terminated).toBe(false);
    expect(res.endStream).toBe(false);
    expect(res.raw.includes('\r\n0\r\n\r\n')).toBe(false);
    expect(res.closedAt - res.frames[0].at).toBeGreaterThan(READ_TIMEOUT_MS - 200);
    expect(res.closedAt - res.frames[0].at).toBeLessThan(READ_TIMEOUT_MS + 1000);
    expect(mark.since()).toMatch(/upstream timed out \(110: Connection timed out\) while reading upstream/);
  });

  it('the silent stream through @connectrpc/connect-node: a ConnectError after the start event, not a clean end', async () => {
    await ensureGenerated();
    const { Process } = await import('../fake-envd/gen/process/process_pb.js');
    const client = createClient(Process, createConnectTransport({ baseUrl: `${edge.url}/sandbox/abc123/49983`, httpVersion: '1.1', useBinaryFormat: false }));
    const kinds: string[] = [];
    const t0 = performance.now();
    const outcome = await (async () => {
      for await (const res of client.start({ process: { cmd: '/bin/sh', args: ['-c', QUIET_COMMAND], envs: {} } })) kinds.push(res.event?.event.case ?? '?');
      return 'clean end';
    })().catch((e: Error) => e);
    const elapsed = performance.now() - t0;
    verbose('connect-node on the silent stream', outcome instanceof ConnectError ? { code: Code[outcome.code], message: outcome.message, after: Math.round(elapsed) } : String(outcome));
    expect(kinds).toEqual(['start']);
    expect(outcome).toBeInstanceOf(ConnectError);
    expect(elapsed).toBeLessThan(READ_TIMEOUT_MS + 1500);
  });

  it('the silent stream through the e2b SDK: a foreground run longer than the timeout rejects at the timeout', async () => {
    const sbx = await sdkThroughEdge(edge.url);
    const t0 = performance.now();
    // The SDK asks for a keepalive every 50 s: silent for the whole 4 s here.
    const outcome = await sbx.commands.run(QUIET_COMMAND).then(
      (r) => `resolved with exit code ${r.exitCode}`,
      (e: Error) => e,
    );
    const elapsed = performance.now() - t0;
    verbose('SDK on the silent stream', outcome instanceof Error ? `${outcome.constructor.name}: ${outcome.message} after ${Math.round(elapsed)} ms` : outcome);
    // 2.51.0 says `SandboxError: 2: [unknown] terminated`: not an exit of the command.
    expect(outcome).toBeInstanceOf(SandboxError);
    expect(outcome).not.toBeInstanceOf(CommandExitError);
    expect(elapsed).toBeGreaterThan(READ_TIMEOUT_MS - 200);
    expect(elapsed).toBeLessThan(READ_TIMEOUT_MS + 1500);
  });
});
