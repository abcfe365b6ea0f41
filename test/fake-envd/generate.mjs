// Generates the protobuf-es code for the fake envd from test/fake-envd/proto into
// test/fake-envd/gen (gitignored), offline, with the buf CLI and protoc-gen-es from node_modules.
//
//   node test/fake-envd/generate.mjs          # generate when stale
//   node test/fake-envd/generate.mjs --force  # always generate
//
// From code: `await ensureGenerated()` before importing gen/*.js.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');
const protoDir = path.join(here, 'proto');
const genDir = path.join(here, 'gen');
const bufBin = path.join(repoRoot, 'node_modules/.bin/buf');
const pluginBin = path.join(repoRoot, 'node_modules/.bin/protoc-gen-es');

/** The generated files we need, relative to gen/. */
export const OUTPUTS = [
  'process/process_pb.js',
  'process/process_pb.d.ts',
  'filesystem/filesystem_pb.js',
  'filesystem/filesystem_pb.d.ts',
];

function listFiles(dir, suffix) {
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFiles(p, suffix));
    else if (entry.name.endsWith(suffix)) out.push(p);
  }
  return out;
}

function mtime(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return -1;
  }
}

/** True when every output exists and is newer than every proto and than this script. */
export function isFresh() {
  const inputs = [...listFiles(protoDir, '.proto'), fileURLToPath(import.meta.url)];
  const newestInput = Math.max(...inputs.map(mtime));
  return OUTPUTS.every((rel) => mtime(path.join(genDir, rel)) > newestInput);
}

/** Runs buf generate into a temporary directory, then moves the files into gen/ one by one. */
export function generate() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'fake-envd-gen-'));
  try {
    const template = {
      version: 'v2',
      plugins: [{ local: pluginBin, out: tmp, opt: ['target=js+dts'] }],
    };
    execFileSync(bufBin, ['generate', protoDir, '--template', JSON.stringify(template)], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, BUF_CACHE_DIR: path.join(tmp, '.buf-cache') },
    });
    for (const rel of OUTPUTS) {
      const from = path.join(tmp, rel);
      const to = path.join(genDir, rel);
      fs.mkdirSync(path.dirname(to), { recursive: true });
      // copy + rename keeps the replacement atomic even across file systems
      fs.copyFileSync(from, `${to}.tmp-${process.pid}`);
      fs.renameSync(`${to}.tmp-${process.pid}`, to);
    }
  } catch (err) {
    const stderr = err && err.stderr ? String(err.stderr) : '';
    throw new Error(`buf generate failed: ${err.message}${stderr ? `\n${stderr}` : ''}`);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

/** Generates only when stale. Returns true when it generated. */
export async function ensureGenerated({ force = false } = {}) {
  if (!force && isFresh()) return false;
  generate();
  return true;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  const t0 = Date.now();
  const did = await ensureGenerated({ force });
  console.log(did ? `generated ${genDir} in ${Date.now() - t0} ms` : `${genDir} is up to date`);
}
