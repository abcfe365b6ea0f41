// The njs HTTP module's globals (r, ngx, njs) for the adapters; src/ is checked without them.
/// <reference path="../node_modules/njs-types/ngx_http_js_module.d.ts" />
