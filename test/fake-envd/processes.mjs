// Running processes of the fake envd: spawning (pipes or a pty), output fan-out to every
// attached stream, input, signals, and envd's end-event shape.
import { spawn } from 'node:child_process';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import { findSlaveTty, resizeTty, spawnPty } from './pty.mjs';

/** envd reads output in chunks of at most 32 KiB (pipes) and 16 KiB (pty). */
const STD_CHUNK = 32 * 1024;
const PTY_CHUNK = 16 * 1024;
/** After the main process exits, how long output still in the pipes may drain. */
const DRAIN_GRACE_MS = 100;

/** Go's syscall.Signal.String() for the signals a sandbox sees, as used in ProcessState.String(). */
const GO_SIGNAL_NAMES = {
  SIGHUP: 'hangup',
  SIGINT: 'interrupt',
  SIGQUIT: 'quit',
  SIGABRT: 'aborted',
  SIGKILL: 'killed',
  SIGSEGV: 'segmentation fault',
  SIGPIPE: 'broken pipe',
  SIGALRM: 'alarm clock',
  SIGTERM: 'terminated',
  SIGUSR1: 'user defined signal 1',
  SIGUSR2: 'user defined signal 2',
};

/** envd's EndEvent for an exit `code` or a `signal` (exec.ExitError / ProcessState semantics). */
export function endEventFor(code, signal) {
  if (signal) {
    const status = `signal: ${GO_SIGNAL_NAMES[signal] ?? signal}`;
    return { exitCode: -1, exited: false, status, error: status };
  }
  const status = `exit status ${code}`;
  return code === 0 ? { exitCode: 0, exited: true, status } : { exitCode: code, exited: true, status, error: status };
}

export class ProcessError extends Error {
  /** kind: 'invalid' | 'internal' | 'unknown' — mapped to Connect codes by the service. */
  constructor(message, kind) {
    super(message);
    this.kind = kind;
  }
}

export class ManagedProcess extends EventEmitter {
  constructor({ child, config, tag, pty, stdinEnabled }) {
    super();
    this.setMaxListeners(0);
    this.child = child;
    this.pid = child.pid;
    this.config = config;
    this.tag = tag;
    this.pty = pty;
    this.stdin = pty || stdinEnabled ? child.stdin : null;
    this.outputStopped = false;
    this.ended = false;
    this.endEvent = null;
    this.ttyPath = null;
    this.timeout = null;
    // keep the child's pipes from throwing when it goes away under a write
    child.stdin?.on('error', () => {});
    if (!this.stdin && child.stdin) child.stdin.end();
  }

  /** Emits `data` events ({ case: 'stdout'|'stderr'|'pty', value: Uint8Array }) and one `end`. */
  wire(onGone) {
    const forward = (kind, size) => (buf) => {
      if (this.outputStopped) return;
      for (let i = 0; i < buf.length; i += size) {
        this.emit('data', { case: kind, value: new Uint8Array(buf.subarray(i, i + size)) });
      }
    };
    if (this.pty) {
      this.child.stdout.on('data', forward('pty', PTY_CHUNK));
      // script reports its own failures on stderr; a real pty has one output stream
      this.child.stderr.on('data', forward('pty', PTY_CHUNK));
    } else {
      this.child.stdout.on('data', forward('stdout', STD_CHUNK));
      this.child.stderr.on('data', forward('stderr', STD_CHUNK));
    }

    let exitInfo = null;
    const finish = () => {
      if (this.ended || !exitInfo) return;
      this.ended = true;
      clearTimeout(this.timeout);
      // like envd closing the pipes' read ends after Wait: a grandchild still holding them
      // does not keep the stream open
      this.child.stdout.destroy();
      this.child.stderr.destroy();
      this.endEvent = endEventFor(exitInfo.code, exitInfo.signal);
      onGone(this);
      this.emit('end', this.endEvent);
    };
    this.child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      setTimeout(finish, DRAIN_GRACE_MS).unref();
    });
    this.child.on('close', finish);
  }

  /** envd's ResizeTty. */
  async resize(cols, rows) {
    if (!this.pty) throw new ProcessError('error resizing tty: tty not assigned to process', 'internal');
    if (!this.ttyPath) this.ttyPath = await findSlaveTty(this.pid);
    await resizeTty(this.ttyPath, cols, rows);
  }

  /** envd's WriteStdin / WriteTty. */
  writeInput(kind, bytes) {
    if (kind === 'pty') {
      if (!this.pty) {
        throw new ProcessError(
          'error writing to tty: tty not assigned to process — input should be written to the stdin, not the tty',
          'internal',
        );
      }
    } else if (this.pty) {
      throw new ProcessError(
        'error writing to stdin: tty assigned to process — input should be written to the pty, not the stdin',
        'internal',
      );
    } else if (!this.stdin) {
      throw new ProcessError('error writing to stdin: stdin not enabled or closed', 'internal');
    }
    if (this.ended || this.stdin.destroyed) {
      throw new ProcessError(`error writing to ${kind === 'pty' ? 'tty' : 'stdin'} of process '${this.pid}': file already closed`, 'internal');
    }
    this.stdin.write(Buffer.from(bytes));
  }

  /** envd's CloseStdin. */
  closeStdin() {
    if (this.pty) {
      throw new ProcessError(
        'error closing stdin: cannot close stdin for PTY process — send Ctrl+D (0x04) instead',
        'unknown',
      );
    }
    if (this.stdin) this.stdin.end();
    this.stdin = null;
  }

  /** envd's SendSignal: signals the process itself; SIGKILL/SIGTERM also stop output forwarding. */
  signal(name) {
    if (name === 'SIGKILL' || name === 'SIGTERM') this.outputStopped = true;
    try {
      process.kill(this.pid, name);
    } catch (err) {
      throw new ProcessError(`error sending signal: ${err.message}`, 'internal');
    }
  }

  /** Fixture cleanup: the whole process group (spawned detached), so no grandchild survives. */
  killGroup() {
    for (const target of [-this.pid, this.pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  }
}

export class ProcessTable {
  /** @param {{ paths: ReturnType<import('./paths.mjs').createPaths> }} o */
  constructor({ paths }) {
    this.paths = paths;
    this.byPid = new Map();
  }

  /**
   * envd's handler.New + Start. `user` is from paths.USERS, `timeoutMs` from Connect-Timeout-Ms
   * (envd kills the process when it elapses; 0 = never).
   */
  start({ config, pty, tag, stdin }, user, timeoutMs) {
    const cwd = this.paths.resolve(config.cwd ?? '', user.name);
    if (!fs.existsSync(cwd.host)) {
      throw new ProcessError(`cwd '${cwd.sandbox}' does not exist`, 'invalid');
    }
    const env = {
      PATH: process.env.PATH,
      HOME: this.paths.toHost(user.home),
      USER: user.name,
      LOGNAME: user.name,
      ...config.envs,
    };
    const args = [...config.args];
    let child;
    if (pty) {
      child = spawnPty(config.cmd, args, { cwd: cwd.host, env, cols: pty.size?.cols ?? 0, rows: pty.size?.rows ?? 0 });
    } else {
      // envd's default: stdin is on unless the request says stdin=false
      const stdinEnabled = stdin === undefined || stdin === true;
      child = spawn(config.cmd, args, {
        cwd: cwd.host,
        env,
        stdio: [stdinEnabled ? 'pipe' : 'ignore', 'pipe', 'pipe'],
        detached: true,
      });
    }
    // spawn failures (ENOENT, EACCES) surface asynchronously as 'error' with no pid
    if (child.pid === undefined) {
      return new Promise((_, reject) => {
        child.once('error', (err) => {
          reject(new ProcessError(`error starting process '${[config.cmd, ...args].join(' ')}': ${err.message}`, 'invalid'));
        });
      });
    }
    child.on('error', () => {});
    const proc = new ManagedProcess({
      child,
      config: { cmd: config.cmd, args, envs: { ...config.envs }, cwd: config.cwd },
      tag,
      pty: Boolean(pty),
      stdinEnabled: stdin === undefined || stdin === true,
    });
    proc.wire((p) => this.byPid.delete(p.pid));
    this.byPid.set(proc.pid, proc);
    if (timeoutMs > 0) {
      proc.timeout = setTimeout(() => proc.killGroup(), timeoutMs);
      proc.timeout.unref();
    }
    return Promise.resolve(proc);
  }

  /** envd's getProcess: by pid or by tag; undefined when there is none. */
  find(selector) {
    if (selector?.case === 'pid') return this.byPid.get(selector.value);
    if (selector?.case === 'tag') {
      for (const p of this.byPid.values()) if (p.tag === selector.value) return p;
    }
    return undefined;
  }

  list() {
    return [...this.byPid.values()];
  }

  killAll() {
    for (const p of this.byPid.values()) p.killGroup();
  }

  /** Resolves when every tracked process has ended (or after timeoutMs). */
  async drain(timeoutMs = 3000) {
    const pending = this.list().map((p) => (p.ended ? null : new Promise((r) => p.once('end', r))));
    await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
  }
}
