// classifyRequest: the one entry point of the core. Total: every input gives a Classification.
import type { Classification, RequestFacts } from './types';
import { parseRoute, pathOf, queryOf } from './route';
import { identifyRpc } from './rpc';
import { detectProtocol } from './protocol';
import { decideMode } from './policy';

export function classifyRequest(req: RequestFacts): Classification {
  const route = parseRoute(req);
  const rpc = identifyRpc(pathOf(route.upstreamUri));
  const protocol = detectProtocol({
    method: req.method,
    query: queryOf(req.uri),
    contentType: req.contentType,
    accept: req.accept,
    upgrade: req.upgrade,
    connection: req.connection,
  });
  const mode = decideMode(!route.rejection, rpc.kind, protocol);
  return {
    mode: mode,
    route: route.form,
    sandboxId: route.sandboxId,
    sandboxPort: route.sandboxPort,
    upstreamUri: route.upstreamUri,
    rpc: rpc.name,
    rpcKind: rpc.kind,
    protocol: protocol,
    rejection: route.rejection,
  };
}
