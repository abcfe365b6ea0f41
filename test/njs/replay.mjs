#!/usr/bin/env node
// Loads a built bundle into the real `njs` CLI and replays test/vectors.json inside it, so the
// exact bytes nginx will load are parsed and run by njs, not by Node.
//
//   node test/njs/replay.mjs [dist/envd.js] [-- extra njs CLI args, e.g. -n QuickJS]
//
// NJS_IMAGE=<docker image> runs the njs CLI of that image instead of the local one
// (`docker run --rm --network host`, the work folder bind-mounted read-only at its own path).
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const argv = process.argv.slice(2);
const dash = argv.indexOf('--');
const extra = dash >= 0 ? argv.slice(dash + 1) : [];
const bundle = resolve((dash >= 0 ? argv.slice(0, dash) : argv)[0] || join(here, '../../dist/envd.js'));
const vectors = resolve(here, '../vectors.json');

const dir = mkdtempSync(join(tmpdir(), 'envd-njs-'));
copyFileSync(bundle, join(dir, 'envd.js'));
copyFileSync(join(here, '../support/match-vector.js'), join(dir, 'match-vector.js'));
copyFileSync(vectors, join(dir, 'vectors.json'));
// The njs-side script: njs syntax only (no destructuring, no for-of), and no require() (the
// QuickJS engine has none: `-n QuickJS -m`).
writeFileSync(join(dir, 'replay.mjs'), `
import envd from 'envd.js';
import vectorMismatches from 'match-vector.js';
import fs from 'fs';
var table = JSON.parse(fs.readFileSync(process.argv[process.argv.length - 1], 'utf8'));
var failed = 0;
for (var i = 0; i < table.vectors.length; i++) {
  var v = table.vectors[i];
  var options = v.options ? table.optionSets[v.options] : undefined;
  var problems = vectorMismatches(v, envd.classifyRequest(v.request, options));
  if (problems.length) { failed++; console.log('MISMATCH ' + v.name + ': ' + problems.join('; ')); }
}
var engine = njs.engine || 'njs';
console.log('njs ' + njs.version + ' (' + engine + ' engine): ' + (table.vectors.length - failed) + ' of ' + table.vectors.length + ' vectors match');
if (failed) throw new Error(failed + ' vectors differ inside njs');
`);
const njsArgs = [...extra, '-p', dir, join(dir, 'replay.mjs'), join(dir, 'vectors.json')];
const image = process.env.NJS_IMAGE;
const run = image
  ? spawnSync('docker', ['run', '--rm', '--network', 'host', '-v', `${dir}:${dir}:ro`, '--entrypoint', 'njs', image, ...njsArgs], { encoding: 'utf8' })
  : spawnSync('njs', njsArgs, { encoding: 'utf8' });
rmSync(dir, { recursive: true, force: true });
process.stdout.write(run.stdout || '');
process.stderr.write(run.stderr || '');
if (run.error) {
  console.error('replay.mjs: could not run ' + (image ? 'docker' : 'njs') + ': ' + run.error.message);
  process.exit(2);
}
process.exit(run.status === 0 ? 0 : 1);
