// The shared vector table, third level: each vector sent as raw HTTP through a real nginx whose
// location echoes the documented variables, so the njs adapter and the generated fast-path maps
// read real requests, not test objects. Each vector also says how much of it the fast path decides
// natively (`fastPath`); the echo proves it by njs's own trace: njs stores every classification it
// makes in the js_var $envd_memo, so an empty $envd_memo after a variable is read means no njs ran.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw, vectorRaw } from '../support/client';
import { printLogOnFailure, startNginx, type Nginx } from '../support/edge';
import { echoConf, type Options } from '../support/echo-conf';
// @ts-expect-error plain ESM tool module without types
import { freePort } from '../../tools/nginx.mjs';
import table from '../vectors.json' with { type: 'json' };

const VARIABLES = ['mode', 'route', 'sandboxId', 'sandboxPort', 'rpc', 'upstreamUri'] as const;

// Reads the variables in three steps, as nginx does: server.inc's dispatch and proxy.inc's
// proxy_pass first, then the route's other variables, then mode and rpc (logs, user config).
// After each step $envd_memo says whether njs has run so far.
const ECHO = `location / {
            default_type text/plain;
            set $envd_test_dispatch "$envd_location|$envd_upstream_uri";
            set $envd_test_njs_after_dispatch $envd_memo;
            set $envd_test_route "$envd_route|$envd_sandbox_id|$envd_sandbox_port";
            set $envd_test_njs_after_route $envd_memo;
            set $envd_test_rest "$envd_mode|$envd_rpc";
            set $envd_test_njs_after_all $envd_memo;
            return 200 "$envd_test_njs_after_dispatch_ran|$envd_test_njs_after_route_ran|$envd_test_njs_after_all_ran|$envd_mode|$envd_route|$envd_sandbox_id|$envd_sandbox_port|$envd_rpc|$envd_upstream_uri|$envd_location";
        }`;

/** "yes" once njs has classified the request ($envd_memo holds newlines: not for a body). */
const NJS_RAN = ['dispatch', 'route', 'all']
  .map((step) => `map $envd_test_njs_after_${step} $envd_test_njs_after_${step}_ran { "" no; default yes; }`)
  .join('\n    ');

const optionSets = table.optionSets as Record<string, Options>;

type Request = (typeof table.vectors)[number]['request'] & Record<string, string | undefined>;

describe('shared vectors through real nginx (documented variables, fast path or njs)', () => {
  let port: number;
  const optionPorts: Record<string, number> = {};
  let nginx: Nginx;
  const decided: Record<string, number> = { all: 0, route: 0, njs: 0 };
  beforeAll(async () => {
    port = await freePort();
    for (const name of Object.keys(optionSets)) optionPorts[name] = await freePort();
    const servers = [{ listen: `127.0.0.1:${port}` }].concat(
      Object.entries(optionPorts).map(([name, p]) => ({ listen: `127.0.0.1:${p}`, options: optionSets[name] })),
    );
    const conf = echoConf(servers, ECHO, NJS_RAN);
    nginx = await startNginx(conf, `http://127.0.0.1:${port}/`);
  });
  afterAll(async () => {
    console.log(`vectors through nginx, decided natively: ${JSON.stringify(decided)}`);
    await nginx?.stop();
  });
  printLogOnFailure(() => [nginx]);

  it.each(table.vectors.map((v) => [v.name, v] as const))('%s', async (_name, vector) => {
    const options = (vector as { options?: string }).options;
    if (options && !(options in optionPorts)) throw new Error(`no nginx server for option set ${options}`);
    const res = await sendRaw(options ? optionPorts[options] : port, vectorRaw(vector.request as Request));
    if ((vector as { nginxRefuses?: boolean }).nginxRefuses) {
      // nginx's own parser refuses it: no njs ran, and the answer is still a 400.
      expect(vector.expect.mode).toBe('reject');
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('|');
      return;
    }
    expect(res.status).toBe(200);
    const values = res.text.slice(res.text.indexOf('\r\n\r\n') + 4).split('|');
    const [afterDispatch, afterRoute, afterAll_] = values.splice(0, 3);
    const got: Record<string, string> = {};
    VARIABLES.forEach((name, i) => (got[name] = values[i]));
    const expect_ = vector.expect as Record<string, unknown>;
    for (const name of VARIABLES) {
      if (name in expect_) expect(got[name], name).toBe(expect_[name]);
    }
    // $envd_location follows route and mode.
    expect(values[6]).toBe(got.route === 'none' ? '' : `/_envd/${got.mode}`);
    // Whether njs ran, step by step, is what the vector's fastPath says.
    const fastPath = (vector as { fastPath?: string }).fastPath as string;
    const want = {
      all: ['no', 'no', 'no'],
      route: ['no', 'no', 'yes'],
      njs: ['yes', 'yes', 'yes'],
    }[fastPath];
    expect(want, `fastPath of ${vector.name}`).toBeDefined();
    expect([afterDispatch, afterRoute, afterAll_], 'njs ran after the dispatch, the route, all variables').toEqual(want);
    decided[fastPath]++;
  });

  it('no js exception in the error log after the whole table', () => {
    expect(nginx.errorLog()).not.toMatch(/js exception|envd-edge: .* fell back/);
  });
});
