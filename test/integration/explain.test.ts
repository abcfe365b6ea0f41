// /_envd/explain on real nginx: every vector of the shared table, described as JSON, classified by
// the njs module exactly as the core does; the query form; and that it is not a sandbox path.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseResponse, rawHttp, sendRaw } from '../support/client';
import { printLogOnFailure, startEdge, type Edge } from '../support/edge';
import { startTestUpstream, type TestUpstream } from '../support/upstream';
import vectorMismatches from '../support/match-vector.js';
import table from '../vectors.json' with { type: 'json' };

const FIELD_OF: Record<string, string> = {
  method: 'method',
  host: 'host',
  uri: 'uri',
  contentType: 'content_type',
  accept: 'accept',
  upgrade: 'upgrade',
  connection: 'connection',
  sandboxIdHeader: 'sandbox_id',
  sandboxPortHeader: 'sandbox_port',
};

describe('/_envd/explain', () => {
  let upstream: TestUpstream;
  let edge: Edge;
  beforeAll(async () => {
    upstream = await startTestUpstream();
    edge = await startEdge({ upstream: upstream.address });
  });
  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });
  printLogOnFailure(() => [edge]);

  const plain = table.vectors.filter((v) => !(v as { options?: string }).options);
  it.each(plain.map((v) => [v.name, v] as const))('%s', async (_name, vector) => {
    const fields: Record<string, string> = {};
    for (const [fact, value] of Object.entries(vector.request)) fields[FIELD_OF[fact]] = value as string;
    const raw = rawHttp('POST', '/_envd/explain', { Host: '127.0.0.1', 'Content-Type': 'application/json' }, JSON.stringify(fields));
    const res = parseResponse((await sendRaw(edge.port, raw)).text);
    expect(res.status).toBe(200);
    const explanation = JSON.parse(res.body.toString());
    expect(explanation.request).toEqual(vector.request);
    expect(vectorMismatches(vector, explanation.classification)).toEqual([]);
  });

  it('takes the request from the query too', async () => {
    const q = 'host=49983-abc123.sandbox.test&uri=%2Fprocess.Process%2FStart&method=POST&content_type=application%2Fconnect%2Bjson';
    const res = parseResponse((await sendRaw(edge.port, rawHttp('GET', `/_envd/explain?${q}`, { Host: 'localhost' }))).text);
    const c = JSON.parse(res.body.toString()).classification;
    expect(c).toMatchObject({ mode: 'stream', route: 'host', sandboxId: 'abc123', rpc: 'process.Process/Start' });
  });

  it('answers 400 with a JSON error for a body that is not JSON', async () => {
    const res = parseResponse((await sendRaw(edge.port, rawHttp('POST', '/_envd/explain', { Host: 'localhost' }, '{nope'))).text);
    expect(res.status).toBe(400);
    expect(JSON.parse(res.body.toString()).message).toMatch(/not JSON/);
  });

  it('is the sandbox\'s own path when the request names a sandbox', async () => {
    const res = parseResponse((await sendRaw(edge.port, rawHttp('GET', '/_envd/explain', { Host: '8080-abc123.sandbox.test', 'x-test-id': 'explain-routed' }))).text);
    expect(res.status).toBe(200);
    expect(upstream.timeline('explain-routed').url).toBe('/_envd/explain');
  });
});
