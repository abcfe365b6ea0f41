// classifyRequest: the one entry point of the core. Total: every input gives a Classification.
import type { Classification, ClassifyOptions, Rejection, RequestFacts } from './types';
import { parseRoute, queryOf } from './route';
import { identifyRpc } from './rpc';
import { detectProtocol } from './protocol';
import { decideMode } from './policy';

function internalPath(name: string): Rejection {
  return { status: 403, code: 'permission_denied', message: 'envd control path ' + name + ' is not reachable through the edge' };
}

export function classifyRequest(req: RequestFacts, options?: ClassifyOptions): Classification {
  const route = parseRoute(req, options);
  const rpc = identifyRpc(route.path);
  const protocol = detectProtocol({
    method: req.method,
    query: queryOf(req.uri),
    contentType: req.contentType,
    accept: req.accept,
    upgrade: req.upgrade,
    connection: req.connection,
  });
  const mode = decideMode({
    route: route.form,
    routeValid: !route.rejection,
    kind: rpc.kind,
    protocol: protocol,
    allowInternal: !!(options && options.allowInternal),
  });
  return {
    mode: mode,
    route: route.form,
    sandboxId: route.sandboxId,
    sandboxPort: route.sandboxPort,
    upstreamUri: route.upstreamUri,
    rpc: rpc.name,
    rpcKind: rpc.kind,
    protocol: protocol,
    rejection: mode === 'reject' ? route.rejection || internalPath(rpc.name) : undefined,
  };
}
