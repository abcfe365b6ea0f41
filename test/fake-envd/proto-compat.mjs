// Compares our envd-compatible protos with the schemas bundled in the installed e2b SDK, so a
// new SDK that changes the wire shape is noticed. Returns a list of differences (empty = same).
//
//   node test/fake-envd/proto-compat.mjs
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fromBinary, isFieldSet } from '@bufbuild/protobuf';
import { FieldDescriptorProtoSchema, FileDescriptorProtoSchema } from '@bufbuild/protobuf/wkt';
import { ensureGenerated } from './generate.mjs';

const require = createRequire(import.meta.url);

/** FileDescriptorProtos embedded in the SDK bundle (`fileDesc("<base64>"`), by file name. */
export function sdkFileDescriptors() {
  const bundle = fs.readFileSync(path.join(path.dirname(require.resolve('e2b')), 'index.mjs'), 'utf8');
  const out = {};
  for (const m of bundle.matchAll(/fileDesc\("([A-Za-z0-9+/=_-]+)"/g)) {
    const fd = fromBinary(FileDescriptorProtoSchema, Buffer.from(m[1], 'base64'));
    out[fd.name] = fd;
  }
  return out;
}

/** A flat map "kind name → description" for one file descriptor. */
function shape(fd) {
  const out = new Map();
  const msg = (d, prefix) => {
    const full = `${prefix}.${d.name}`;
    out.set(`message ${full}`, '');
    for (const f of d.field) {
      const inOneof = isFieldSet(f, FieldDescriptorProtoSchema.field.oneofIndex);
      const oneof = inOneof && !f.proto3Optional ? ` oneof=${d.oneofDecl[f.oneofIndex].name}` : '';
      out.set(
        `field ${full}#${f.number}`,
        `${f.name} type=${f.type}${f.typeName ? `(${f.typeName})` : ''} label=${f.label}${oneof}${f.proto3Optional ? ' optional' : ''}`,
      );
    }
    for (const n of d.nestedType) msg(n, full);
    for (const e of d.enumType) en(e, full);
  };
  const en = (e, prefix) => {
    for (const v of e.value) out.set(`enum ${prefix}.${e.name}#${v.number}`, v.name);
  };
  for (const d of fd.messageType) msg(d, fd.package);
  for (const e of fd.enumType) en(e, fd.package);
  for (const s of fd.service) {
    for (const m of s.method) {
      out.set(
        `method ${fd.package}.${s.name}/${m.name}`,
        `${m.clientStreaming ? 'stream ' : ''}${m.inputType} -> ${m.serverStreaming ? 'stream ' : ''}${m.outputType}`,
      );
    }
  }
  return out;
}

export async function compareWithSdk() {
  await ensureGenerated();
  const ours = {
    'process/process.proto': (await import('./gen/process/process_pb.js')).file_process_process.proto,
    'filesystem/filesystem.proto': (await import('./gen/filesystem/filesystem_pb.js')).file_filesystem_filesystem.proto,
  };
  const sdk = sdkFileDescriptors();
  const diffs = [];
  for (const [name, fd] of Object.entries(ours)) {
    if (!sdk[name]) {
      diffs.push(`${name}: not found in the SDK bundle`);
      continue;
    }
    const a = shape(fd);
    const b = shape(sdk[name]);
    for (const [k, v] of b) {
      if (!a.has(k)) diffs.push(`${name}: missing ${k} (${v})`);
      else if (a.get(k) !== v) diffs.push(`${name}: ${k} is "${a.get(k)}", SDK has "${v}"`);
    }
    for (const k of a.keys()) if (!b.has(k)) diffs.push(`${name}: extra ${k} (not in the SDK)`);
  }
  return diffs;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const diffs = await compareWithSdk();
  if (diffs.length) {
    console.log(diffs.join('\n'));
    process.exit(1);
  }
  console.log('protos match the e2b SDK schemas');
}
