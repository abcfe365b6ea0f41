// A real pseudo-terminal without native modules: util-linux `script` allocates the pty, runs the
// command on its slave side and relays master ↔ its own stdin/stdout pipes. Input written to
// script's stdin reaches the pty (with the line discipline's echo, like a terminal); everything the
// program writes to the terminal comes out of script's stdout.
//
// Resizing: the slave device is found through the child of `script` (/proc/<pid>/fd/0 →
// /dev/pts/N), then `stty -F /dev/pts/N cols C rows R` sets the window size there; the kernel
// sends SIGWINCH to the terminal's foreground process group, exactly as a resize does in envd.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);
export const SCRIPT_BIN = '/usr/bin/script';

/** POSIX single-quote escaping for one shell word. */
export function shellQuote(word) {
  return `'${String(word).replace(/'/g, `'\\''`)}'`;
}

function sizeCommand(cols, rows) {
  const parts = [];
  if (cols > 0) parts.push('cols', String(cols));
  if (rows > 0) parts.push('rows', String(rows));
  return parts.length ? `stty ${parts.join(' ')} 2>/dev/null; ` : '';
}

/**
 * Spawns `cmd args…` on a fresh pty of the given size.
 * Returns the ChildProcess of `script` (its pid is the one reported to clients).
 */
export function spawnPty(cmd, args, { cwd, env, cols, rows }) {
  // script itself runs `$SHELL -c <inner>`: give it /bin/sh, then hand the program its own SHELL
  const restoreShell = env.SHELL != null ? `export SHELL=${shellQuote(env.SHELL)}; ` : 'unset SHELL; ';
  const inner = `${sizeCommand(cols, rows)}${restoreShell}exec ${[cmd, ...args].map(shellQuote).join(' ')}`;
  return spawn(SCRIPT_BIN, ['-q', '-f', '-e', '-c', inner, '/dev/null'], {
    cwd,
    env: { ...env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
    detached: true,
  });
}

function childPids(pid) {
  try {
    const text = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    if (text) return text.split(/\s+/).map(Number);
  } catch {
    // fall back to scanning /proc below
  }
  const kids = [];
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) kids.push(Number(name));
    } catch {
      // process went away
    }
  }
  return kids;
}

/** The /dev/pts/N of the program running under `script` with pid scriptPid (waits up to 2 s). */
export async function findSlaveTty(scriptPid) {
  const deadline = Date.now() + 2000;
  while (Date.now() < deadline) {
    for (const kid of childPids(scriptPid)) {
      try {
        const target = fs.readlinkSync(`/proc/${kid}/fd/0`);
        if (target.startsWith('/dev/pts/')) return target;
      } catch {
        // not ready yet
      }
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`no pseudo-terminal found under pid ${scriptPid}`);
}

/** Sets the window size of a pty slave. */
export async function resizeTty(ttyPath, cols, rows) {
  const args = ['-F', ttyPath];
  if (cols > 0) args.push('cols', String(cols));
  if (rows > 0) args.push('rows', String(rows));
  if (args.length === 2) return;
  await execFileAsync('stty', args, { timeout: 5000 });
}

/** Reads the window size of a pty slave: { rows, cols }. */
export async function readTtySize(ttyPath) {
  const { stdout } = await execFileAsync('stty', ['-F', ttyPath, 'size'], { timeout: 5000 });
  const [rows, cols] = stdout.trim().split(/\s+/).map(Number);
  return { rows, cols };
}
