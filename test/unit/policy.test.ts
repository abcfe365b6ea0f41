import { describe, expect, it } from 'vitest';
import { decideMode } from '../../src/policy';
import { detectProtocol } from '../../src/protocol';
import { ENVD_RPC_CATALOG } from '../../src/catalog';
import { classifyRequest } from '../../src/classify';
import type { Protocol, RpcKind } from '../../src/types';

describe('decideMode: the whole policy', () => {
  const table: [boolean, RpcKind, Protocol, string][] = [
    [false, 'server_stream', 'connect_stream', 'reject'],
    [true, 'unknown', 'websocket', 'upgrade'],
    [true, 'client_stream', 'connect_stream', 'duplex'],
    [true, 'bidi_stream', 'grpc', 'duplex'],
    [true, 'unknown', 'connect_stream', 'duplex'],
    [true, 'unknown', 'grpc', 'duplex'],
    [true, 'unknown', 'grpc_web', 'duplex'],
    [true, 'unknown', 'sse', 'stream'],
    [true, 'server_stream', 'connect_stream', 'stream'],
    [true, 'server_stream', 'connect', 'stream'],
    [true, 'unary', 'connect_stream', 'stream'],
    [true, 'unary', 'connect', 'buffer'],
    [true, 'rest', 'http', 'buffer'],
    [true, 'unknown', 'http', 'buffer'],
  ];
  it.each(table)('valid=%s kind=%s protocol=%s → %s', (valid, kind, protocol, mode) => {
    expect(decideMode({ route: 'host', routeValid: valid, kind, protocol, allowInternal: false })).toBe(mode);
  });
  it('internal control paths are refused on envd routes unless allowed, and left alone off them', () => {
    const p = { routeValid: true, kind: 'internal' as const, protocol: 'http' as const };
    expect(decideMode({ ...p, route: 'path', allowInternal: false })).toBe('reject');
    expect(decideMode({ ...p, route: 'header', allowInternal: true })).toBe('buffer');
    expect(decideMode({ ...p, route: 'none', allowInternal: false })).toBe('buffer');
  });
});

describe('detectProtocol', () => {
  const base = { method: 'POST', query: '' };
  it.each([
    ['application/connect+json', 'connect_stream'],
    ['Application/Connect+Proto; charset=utf-8', 'connect_stream'],
    ['application/grpc', 'grpc'],
    ['application/grpc+proto', 'grpc'],
    ['application/grpc-web+proto', 'grpc_web'],
    ['application/grpc-web-text', 'grpc_web'],
    ['application/json', 'connect'],
    ['application/proto', 'connect'],
    ['multipart/form-data; boundary=x', 'http'],
    ['application/grpcx', 'http'],
  ])('%s → %s', (contentType, protocol) => {
    expect(detectProtocol({ ...base, contentType })).toBe(protocol);
  });
  it('SSE needs an explicit text/event-stream, not a wildcard', () => {
    expect(detectProtocol({ method: 'GET', query: '', accept: 'text/html, text/event-stream;q=0.9' })).toBe('sse');
    expect(detectProtocol({ method: 'GET', query: '', accept: '*/*' })).toBe('http');
  });
  it('WebSocket needs both Upgrade and a Connection that lists upgrade', () => {
    expect(detectProtocol({ method: 'GET', query: '', upgrade: 'websocket', connection: 'Upgrade' })).toBe('websocket');
    expect(detectProtocol({ method: 'GET', query: '', upgrade: 'websocket' })).toBe('http');
    expect(detectProtocol({ method: 'GET', query: '', upgrade: 'websocket', connection: 'upgraded' })).toBe('http');
  });
  it('Connect GET is unary only with connect=v1 in the query', () => {
    expect(detectProtocol({ method: 'GET', query: 'encoding=json&connect=v1' })).toBe('connect');
    expect(detectProtocol({ method: 'GET', query: 'connect=v10' })).toBe('http');
  });
});

describe('the catalog', () => {
  it('names every envd method of design.md with its kind', () => {
    expect(ENVD_RPC_CATALOG).toEqual({
      'process.Process/List': 'unary',
      'process.Process/Connect': 'server_stream',
      'process.Process/Start': 'server_stream',
      'process.Process/Update': 'unary',
      'process.Process/StreamInput': 'client_stream',
      'process.Process/SendInput': 'unary',
      'process.Process/SendSignal': 'unary',
      'process.Process/CloseStdin': 'unary',
      'filesystem.Filesystem/Stat': 'unary',
      'filesystem.Filesystem/MakeDir': 'unary',
      'filesystem.Filesystem/Move': 'unary',
      'filesystem.Filesystem/ListDir': 'unary',
      'filesystem.Filesystem/Remove': 'unary',
      'filesystem.Filesystem/WatchDir': 'server_stream',
      'filesystem.Filesystem/CreateWatcher': 'unary',
      'filesystem.Filesystem/GetWatcherEvents': 'unary',
      'filesystem.Filesystem/RemoveWatcher': 'unary',
    });
  });
  it('every streaming method of the catalog streams through every routing form', () => {
    const hosts = [
      { host: '49983-abc.sandbox.test', prefix: '' },
      { host: 'cubeproxy.test', prefix: '/sandbox/abc/49983' },
    ];
    for (const name of Object.keys(ENVD_RPC_CATALOG)) {
      const kind = ENVD_RPC_CATALOG[name];
      const contentType = kind === 'unary' ? 'application/json' : 'application/connect+json';
      for (const h of hosts) {
        const c = classifyRequest({ method: 'POST', host: h.host, uri: `${h.prefix}/${name}`, contentType });
        const want = kind === 'unary' ? 'buffer' : kind === 'server_stream' ? 'stream' : 'duplex';
        expect(c.mode, `${name} via ${h.host}`).toBe(want);
      }
    }
  });
});

describe('classifyRequest is total', () => {
  it('odd but string-typed inputs give a result, never an exception', () => {
    const odd = ['', ' ', ':', '[', '[::1', '\u0000', '%', '?', '/sandbox', '/sandbox/', '////', '9'.repeat(400), 'é', '__proto__'];
    for (const a of odd) {
      for (const b of odd) {
        const c = classifyRequest({ method: a, host: a, uri: b, contentType: b, accept: a, sandboxIdHeader: a, sandboxPortHeader: b });
        expect(['stream', 'duplex', 'buffer', 'upgrade', 'reject']).toContain(c.mode);
        expect(c.mode === 'reject').toBe(c.rejection !== undefined);
      }
    }
  });
  it('a reflected value is bounded in the message', () => {
    const c = classifyRequest({ method: 'GET', host: `49983-${'x'.repeat(5000)}.sandbox.test`, uri: '/' });
    expect(c.mode).toBe('reject');
    expect(c.rejection!.message.length).toBeLessThan(200);
  });
});
