// filesystem.Filesystem for the fake envd, on real files under the sandbox root.
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Code, ConnectError } from '@connectrpc/connect';
import { timestampFromMs } from '@bufbuild/protobuf/wkt';
import { EventStream, keepaliveMsFromHeaders } from './event-stream.mjs';
import { PathError, UnknownUserError, userFromAuthorization } from './paths.mjs';
import { DirWatcher } from './watcher.mjs';
import { EventType, FileType } from './gen/filesystem/filesystem_pb.js';

const EVENT_TYPES = {
  create: EventType.CREATE,
  write: EventType.WRITE,
  remove: EventType.REMOVE,
  rename: EventType.RENAME,
  chmod: EventType.CHMOD,
};

// ---- entry info -------------------------------------------------------------------------------

let idNames = null;
/** uid/gid → name from /etc/passwd and /etc/group (envd falls back to the number). */
function ownerNames() {
  if (idNames) return idNames;
  const read = (file) => {
    const map = new Map();
    try {
      for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
        const f = line.split(':');
        if (f.length > 2) map.set(Number(f[2]), f[0]);
      }
    } catch {
      // no such file: numbers it is
    }
    return map;
  };
  idNames = { users: read('/etc/passwd'), groups: read('/etc/group') };
  return idNames;
}

function fileTypeOf(st) {
  if (st.isSymbolicLink()) return FileType.SYMLINK;
  if (st.isDirectory()) return FileType.DIRECTORY;
  if (st.isFile()) return FileType.FILE;
  return FileType.UNSPECIFIED;
}

/** Go's os.FileMode.String() for the common kinds, e.g. "-rw-r--r--", "drwxr-xr-x". */
export function goModeString(st) {
  let kind = '-';
  if (st.isDirectory()) kind = 'd';
  else if (st.isSymbolicLink()) kind = 'L';
  else if (st.isFIFO()) kind = 'p';
  else if (st.isSocket()) kind = 'S';
  else if (st.isBlockDevice()) kind = 'D';
  else if (st.isCharacterDevice()) kind = 'Dc';
  const rwx = 'rwxrwxrwx';
  let perm = '';
  for (let i = 0; i < 9; i++) perm += st.mode & (1 << (8 - i)) ? rwx[i] : '-';
  return kind + perm;
}

/** EntryInfo of a host path, reported under its sandbox path. */
export function entryInfo(paths, hostPath, sandboxPath) {
  const st = fs.lstatSync(hostPath);
  const names = ownerNames();
  const entry = {
    name: path.posix.basename(sandboxPath),
    type: fileTypeOf(st),
    path: sandboxPath,
    size: BigInt(st.size),
    mode: st.mode & 0o777,
    permissions: goModeString(st),
    owner: names.users.get(st.uid) ?? String(st.uid),
    group: names.groups.get(st.gid) ?? String(st.gid),
    modifiedTime: timestampFromMs(Math.floor(st.mtimeMs)),
  };
  if (st.isSymbolicLink()) {
    const target = fs.readlinkSync(hostPath);
    // report targets inside root as sandbox paths
    try {
      entry.symlinkTarget = path.isAbsolute(target) ? target : paths.toSandbox(path.resolve(path.dirname(hostPath), target));
    } catch {
      entry.symlinkTarget = target;
    }
  }
  return entry;
}

// ---- errors -----------------------------------------------------------------------------------

function goErrText(op, sandboxPath, err) {
  const text = { ENOENT: 'no such file or directory', ENOTDIR: 'not a directory', EACCES: 'permission denied' }[err.code];
  return `${op} ${sandboxPath}: ${text ?? err.message}`;
}

function rethrow(err) {
  if (err instanceof ConnectError) throw err;
  if (err instanceof PathError) throw new ConnectError(err.message, Code.InvalidArgument);
  if (err instanceof UnknownUserError) throw new ConnectError(err.message, Code.Unauthenticated);
  throw new ConnectError(String(err?.message ?? err), Code.Internal);
}

// ---- the service ------------------------------------------------------------------------------

/** @param {ReturnType<import('./paths.mjs').createPaths>} paths */
export function createFilesystemService(paths) {
  const watchers = new Map(); // id → { watcher, events }

  function resolve(p, ctx) {
    try {
      return paths.resolve(p, userFromAuthorization(ctx.requestHeader.get('authorization')));
    } catch (err) {
      return rethrow(err);
    }
  }

  /** envd's EnsureDirs: mkdir every missing component; a file in the way is an error. */
  function ensureDirs(hostDir) {
    const rel = path.relative(paths.root, hostDir);
    let cur = paths.root;
    for (const part of rel ? rel.split(path.sep) : []) {
      cur = path.join(cur, part);
      let st = null;
      try {
        st = fs.statSync(cur);
      } catch (err) {
        if (err.code !== 'ENOENT') throw new ConnectError(`failed to stat directory: ${err.message}`, Code.Internal);
      }
      if (!st) fs.mkdirSync(cur, { mode: 0o755 });
      else if (!st.isDirectory()) throw new ConnectError(`path is a file: ${paths.toSandbox(cur)}`, Code.Internal);
    }
  }

  function startWatcher(target, recursive, includeEntry, onEvent) {
    let st;
    try {
      st = fs.statSync(target.host);
    } catch (err) {
      if (err.code === 'ENOENT') {
        throw new ConnectError(`path ${target.sandbox} not found: ${goErrText('stat', target.sandbox, err)}`, Code.NotFound);
      }
      throw new ConnectError(`error statting path ${target.sandbox}: ${err.message}`, Code.Internal);
    }
    if (!st.isDirectory()) throw new ConnectError(`path ${target.sandbox} not a directory`, Code.InvalidArgument);
    const watcher = new DirWatcher(target.host, { recursive });
    watcher.on('event', (e) => {
      const event = { name: e.name, type: EVENT_TYPES[e.type] };
      if (includeEntry && (e.type === 'create' || e.type === 'write' || e.type === 'chmod')) {
        try {
          event.entry = entryInfo(paths, e.hostPath, paths.toSandbox(e.hostPath));
        } catch {
          // gone again
        }
      }
      onEvent(event);
    });
    try {
      watcher.start();
    } catch (err) {
      throw new ConnectError(`error adding path ${target.sandbox} to watcher: ${err.message}`, Code.Internal);
    }
    return watcher;
  }

  const service = {
    stat(req, ctx) {
      const target = resolve(req.path, ctx);
      try {
        return { entry: entryInfo(paths, target.host, target.sandbox) };
      } catch (err) {
        if (err.code === 'ENOENT' || err.code === 'ENOTDIR') {
          throw new ConnectError(`file not found: ${goErrText('lstat', target.sandbox, err)}`, Code.NotFound);
        }
        throw new ConnectError(`error getting file info: ${err.message}`, Code.Internal);
      }
    },

    makeDir(req, ctx) {
      const target = resolve(req.path, ctx);
      let st = null;
      try {
        st = fs.statSync(target.host);
      } catch (err) {
        if (err.code !== 'ENOENT') throw new ConnectError(`error getting file info: ${err.message}`, Code.Internal);
      }
      if (st?.isDirectory()) throw new ConnectError(`directory already exists: ${target.sandbox}`, Code.AlreadyExists);
      if (st) throw new ConnectError(`path already exists but it is not a directory: ${target.sandbox}`, Code.InvalidArgument);
      ensureDirs(target.host);
      return { entry: { name: path.posix.basename(target.sandbox), type: FileType.DIRECTORY, path: target.sandbox } };
    },

    move(req, ctx) {
      const source = resolve(req.source, ctx);
      const destination = resolve(req.destination, ctx);
      ensureDirs(path.dirname(destination.host));
      try {
        fs.renameSync(source.host, destination.host);
      } catch (err) {
        if (err.code === 'ENOENT') {
          throw new ConnectError(
            `source file not found: rename ${source.sandbox} ${destination.sandbox}: no such file or directory`,
            Code.NotFound,
          );
        }
        throw new ConnectError(`error renaming: ${err.message}`, Code.Internal);
      }
      return { entry: entryInfo(paths, destination.host, destination.sandbox) };
    },

    listDir(req, ctx) {
      const depth = req.depth || 1;
      const target = resolve(req.path, ctx);
      let real;
      try {
        real = fs.realpathSync(target.host);
        paths.assertInsideRoot(real, target.sandbox);
      } catch (err) {
        if (err.code === 'ENOENT') throw new ConnectError(`path not found: ${goErrText('lstat', target.sandbox, err)}`, Code.NotFound);
        return rethrow(err);
      }
      if (!fs.statSync(real).isDirectory()) {
        throw new ConnectError(`path is not a directory: ${paths.toSandbox(real)}`, Code.InvalidArgument);
      }
      const entries = [];
      const walk = (hostDir, sandboxDir, level) => {
        let names;
        try {
          names = fs.readdirSync(hostDir).sort();
        } catch (err) {
          throw new ConnectError(`error reading directory ${sandboxDir}: ${err.message}`, Code.Internal);
        }
        for (const name of names) {
          const host = path.join(hostDir, name);
          const sandbox = path.posix.join(sandboxDir, name);
          let info;
          try {
            info = entryInfo(paths, host, sandbox);
          } catch {
            continue; // removed meanwhile
          }
          entries.push(info);
          if (info.type === FileType.DIRECTORY && level < depth) walk(host, sandbox, level + 1);
        }
      };
      walk(real, paths.toSandbox(real), 1);
      return { entries };
    },

    remove(req, ctx) {
      const target = resolve(req.path, ctx);
      if (target.host === paths.root) {
        throw new ConnectError('error removing file or directory: refusing to remove the sandbox root', Code.Internal);
      }
      try {
        fs.rmSync(target.host, { recursive: true, force: true });
      } catch (err) {
        throw new ConnectError(`error removing file or directory: ${err.message}`, Code.Internal);
      }
      return {};
    },

    async *watchDir(req, ctx) {
      const target = resolve(req.path, ctx);
      let stream = null;
      // fs events arrive asynchronously, so `stream` is set before the first one
      const watcher = startWatcher(target, req.recursive, req.includeEntry, (event) =>
        stream.push({ event: { case: 'filesystem', value: event } }),
      );
      stream = new EventStream({
        signal: ctx.signal,
        keepaliveMs: keepaliveMsFromHeaders(ctx.requestHeader),
        keepalive: () => ({ event: { case: 'keepalive', value: {} } }),
      });
      watcher.on('error', (err) => stream.fail(new ConnectError(`watcher error: ${err.message}`, Code.Internal)));
      stream.push({ event: { case: 'start', value: {} } });
      try {
        yield* stream;
      } finally {
        watcher.close();
        stream.end();
      }
    },

    createWatcher(req, ctx) {
      const target = resolve(req.path, ctx);
      const id = randomUUID();
      const entry = { watcher: null, events: [] };
      entry.watcher = startWatcher(target, req.recursive, req.includeEntry, (event) => entry.events.push(event));
      watchers.set(id, entry);
      return { watcherId: id };
    },

    getWatcherEvents(req) {
      const entry = watchers.get(req.watcherId);
      if (!entry) throw new ConnectError(`watcher with id ${req.watcherId} not found`, Code.NotFound);
      const events = entry.events;
      entry.events = [];
      return { events };
    },

    removeWatcher(req) {
      const entry = watchers.get(req.watcherId);
      if (!entry) throw new ConnectError(`watcher with id ${req.watcherId} not found`, Code.NotFound);
      entry.watcher.close();
      watchers.delete(req.watcherId);
      return {};
    },
  };

  function closeAll() {
    for (const entry of watchers.values()) entry.watcher.close();
    watchers.clear();
  }

  return { service, closeAll };
}
