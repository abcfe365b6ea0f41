// Protocol detection from request headers alone (the response is not known when nginx decides).
import { matches } from './text';
import type { Protocol } from './types';

/** The media type without parameters, lower-cased: `Application/JSON; charset=utf-8` → `application/json`. */
export function mediaType(value: string | undefined): string {
  if (!value) return '';
  const semi = value.indexOf(';');
  return (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
}

/** True when a comma-separated header (Connection) lists `token`, case-insensitively. */
function listsToken(value: string | undefined, token: string): boolean {
  if (!value) return false;
  const parts = value.toLowerCase().split(',');
  for (let i = 0; i < parts.length; i++) {
    if (parts[i].trim() === token) return true;
  }
  return false;
}

/** True when an Accept header accepts `type` explicitly (not through a wildcard). */
function accepts(value: string | undefined, type: string): boolean {
  if (!value) return false;
  const parts = value.split(',');
  for (let i = 0; i < parts.length; i++) {
    if (mediaType(parts[i]) === type) return true;
  }
  return false;
}

export interface ProtocolHeaders {
  method: string;
  query: string;
  contentType?: string;
  accept?: string;
  upgrade?: string;
  connection?: string;
}

/** Connect's GET form of a unary call: `?connect=v1&…`. */
const CONNECT_GET = /(?:^|&)connect=v1(?:&|$)/;
/** Media types of Connect unary calls (POST), compared after mediaType(). */
export const CONNECT_UNARY_MEDIA_TYPES: readonly string[] = ['application/json', 'application/proto'];
/** The Accept type that asks for Server-Sent Events. */
export const SSE_MEDIA_TYPE = 'text/event-stream';

export function detectProtocol(h: ProtocolHeaders): Protocol {
  if (h.upgrade && listsToken(h.connection, 'upgrade')) return 'websocket';
  const type = mediaType(h.contentType);
  if (type.indexOf('application/grpc-web') === 0) return 'grpc_web';
  if (type === 'application/grpc' || type.indexOf('application/grpc+') === 0) return 'grpc';
  if (type.indexOf('application/connect+') === 0) return 'connect_stream';
  if (accepts(h.accept, SSE_MEDIA_TYPE)) return 'sse';
  if (h.method === 'POST' && CONNECT_UNARY_MEDIA_TYPES.indexOf(type) >= 0) return 'connect';
  if (h.method === 'GET' && matches(h.query, CONNECT_GET)) return 'connect';
  return 'http';
}

/** Protocols whose messages are framed as a stream whatever the method. */
export function isStreamingProtocol(p: Protocol): boolean {
  return p === 'connect_stream' || p === 'grpc' || p === 'grpc_web' || p === 'sse';
}
