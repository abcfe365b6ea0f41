// The vocabulary shared by the core and its adapters. Nothing here knows about nginx or njs.

/** What the edge does with a request. */
export type Mode =
  | 'stream' // response unbuffered (server streaming, SSE, unknown streaming protocol)
  | 'duplex' // request and response unbuffered (client or bidi streaming)
  | 'buffer' // nginx's default: request and response buffered (unary, REST)
  | 'upgrade' // WebSocket / HTTP Upgrade tunnel
  | 'reject'; // malformed route: answered by the edge with a 4xx

/** How the request names its sandbox. */
export type RouteForm = 'host' | 'path' | 'header' | 'none';

/** The wire protocol, read from the request headers only. */
export type Protocol =
  | 'connect' // Connect unary: application/json | application/proto (or GET ?connect=v1)
  | 'connect_stream' // Connect streaming: application/connect+json | application/connect+proto
  | 'grpc' // application/grpc, application/grpc+proto, ...
  | 'grpc_web' // application/grpc-web, application/grpc-web-text, ...
  | 'sse' // Accept: text/event-stream
  | 'websocket' // Upgrade: websocket + Connection: upgrade
  | 'http'; // anything else (REST, plain HTTP of a user's app)

/** The kind of an RPC or endpoint, from the catalog. */
export type RpcKind = 'unary' | 'server_stream' | 'client_stream' | 'bidi_stream' | 'rest' | 'internal' | 'unknown';

/**
 * The request facts the classifier needs, as the client sent them.
 * Header values are undefined when the header is absent.
 */
export interface RequestFacts {
  method: string;
  /** The Host header (or :authority) as received, possibly with a port. */
  host: string;
  /** The raw request target: path and query, still percent-encoded ($request_uri). */
  uri: string;
  contentType?: string;
  accept?: string;
  upgrade?: string;
  connection?: string;
  /** E2b-Sandbox-Id */
  sandboxIdHeader?: string;
  /** E2b-Sandbox-Port */
  sandboxPortHeader?: string;
  /**
   * E2b-Sandbox-Id as nginx's own $http_e2b_sandbox_id reads it (the first line of a repeated
   * header on nginx 1.22, all lines joined by ", " later). The host and path forms check this one
   * against their route, as the native fast path does; absent, they check sandboxIdHeader.
   */
  sandboxIdHeaderAsRead?: string;
  /** E2b-Sandbox-Port as $http_e2b_sandbox_port reads it; as sandboxIdHeaderAsRead. */
  sandboxPortHeaderAsRead?: string;
}

/** Deployment settings the classifier honours (from nginx variables; see README "Settings"). */
export interface ClassifyOptions {
  /** Let envd's internal control paths (/init) through. Default false: refused with 403. */
  allowInternal?: boolean;
  /** Characters a sandbox id may use, as single characters and ranges. Default `a-z0-9`. */
  idChars?: string;
  /** Longest sandbox id. Default 63. */
  idMaxLength?: number;
}

/** The Connect error codes the edge itself can produce (https://connectrpc.com/docs/protocol). */
export type ErrorCode =
  | 'invalid_argument'
  | 'permission_denied'
  | 'resource_exhausted'
  | 'deadline_exceeded'
  | 'unavailable'
  | 'internal';

/** An error the edge answers itself: a refused request, or a failure nginx saw. */
export interface EdgeError {
  /** The HTTP status of the situation, as REST clients get it (400, 403, 413, 502, 504, ...). */
  status: number;
  code: ErrorCode;
  message: string;
}

/** Why the edge refuses a request: what the client is told. */
export type Rejection = EdgeError;

/** A response written by the edge: status, headers, and a body of bytes below 0x80 each. */
export interface EdgeResponse {
  status: number;
  headers: { [name: string]: string };
  /** Bytes before `body` (a Connect envelope's header), or none. */
  prefix: number[];
  /** ASCII-only text: its length is its length in bytes. */
  body: string;
}

export interface Route {
  form: RouteForm;
  sandboxId: string;
  sandboxPort: string;
  /** The URI to send upstream: for the path form the prefix is stripped; the query is kept. */
  upstreamUri: string;
  /** The upstream path as envd's router sees it (unreserved %XX decoded), for the RPC lookup. */
  path: string;
  rejection?: Rejection;
}

export interface Rpc {
  /** `package.Service/Method` for RPCs, the path for REST endpoints, '' when neither. */
  name: string;
  kind: RpcKind;
}

export interface Classification {
  mode: Mode;
  route: RouteForm;
  sandboxId: string;
  sandboxPort: string;
  upstreamUri: string;
  rpc: string;
  rpcKind: RpcKind;
  protocol: Protocol;
  /** Set exactly when mode is 'reject'. */
  rejection?: Rejection;
}
