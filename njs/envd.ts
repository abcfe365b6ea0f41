// The njs module's entry: nginx sees only this default export (js_import envd from envd.js).
import { location, mode, route, rpc, sandboxId, sandboxPort, upstreamUri } from './variables';
import { explain, reject, renderError, version } from './handlers';
import { classifyRequest } from '../src/classify';

export default {
  mode,
  route,
  rpc,
  sandboxId,
  sandboxPort,
  upstreamUri,
  location,
  reject,
  renderError,
  version,
  explain,
  classifyRequest,
};
