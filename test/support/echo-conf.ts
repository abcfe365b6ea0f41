// The nginx.conf of the tests that echo envd-edge's variables (vectors, fast path): one server per
// listen address, each with the settings of one of the vector table's option sets.
import { engineDirective, njsModule } from './edge';

/** A vector table option set: the settings (README "Settings") a vector is classified under. */
export type Options = { allowInternal?: boolean; idChars?: string; idMaxLength?: number };

/** nginx settings equal to an option set. */
export function settingsFor(options: Options): string {
  return [
    options.allowInternal ? 'set $envd_internal_paths allow;' : '',
    options.idChars ? `set $envd_sandbox_id_chars "${options.idChars}";` : '',
    options.idMaxLength ? `set $envd_sandbox_id_max_length ${options.idMaxLength};` : '',
  ].join(' ');
}

/** A whole nginx.conf for this leg: `echo` (a location) in every server, `httpExtra` at http level. */
export function echoConf(servers: { listen: string; options?: Options }[], echo: string, httpExtra = ''): string {
  const module = njsModule();
  const blocks = servers.map(
    (s) => `
    server {
        listen ${s.listen};
        ${s.options ? settingsFor(s.options) : ''}
        ${echo}
    }`,
  );
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
    ${httpExtra}
${blocks.join('\n')}
}
`;
}
