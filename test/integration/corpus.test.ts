// The hostile corpus (test/corpus/hostile.json) written byte for byte to a real nginx with
// envd-edge: every answer is the expected status, none is a 5xx, and nginx's error log shows no
// js exception, no envd-edge fallback, and no crashed worker.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from '../support/client';
import { startEdge, type Edge } from '../support/edge';
import { startTestUpstream, type TestUpstream } from '../support/upstream';
import corpus from '../corpus/hostile.json' with { type: 'json' };

describe(`hostile corpus: ${corpus.requests.length} raw requests through real nginx`, () => {
  let upstream: TestUpstream;
  let edge: Edge;
  const answers: { name: string; want: number; got: number }[] = [];
  beforeAll(async () => {
    upstream = await startTestUpstream();
    edge = await startEdge({ upstream: upstream.address });
    for (const entry of corpus.requests) {
      const res = await sendRaw(edge.port, Buffer.from(entry.raw, 'latin1'), 10_000);
      answers.push({ name: `${entry.category}: ${entry.name}`, want: entry.status, got: res.status });
    }
  });
  afterAll(async () => {
    await edge?.stop();
    await upstream?.close();
  });

  it('has at least 500 requests', () => {
    expect(corpus.requests.length).toBeGreaterThanOrEqual(500);
  });

  it('answers every request with its expected status', () => {
    const wrong = answers.filter((a) => a.got !== a.want);
    console.log(`corpus: ${answers.length - wrong.length} of ${answers.length} answered as expected`);
    expect(wrong).toEqual([]);
  });

  it('answers no request with a 5xx', () => {
    expect(answers.filter((a) => a.got >= 500 || a.got === 0)).toEqual([]);
  });

  it('leaves no js exception, fallback or crashed worker in the error log', () => {
    const log = edge.errorLog();
    expect(log).not.toMatch(/js exception|envd-edge: .*fell back|exited on signal|\[alert\]|\[crit\]|\[emerg\]/);
  });
});
