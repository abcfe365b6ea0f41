export { classifyRequest } from './classify';
export { decideMode } from './policy';
export { detectProtocol, isStreamingProtocol, mediaType } from './protocol';
export { parseRoute, hostName, isValidPort, isValidSandboxId, pathProblem } from './route';
export { identifyRpc } from './rpc';
export { ENVD_REST_CATALOG, ENVD_RPC_CATALOG } from './catalog';
export { connectErrorJson } from './errors';
export type * from './types';
