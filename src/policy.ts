// The whole policy: one decision from (route valid?, catalog kind, protocol) to a mode.
import type { Mode, Protocol, RpcKind } from './types';
import { isStreamingProtocol } from './protocol';

export function decideMode(routeValid: boolean, kind: RpcKind, protocol: Protocol): Mode {
  if (!routeValid) return 'reject';
  if (protocol === 'websocket') return 'upgrade';
  // Client and bidi streams need the request body forwarded as it arrives.
  if (kind === 'client_stream' || kind === 'bidi_stream') return 'duplex';
  // A streaming protocol on a method the catalog does not know: it may stream either way.
  if (kind === 'unknown' && protocol !== 'sse' && isStreamingProtocol(protocol)) return 'duplex';
  if (kind === 'server_stream' || isStreamingProtocol(protocol)) return 'stream';
  return 'buffer';
}
