// The e2b SDK against `npm run demo` (path routing), no control plane:
//   E2B_DEBUG=true E2B_SANDBOX_URL=http://127.0.0.1:8081/sandbox/abc123/49983 node examples/sdk-snippet.mjs
import { Sandbox } from 'e2b';

const sbx = await Sandbox.connect('abc123');
const t0 = Date.now();
const cmd = await sbx.commands.run('sleep 2; echo done', { background: true });
console.log(`background run returned after ${Date.now() - t0} ms, pid ${cmd.pid}`);
const result = await cmd.wait();
console.log(`wait() after ${Date.now() - t0} ms: ${result.stdout.trim()}`);
await sbx.files.write('/home/user/hello.txt', 'hello from the SDK');
console.log(`read back: ${await sbx.files.read('/home/user/hello.txt')}`);
