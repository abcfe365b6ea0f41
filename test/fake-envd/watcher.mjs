// Directory watching with envd's (fsnotify's) event kinds on top of node's fs.watch.
//
// fs.watch reports only 'rename' (created, deleted or moved) and 'change' (written or attributes
// changed). The kinds are recovered from lstat and a cache of what each path was:
//   'rename' + exists   → create (or, when a path with the same inode, mtime and size just
//                         vanished, rename of the old name then create of the new one, as
//                         fsnotify reports a move)
//   'rename' + gone     → remove (held back a few ms so a move can claim it)
//   'change'            → chmod when only the mode/owner changed, else write
// A path created and removed again before its first event is handled still yields create then
// remove. Kinds are a best effort: a chmod right before a move reads as a write, a move out of the
// watched tree as a remove.
// Recursion is done here, one fs.watch per directory, with new subdirectories added as they
// appear (fs.watch's own recursive mode on Linux differs between node versions).
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import path from 'node:path';

const MOVE_WINDOW_MS = 15;

export class DirWatcher extends EventEmitter {
  /** @param {string} dir host directory @param {{ recursive?: boolean }} [o] */
  constructor(dir, { recursive = false } = {}) {
    super();
    this.dir = dir;
    this.recursive = recursive;
    this.watchers = new Map(); // host dir → fs.FSWatcher
    this.known = new Map(); // host path → { ino, mode, uid, gid, mtimeMs, size, isDir }
    this.vanished = new Map(); // ino → { full, timer, mtimeMs, size }
    this.phantoms = new Set(); // host paths reported created that were already gone
    this.closed = false;
  }

  /** Starts watching; throws when the directory can't be watched. */
  start() {
    this.watchDir(this.dir, true);
    return this;
  }

  close() {
    this.closed = true;
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    for (const v of this.vanished.values()) clearTimeout(v.timer);
    this.vanished.clear();
  }

  remember(full, st) {
    this.known.set(full, {
      ino: st.ino,
      mode: st.mode,
      uid: st.uid,
      gid: st.gid,
      mtimeMs: st.mtimeMs,
      size: st.size,
      isDir: st.isDirectory(),
    });
  }

  watchDir(dir, isRoot = false) {
    if (this.closed || this.watchers.has(dir)) return;
    let watcher;
    try {
      watcher = fs.watch(dir, { persistent: false }, (type, filename) => {
        if (filename != null) this.onRaw(dir, type, String(filename));
      });
    } catch (err) {
      if (isRoot) throw err;
      return; // a subdirectory that vanished meanwhile
    }
    watcher.on('error', (err) => {
      watcher.close();
      this.watchers.delete(dir);
      if (dir === this.dir && !this.closed) this.emit('error', err);
    });
    this.watchers.set(dir, watcher);
    let names = [];
    try {
      names = fs.readdirSync(dir);
    } catch {
      // gone again
    }
    for (const name of names) {
      const full = path.join(dir, name);
      try {
        const st = fs.lstatSync(full);
        this.remember(full, st);
        if (this.recursive && st.isDirectory()) this.watchDir(full);
      } catch {
        // raced with a removal
      }
    }
  }

  unwatchTree(dir) {
    for (const [d, w] of this.watchers) {
      if (d === dir || d.startsWith(dir + path.sep)) {
        w.close();
        this.watchers.delete(d);
      }
    }
  }

  emitEvent(type, full) {
    if (this.closed) return;
    const name = path.relative(this.dir, full);
    if (!name || name.startsWith('..')) return;
    this.emit('event', { type, name, hostPath: full });
  }

  onRaw(dir, type, filename) {
    if (this.closed) return;
    const full = path.join(dir, filename);
    let st = null;
    try {
      st = fs.lstatSync(full);
    } catch {
      st = null;
    }
    const before = this.known.get(full);

    if (type === 'change') {
      if (!st) {
        // written, then gone before we looked: still a write (the 'rename' after it reports the rest)
        if (before || this.phantoms.has(full)) this.emitEvent('write', full);
        return;
      }
      const onlyAttrs =
        before &&
        before.mtimeMs === st.mtimeMs &&
        before.size === st.size &&
        (before.mode !== st.mode || before.uid !== st.uid || before.gid !== st.gid);
      this.remember(full, st);
      this.emitEvent(onlyAttrs ? 'chmod' : 'write', full);
      return;
    }

    // 'rename'
    if (st) {
      this.phantoms.delete(full);
      if (before && before.ino === st.ino) return; // nothing new at this name
      // a move keeps inode, mtime and size; a new file that merely reuses a freed inode does not
      const moved = this.vanished.get(st.ino);
      if (moved && moved.mtimeMs === st.mtimeMs && moved.size === st.size) {
        clearTimeout(moved.timer);
        this.vanished.delete(st.ino);
        this.emitEvent('rename', moved.full);
      }
      this.remember(full, st);
      this.emitEvent('create', full);
      if (this.recursive && st.isDirectory()) this.watchDir(full);
      return;
    }

    if (!before) {
      // created and removed again before we looked: fs.watch sends one 'rename' for each
      if (this.phantoms.has(full)) {
        this.phantoms.delete(full);
        this.emitEvent('remove', full);
      } else {
        this.phantoms.add(full);
        this.emitEvent('create', full);
      }
      return;
    }
    this.known.delete(full);
    if (before.isDir) this.unwatchTree(full);
    const timer = setTimeout(() => {
      this.vanished.delete(before.ino);
      this.emitEvent('remove', full);
    }, MOVE_WINDOW_MS);
    const previous = this.vanished.get(before.ino);
    if (previous) {
      clearTimeout(previous.timer);
      this.emitEvent('remove', previous.full);
    }
    this.vanished.set(before.ino, { full, timer, mtimeMs: before.mtimeMs, size: before.size });
  }
}
