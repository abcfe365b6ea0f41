#!/usr/bin/env node
// `npm run images`: the nginx images the container test legs run, built without any image
// registry. Each is a Debian root made by debootstrap (minbase + nginx + the njs module, and the
// njs CLI where the suite has it) and imported into the local dockerd:
//
//   envd-edge-nginx:bookworm   envd-edge-nginx:trixie   envd-edge-nginx:sid
//
// A tag that exists is kept (ENVD_EDGE_IMAGES_REBUILD=1 rebuilds). Needs root, debootstrap, a
// docker CLI and DOCKER_HOST (see .ci/dockerd.sh). Each image carries labels with the Debian
// versions it holds (envd-edge.nginx, envd-edge.njs-module, envd-edge.njs-cli), read by the matrix.
//
// Environment:
//   ENVD_EDGE_IMAGE_SUITES=bookworm,trixie   build only these suites (default: bookworm,trixie,sid)
//   ENVD_EDGE_DEBIAN_MIRROR=http://…/debian  mirror for debootstrap (default: the one apt uses here)
//   ENVD_EDGE_IMAGES_REBUILD=1               rebuild tags that exist
//   ENVD_EDGE_IMAGES=official                with a registry: pull the official nginx images the
//                                            matrix then uses instead (see tools/nginx-container.mjs)
//   ENVD_EDGE_IMAGE_<SUITE>=<ref>            a leg's image, e.g. ENVD_EDGE_IMAGE_BOOKWORM=nginx:1.22;
//                                            a ref that is not an envd-edge-nginx tag is pulled, not built
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { imageFor, SUITES, BUILT_REPO } from '../tools/nginx-container.mjs';

const PACKAGES = ['nginx', 'libnginx-mod-http-js'];
/** The njs CLI is a separate Debian package; included where the suite has it. */
const OPTIONAL = ['njs'];

function log(msg) {
  console.log(`images: ${msg}`);
}

function docker(args, opts = {}) {
  return spawnSync('docker', args, { encoding: 'utf8', ...opts });
}

function imageExists(ref) {
  return docker(['image', 'inspect', ref]).status === 0;
}

/** The Debian archive apt uses on this machine, from sources.list(.d) in both formats. */
export function debianMirror() {
  if (process.env.ENVD_EDGE_DEBIAN_MIRROR) return process.env.ENVD_EDGE_DEBIAN_MIRROR;
  const entries = [];
  const files = [];
  if (existsSync('/etc/apt/sources.list')) files.push('/etc/apt/sources.list');
  if (existsSync('/etc/apt/sources.list.d')) {
    for (const name of readdirSync('/etc/apt/sources.list.d').sort()) {
      if (name.endsWith('.list') || name.endsWith('.sources')) files.push(join('/etc/apt/sources.list.d', name));
    }
  }
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    if (file.endsWith('.sources')) {
      // deb822: stanzas separated by blank lines; `#` lines are comments.
      for (const stanza of text.split(/\n\s*\n/)) {
        const fields = {};
        let last;
        for (const line of stanza.split('\n')) {
          if (/^\s*#/.test(line) || !line.trim()) continue;
          if (/^\s/.test(line) && last) { fields[last] += ' ' + line.trim(); continue; }
          const m = /^([A-Za-z-]+):\s*(.*)$/.exec(line);
          if (m) { last = m[1].toLowerCase(); fields[last] = m[2].trim(); }
        }
        if (!fields.types || !fields.types.split(/\s+/).includes('deb')) continue;
        if (fields.enabled && fields.enabled.toLowerCase() === 'no') continue;
        for (const uri of (fields.uris || '').split(/\s+/).filter(Boolean)) {
          entries.push({ uri, suites: (fields.suites || '').split(/\s+/) });
        }
      }
    } else {
      for (const line of text.split('\n')) {
        const m = /^\s*deb\s+(?:\[[^\]]*\]\s+)?(\S+)\s+(\S+)/.exec(line);
        if (m) entries.push({ uri: m[1], suites: [m[2]] });
      }
    }
  }
  // The main archive: a Debian suite that is not -security/-updates/-backports, not a security URI.
  const CODENAMES = /^(stable|testing|unstable|oldstable|sid|bullseye|bookworm|trixie|forky|duke)$/;
  const main = entries.find((e) => !/security/.test(e.uri) && e.suites.some((s) => CODENAMES.test(s)));
  return (main ? main.uri : 'http://deb.debian.org/debian').replace(/\/+$/, '');
}

/** Mount points inside `dir` (debootstrap mounts /proc and /sys in the target while it works). */
function mountsUnder(dir) {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .map((l) => l.split(' ')[1])
    .filter((m) => m && (m === dir || m.startsWith(dir + '/')))
    .map((m) => m.replace(/\\040/g, ' '))
    .sort((a, b) => b.length - a.length);
}

/** Removes a debootstrap target, unmounting whatever is still mounted inside it first. */
function removeRoot(dir) {
  for (const m of mountsUnder(dir)) spawnSync('umount', ['-l', m]);
  if (mountsUnder(dir).length) throw new Error(`refusing to remove ${dir}: still has mounts ${mountsUnder(dir).join(', ')}`);
  rmSync(dir, { recursive: true, force: true });
}

function run(cmd, args, { quiet = false } = {}) {
  return new Promise((resolve) => {
    const out = [];
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const keep = (b) => { out.push(b); if (!quiet) process.stdout.write(b); };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', (e) => resolve({ status: 127, output: String(e) }));
    child.on('exit', (code) => resolve({ status: code, output: Buffer.concat(out).toString() }));
  });
}

function dpkgVersions(root) {
  const q = spawnSync('dpkg-query', [`--admindir=${root}/var/lib/dpkg`, '-W', '-f', '${Package} ${Version}\\n', ...PACKAGES, ...OPTIONAL], {
    encoding: 'utf8',
  });
  const versions = {};
  for (const line of q.stdout.split('\n')) {
    const [name, version] = line.split(' ');
    if (name && version) versions[name] = version;
  }
  return versions;
}

/** debootstrap targets in progress: removed on every way out (signals, a crash, a closed stdout). */
const pending = new Set();
function cleanupAll() {
  for (const root of pending) {
    try {
      removeRoot(root);
    } catch (e) {
      console.error(`images: ${e.message}`);
    }
    pending.delete(root);
  }
}

async function build(suite, tag, mirror) {
  const started = Date.now();
  const parent = process.env.ENVD_EDGE_IMAGES_TMP || '/var/tmp';
  const root = mkdtempSync(join(parent, `envd-edge-${suite}-`));
  pending.add(root);
  try {
    let include = [...PACKAGES, ...OPTIONAL];
    log(`${suite}: debootstrap --variant=minbase --include=${include.join(',')} ${suite} ${root} ${mirror}`);
    let r = await run('debootstrap', ['--variant=minbase', `--include=${include.join(',')}`, suite, root, mirror], { quiet: true });
    if (r.status !== 0 && /Couldn't find these debs/.test(r.output)) {
      log(`${suite}: ${OPTIONAL.join(',')} not in ${suite}; building without the njs CLI`);
      removeRoot(root);
      include = [...PACKAGES];
      r = await run('debootstrap', ['--variant=minbase', `--include=${include.join(',')}`, suite, root, mirror], { quiet: true });
    }
    if (r.status !== 0) {
      throw new Error(`debootstrap ${suite} failed (exit ${r.status}):\n${r.output.split('\n').slice(-30).join('\n')}`);
    }
    const v = dpkgVersions(root);
    // Keep the image small: package lists and caches are not needed to run nginx.
    for (const junk of ['var/cache/apt/archives', 'var/lib/apt/lists']) {
      rmSync(join(root, junk), { recursive: true, force: true });
    }
    const changes = [
      `LABEL envd-edge.suite=${suite}`,
      `LABEL envd-edge.nginx=${v.nginx || ''}`,
      `LABEL envd-edge.njs-module=${v['libnginx-mod-http-js'] || ''}`,
      `LABEL envd-edge.njs-cli=${v.njs || ''}`,
      `LABEL envd-edge.mirror=${mirror}`,
      'CMD ["nginx", "-g", "daemon off;"]',
    ];
    const args = ['import', ...changes.flatMap((c) => ['--change', c]), '-', tag];
    const imported = await new Promise((resolve) => {
      const tar = spawn('tar', ['-C', root, '--numeric-owner', '-c', '.'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const imp = spawn('docker', args, { stdio: [tar.stdout, 'pipe', 'inherit'] });
      let id = '';
      imp.stdout.on('data', (b) => (id += b));
      let tarCode;
      tar.on('exit', (c) => (tarCode = c));
      imp.on('exit', (c) => resolve({ status: c === 0 && tarCode === 0 ? 0 : c || tarCode || 1, id: id.trim() }));
    });
    if (imported.status !== 0) throw new Error(`docker import ${tag} failed`);
    log(
      `${suite}: ${tag} built in ${((Date.now() - started) / 1000).toFixed(1)} s — nginx ${v.nginx}, ` +
        `libnginx-mod-http-js ${v['libnginx-mod-http-js']}, njs CLI ${v.njs || 'not packaged'}`,
    );
  } finally {
    cleanupAll();
  }
}

async function main() {
  process.on('exit', cleanupAll);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => process.exit(130));
  process.stdout.on('error', () => {}); // a closed pipe (`| head`) must not abort a build halfway
  if (!process.env.DOCKER_HOST) log('DOCKER_HOST is not set: using the docker CLI default (see .ci/dockerd.sh)');
  if (docker(['info']).status !== 0) {
    console.error('images: no docker daemon answers (start one with `eval "$(.ci/dockerd.sh start)"`)');
    process.exit(1);
  }
  const suites = (process.env.ENVD_EDGE_IMAGE_SUITES || SUITES.join(',')).split(',').map((s) => s.trim()).filter(Boolean);
  const rebuild = process.env.ENVD_EDGE_IMAGES_REBUILD === '1';
  const started = Date.now();
  let mirror;
  let failed = 0;
  for (const suite of suites) {
    const ref = imageFor(suite);
    const ours = ref.startsWith(BUILT_REPO + ':');
    if (imageExists(ref) && !(rebuild && ours)) {
      log(`${suite}: ${ref} exists, skipped`);
      continue;
    }
    try {
      if (!ours) {
        log(`${suite}: docker pull ${ref}`);
        const r = await run('docker', ['pull', ref]);
        if (r.status !== 0) throw new Error(`docker pull ${ref} failed`);
        continue;
      }
      if (process.getuid && process.getuid() !== 0) throw new Error('debootstrap needs root');
      mirror ??= debianMirror();
      await build(suite, ref, mirror);
    } catch (e) {
      failed++;
      console.error(`images: ${suite}: ${e.message}`);
    }
  }
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s${failed ? `, ${failed} failed` : ''}`);
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) main();
