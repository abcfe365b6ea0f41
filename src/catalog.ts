// The envd surface, in one table: every Connect-RPC method envd serves and its streaming kind,
// and the REST endpoints beside them. The policy reads kinds from here and nowhere else.
import type { RpcKind } from './types';

/** `package.Service/Method` → kind. Keys are exact (case-sensitive), as Connect routes them. */
export const ENVD_RPC_CATALOG: { readonly [procedure: string]: RpcKind } = {
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
};

/** envd's REST paths → kind. `internal` ones are envd's control plane (set by the orchestrator). */
export const ENVD_REST_CATALOG: { readonly [path: string]: RpcKind } = {
  '/files': 'rest',
  '/health': 'rest',
  '/envs': 'rest',
  '/metrics': 'rest',
  '/init': 'internal',
};

const hasOwn = Object.prototype.hasOwnProperty;

/** The catalog's kind for a key, or undefined; never reads inherited keys such as `constructor`. */
export function lookupKind(table: { readonly [key: string]: RpcKind }, key: string): RpcKind | undefined {
  return hasOwn.call(table, key) ? table[key] : undefined;
}
