// Which envd RPC or REST endpoint a path names, looked up in the catalog.
import type { Rpc } from './types';
import { ENVD_REST_CATALOG, ENVD_RPC_CATALOG, lookupKind } from './catalog';

/** A Connect/gRPC procedure path: `/<package.Service>/<Method>`. */
const PROCEDURE = /^\/([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)+)\/([A-Za-z_][A-Za-z0-9_]*)$/;

export function identifyRpc(path: string): Rpc {
  const proc = PROCEDURE.exec(path);
  if (proc) {
    const name = proc[1] + '/' + proc[2];
    return { name: name, kind: lookupKind(ENVD_RPC_CATALOG, name) || 'unknown' };
  }
  const rest = lookupKind(ENVD_REST_CATALOG, path);
  return rest ? { name: path, kind: rest } : { name: '', kind: 'unknown' };
}
