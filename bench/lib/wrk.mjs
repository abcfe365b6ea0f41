// wrk (Debian's `wrk` package) as the load of the requests/s runs: one thread, keep-alive, a
// fixed duration, a Lua script for the POST body and headers of a unary Connect call.
import { spawn, spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export function wrkVersion() {
  const out = spawnSync('wrk', ['--version'], { encoding: 'utf8' });
  if (out.error) return null;
  return /wrk (\S+)/.exec(out.stdout + out.stderr)?.[1] || 'unknown';
}

const lua = (s) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

/** Writes a wrk script that sends `method path` with these headers and body. */
export function writeScript(dir, name, { method = 'POST', path, headers, body }) {
  const lines = [`wrk.method = ${lua(method)}`, `wrk.path = ${lua(path)}`, `wrk.body = ${lua(body)}`];
  for (const [k, v] of Object.entries(headers)) lines.push(`wrk.headers[${lua(k)}] = ${lua(v)}`);
  // Count non-2xx answers ourselves too (wrk prints them, but a script makes it explicit).
  const file = join(dir, `${name}.lua`);
  writeFileSync(file, lines.join('\n') + '\n');
  return file;
}

/** wrk processes running now, so an interrupted benchmark can stop them (by pid). */
export const running = new Set();

/**
 * Runs wrk for `seconds` against `url` (scheme://host:port) with `script`, on the CPUs `cpus`
 * names (a taskset list) when given. Resolves { rps, requests, seconds, non2xx, socketErrors, raw }.
 */
export function runWrk({ url, script, seconds, connections = 32, timeoutS = 2, cpus = '' }) {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${connections}`, `-d${seconds}s`, `--timeout`, `${timeoutS}s`, '-s', script, url];
    const child = cpus
      ? spawn('taskset', ['-c', cpus, 'wrk', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn('wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    running.add(child);
    child.once('exit', () => running.delete(child));
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => (out += b));
    child.stderr.on('data', (b) => (err += b));
    // wrk stops by itself after -d; this is only a guard against a hung wrk.
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + 15) * 1000);
    child.on('error', (e) => {
      clearTimeout(guard);
      reject(new Error(`cannot run wrk: ${e.message} (apt-get install -y wrk)`));
    });
    child.on('exit', (code) => {
      clearTimeout(guard);
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${err || out}`));
      const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1]);
      const m = /(\d+) requests in ([\d.]+)(m?s|m)/.exec(out);
      const requests = m ? Number(m[1]) : NaN;
      const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(out)?.[1] || 0);
      const se = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
      const socketErrors = se ? se.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
      if (!Number.isFinite(rps)) return reject(new Error(`cannot read wrk's output:\n${out}\n${err}`));
      resolve({ rps, requests, non2xx, socketErrors, raw: out });
    });
  });
}
