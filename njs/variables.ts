// js_set handlers. Each is total: on an unexpected failure it logs once and returns the value that
// leaves the request to the server's own locations, as if envd-edge were not installed.
import { dispatchLocation } from '../src/policy';
import { safely } from './request';

const rawUri = (r: NginxHTTPRequest): string => r.variables.request_uri || '';

export const mode = (r: NginxHTTPRequest): string => safely(r, 'envd_mode', 'buffer', (c) => c.mode);
export const route = (r: NginxHTTPRequest): string => safely(r, 'envd_route', 'none', (c) => c.route);
export const rpc = (r: NginxHTTPRequest): string => safely(r, 'envd_rpc', '', (c) => c.rpc);
export const sandboxId = (r: NginxHTTPRequest): string => safely(r, 'envd_sandbox_id', '', (c) => c.sandboxId);
export const sandboxPort = (r: NginxHTTPRequest): string => safely(r, 'envd_sandbox_port', '', (c) => c.sandboxPort);
export const upstreamUri = (r: NginxHTTPRequest): string =>
  safely(r, 'envd_upstream_uri', rawUri(r), (c) => c.upstreamUri);

/** Internal location an envd request is rewritten to, or '' to leave it to the server's locations. */
export const location = (r: NginxHTTPRequest): string =>
  safely(r, 'envd_location', '', (c) => dispatchLocation(c.route, c.mode));
