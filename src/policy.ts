// The whole policy: one decision from what the request is to what the edge does with it.
import type { Mode, Protocol, RouteForm, RpcKind } from './types';
import { isStreamingProtocol } from './protocol';

export interface PolicyInput {
  route: RouteForm;
  /** False when the route names a sandbox but is malformed. */
  routeValid: boolean;
  kind: RpcKind;
  protocol: Protocol;
  /** The deployment lets envd's internal control paths through. */
  allowInternal: boolean;
}

export function decideMode(p: PolicyInput): Mode {
  if (!p.routeValid) return 'reject';
  // envd's control plane (/init) is the orchestrator's, never a client's.
  if (p.kind === 'internal' && p.route !== 'none' && !p.allowInternal) return 'reject';
  if (p.protocol === 'websocket') return 'upgrade';
  // Client and bidi streams need the request body forwarded as it arrives.
  if (p.kind === 'client_stream' || p.kind === 'bidi_stream') return 'duplex';
  // A streaming protocol on a method the catalog does not know: it may stream either way.
  if (p.kind === 'unknown' && p.protocol !== 'sse' && isStreamingProtocol(p.protocol)) return 'duplex';
  if (p.kind === 'server_stream' || isStreamingProtocol(p.protocol)) return 'stream';
  return 'buffer';
}

/**
 * The internal location server.inc rewrites a request to (a RouteForm and a Mode in, as the njs
 * memo keeps them: strings), or '' to leave the request to the server's own locations.
 */
export function dispatchLocation(route: string, mode: string): string {
  return route === 'none' ? '' : '/_envd/' + mode;
}
