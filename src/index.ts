export { classifyRequest } from './classify';
export { explainRequest, factsFromFields } from './explain';
export { decideMode } from './policy';
export { detectProtocol, isStreamingProtocol, mediaType } from './protocol';
export { parseRoute, hostName, inspectPath, isValidPort, isValidSandboxId } from './route';
export { identifyRpc } from './rpc';
export { ENVD_REST_CATALOG, ENVD_RPC_CATALOG } from './catalog';
export { asciiJson, errorForNginxStatus, grpcMessage, renderEdgeError } from './errors';
export type * from './types';
