// The shared vector table, third level: each vector sent as raw HTTP through a real nginx whose
// location echoes the js_set variables, so the njs adapter reads real requests, not test objects.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from '../support/client';
import { engineDirective, njsModule, startNginx, type Nginx } from '../support/edge';
// @ts-expect-error plain ESM tool module without types
import { freePort } from '../../tools/nginx.mjs';
import table from '../vectors.json' with { type: 'json' };

const VARIABLES = ['mode', 'route', 'sandboxId', 'sandboxPort', 'rpc', 'upstreamUri'] as const;

const ECHO = `location / {
            default_type text/plain;
            return 200 "$envd_mode|$envd_route|$envd_sandbox_id|$envd_sandbox_port|$envd_rpc|$envd_upstream_uri|$envd_location";
        }`;

/** nginx settings (README "Settings") equal to each of the table's optionSets. */
function settingsFor(options: { allowInternal?: boolean; idChars?: string; idMaxLength?: number }): string {
  return [
    options.allowInternal ? 'set $envd_internal_paths allow;' : '',
    options.idChars ? `set $envd_sandbox_id_chars "${options.idChars}";` : '',
    options.idMaxLength ? `set $envd_sandbox_id_max_length ${options.idMaxLength};` : '',
  ].join(' ');
}

function echoConf(listen: string, trustedListen: string): string {
  const module = njsModule();
  return `
worker_processes 1;
error_log logs/error.log info;
pid logs/nginx.pid;
${module ? `load_module ${module};` : ''}
events { worker_connections 64; }
http {
    access_log off;
    ${engineDirective()}
    include conf.d/*.conf;
    server {
        listen ${listen};
        ${ECHO}
    }
    server {
        listen ${trustedListen};
        ${settingsFor(table.optionSets.trusted)}
        ${ECHO}
    }
}
`;
}

type Request = (typeof table.vectors)[number]['request'] & Record<string, string | undefined>;

function rawRequest(req: Request): string {
  const headers: [string, string | undefined][] = [
    ['Host', req.host],
    ['Content-Type', req.contentType],
    ['Accept', req.accept],
    ['Upgrade', req.upgrade],
    ['Connection', req.connection],
    ['E2b-Sandbox-Id', req.sandboxIdHeader],
    ['E2b-Sandbox-Port', req.sandboxPortHeader],
  ];
  const lines = headers.filter(([, v]) => v !== undefined).map(([k, v]) => `${k}: ${v}`);
  return `${req.method} ${req.uri} HTTP/1.1\r\n${lines.join('\r\n')}\r\nContent-Length: 0\r\n\r\n`;
}

describe('shared vectors through real nginx (js_set variables)', () => {
  let port: number;
  let trustedPort: number;
  let nginx: Nginx;
  beforeAll(async () => {
    port = await freePort();
    trustedPort = await freePort();
    const conf = echoConf(`127.0.0.1:${port}`, `127.0.0.1:${trustedPort}`);
    nginx = await startNginx(conf, `http://127.0.0.1:${port}/`);
  });
  afterAll(async () => nginx?.stop());
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(`--- nginx error.log ---\n${nginx.errorLog()}`);
  });

  it.each(table.vectors.map((v) => [v.name, v] as const))('%s', async (_name, vector) => {
    const options = (vector as { options?: string }).options;
    if (options && options !== 'trusted') throw new Error(`no nginx server for option set ${options}`);
    const res = await sendRaw(options ? trustedPort : port, rawRequest(vector.request as Request));
    if ((vector as { nginxRefuses?: boolean }).nginxRefuses) {
      // nginx's own parser refuses it: no njs ran, and the answer is still a 400.
      expect(vector.expect.mode).toBe('reject');
      expect(res.status).toBe(400);
      expect(res.text).not.toContain('|');
      return;
    }
    expect(res.status).toBe(200);
    const values = res.text.slice(res.text.indexOf('\r\n\r\n') + 4).split('|');
    const got: Record<string, string> = {};
    VARIABLES.forEach((name, i) => (got[name] = values[i]));
    const expect_ = vector.expect as Record<string, unknown>;
    for (const name of VARIABLES) {
      if (name in expect_) expect(got[name], name).toBe(expect_[name]);
    }
    // $envd_location follows route and mode.
    expect(values[6]).toBe(got.route === 'none' ? '' : `/_envd/${got.mode}`);
  });

  it('no js exception in the error log after the whole table', () => {
    expect(nginx.errorLog()).not.toMatch(/js exception|envd-edge: .* fell back/);
  });
});
