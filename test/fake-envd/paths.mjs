// Sandbox paths ↔ host paths. Everything the fake envd touches lives under `root`:
// the sandbox path `/home/user/x` is the host path `<root>/home/user/x`.
//
// Resolution follows envd (permissions.ExpandAndResolve): an empty path means the user's home,
// `~` and `~/x` expand to the home, a relative path is joined to the home, and `..` is cleaned
// lexically the way Go's filepath.Clean does (so `/..` is `/`, which here is `root`). The one
// thing envd does not need and the fake does: a symlink inside root that points outside root is
// refused, so no operation ever reaches a host file outside root.
import fs from 'node:fs';
import path from 'node:path';

/** Users the fake knows, like the users of an E2B template. */
export const USERS = {
  user: { name: 'user', home: '/home/user', uid: 1000 },
  root: { name: 'root', home: '/root', uid: 0 },
};
export const DEFAULT_USER = 'user';

export class PathError extends Error {
  /** kind: 'invalid' (bad input, envd's InvalidArgument / 400) or 'escape' (outside root). */
  constructor(message, kind) {
    super(message);
    this.kind = kind;
  }
}

export class UnknownUserError extends Error {}

/** Username from envd's `Authorization: Basic base64("<user>:")` header, or the default user. */
export function userFromAuthorization(header) {
  if (!header || !/^basic /i.test(header)) return DEFAULT_USER;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const name = decoded.split(':')[0];
  return name || DEFAULT_USER;
}

export function lookupUser(name) {
  const u = USERS[name || DEFAULT_USER];
  if (!u) throw new UnknownUserError(`error looking up user '${name}': user: unknown user ${name}`);
  return u;
}

export function createPaths(rootDir) {
  fs.mkdirSync(rootDir, { recursive: true });
  const root = fs.realpathSync(rootDir);
  for (const u of Object.values(USERS)) fs.mkdirSync(path.join(root, u.home), { recursive: true });

  /** Sandbox path (absolute, clean) → host path inside root. */
  function toHost(sandboxPath) {
    // resolve (not join) so that '/' maps to root itself, without a trailing slash
    return path.resolve(root, '.' + path.posix.resolve('/', sandboxPath));
  }

  /** Host path inside root → sandbox path. */
  function toSandbox(hostPath) {
    const rel = path.relative(root, hostPath);
    if (rel.startsWith('..') || path.isAbsolute(rel)) {
      throw new PathError(`path ${hostPath} is outside the sandbox`, 'escape');
    }
    return '/' + rel.split(path.sep).join('/');
  }

  /** Throws when an existing part of hostPath resolves (through symlinks) outside root. */
  function assertInsideRoot(hostPath, shown) {
    let probe = hostPath;
    for (;;) {
      let real;
      try {
        real = fs.realpathSync(probe);
      } catch (err) {
        if (err.code !== 'ENOENT' && err.code !== 'ENOTDIR') throw err;
        const parent = path.dirname(probe);
        if (parent === probe) return;
        probe = parent;
        continue;
      }
      if (real !== root && !real.startsWith(root + path.sep)) {
        throw new PathError(`path '${shown}' resolves outside the sandbox`, 'escape');
      }
      return;
    }
  }

  /**
   * Resolves a path the client sent, for `username`, like envd does.
   * Returns { sandbox, host }. Throws PathError or UnknownUserError.
   */
  function resolve(input, username, { defaultPath } = {}) {
    const user = lookupUser(username);
    let p = input == null || input === '' ? defaultPath || '' : String(input);
    if (p.includes('\0')) throw new PathError(`invalid path '${p}': contains a NUL byte`, 'invalid');
    if (p.startsWith('~')) {
      if (p.length > 1 && p[1] !== '/') {
        throw new PathError(
          `failed to expand path '${p}' for user '${user.name}': cannot expand user-specific home dir`,
          'invalid',
        );
      }
      p = path.posix.join(user.home, p.slice(1));
    }
    const sandbox = p.startsWith('/') ? path.posix.resolve(p) : path.posix.resolve(user.home, p);
    const host = toHost(sandbox);
    assertInsideRoot(host, sandbox);
    return { sandbox, host };
  }

  return { root, toHost, toSandbox, resolve, assertInsideRoot };
}
