// Which envd RPC or REST endpoint a path names, looked up in the catalog.
import type { Rpc } from './types';
import { ENVD_REST_CATALOG, ENVD_RPC_CATALOG, lookupKind } from './catalog';

/** A Connect/gRPC procedure path: `/<package.Service>/<Method>`. */
const PROCEDURE = /^\/([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\/([A-Za-z_][A-Za-z0-9_]*)$/;

/** `path` is the decoded path (see inspectPath), without the query. */
export function identifyRpc(path: string): Rpc {
  // The catalog's own methods first: a property lookup, cheaper than the procedure regex.
  const known = lookupKind(ENVD_RPC_CATALOG, path.slice(1));
  if (known) return { name: path.slice(1), kind: known };
  const proc = PROCEDURE.exec(path);
  if (proc) {
    const name = proc[1] + '/' + proc[2];
    return { name: name, kind: lookupKind(ENVD_RPC_CATALOG, name) || 'unknown' };
  }
  // `/init/` reaches the same handler as `/init` in most routers: one trailing slash is ignored.
  const rest = path.length > 1 && path.charAt(path.length - 1) === '/' ? path.slice(0, -1) : path;
  const kind = lookupKind(ENVD_REST_CATALOG, rest);
  return kind ? { name: rest, kind: kind } : { name: '', kind: 'unknown' };
}
