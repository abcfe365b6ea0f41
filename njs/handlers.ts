// js_content and js_header_filter handlers.
import { connectErrorJson } from '../src/errors';
import { classify } from './request';

/** js_content for /_envd/reject: the route is malformed, answer 4xx with a Connect JSON error. */
export function reject(r: NginxHTTPRequest): void {
  let status = 400;
  let body = '{"code":"invalid_argument","message":"malformed envd route"}';
  try {
    const rejection = classify(r).rejection;
    if (rejection) {
      status = rejection.status;
      body = connectErrorJson(rejection);
    }
  } catch (e) {
    r.error('envd-edge: reject fell back to a generic 400: ' + String(e));
  }
  r.headersOut['Content-Type'] = 'application/json';
  r.return(status, body);
}

/** js_header_filter on unbuffered locations: tell any proxy in front not to buffer either. */
export function markUnbuffered(r: NginxHTTPRequest): void {
  r.headersOut['X-Accel-Buffering'] = 'no';
}

/** js_content: which njs and engine this nginx runs, for operators and the test matrix. */
export function version(r: NginxHTTPRequest): void {
  const engine = (njs as unknown as { engine?: string }).engine || 'njs';
  r.headersOut['Content-Type'] = 'application/json';
  r.return(200, JSON.stringify({ njs: njs.version, engine: engine }));
}
