// 2. Unary overhead: requests/s of a small unary envd call (filesystem.Filesystem/Stat,
// application/json) through each config, path-routed and host-routed. wrk with one thread and
// keep-alive, a fixed duration, every config and routing interleaved in rounds (the order
// rotates each round) so drift hits all alike; the median of the rounds is reported. Each round
// uses another nginx process of the config: two processes of one config differ by up to 5 % in
// CPU per request for as long as they run (memory layout), so one process per config would
// carry its luck into every round. The CPU time the config's nginx worker used per request is
// read from /proc around each run: it shows the per-request cost directly. With an affinity plan
// (servers.mjs cpuAffinityPlan) each nginx under test runs alone on its CPU and wrk on the others.
import { H1Connection } from './h1.mjs';
import { cpuNs, pinWorkers, sumWorkers } from './servers.mjs';
import { median } from './stats.mjs';
import { runWrk, writeScript } from './wrk.mjs';

const STAT_BODY = '{"path":"/home/user"}';
const STAT_PATH = '/filesystem.Filesystem/Stat';

/**
 * The unary request as the e2b SDK sends it (minus Accept-Encoding: see bench/README.md), with
 * the SDK's E2b-Sandbox-Id/-Port headers on every request; `bare` leaves them out.
 */
function statHeaders(host, bare = false) {
  const h = { 'Content-Type': 'application/json', 'Connect-Protocol-Version': '1' };
  if (!bare) Object.assign(h, { 'E2b-Sandbox-Id': 'abc123', 'E2b-Sandbox-Port': '49983' });
  h['User-Agent'] = 'envd-edge-bench';
  if (host) h.Host = host;
  return h;
}

/** path/host: as the SDK sends them (the goal's figures); *_bare: without the routing headers. */
export const ROUTINGS = {
  path: { path: `/sandbox/abc123/49983${STAT_PATH}`, headers: statHeaders() },
  host: { path: STAT_PATH, headers: statHeaders('49983-abc123.sandbox.test') },
  path_bare: { path: `/sandbox/abc123/49983${STAT_PATH}`, headers: statHeaders('', true) },
  host_bare: { path: STAT_PATH, headers: statHeaders('49983-abc123.sandbox.test', true) },
};

/** One request per instance and routing: it must reach the upstream as /filesystem.Filesystem/Stat. */
export async function checkRouting(instance, routing) {
  const { path, headers } = ROUTINGS[routing];
  const conn = new H1Connection({ port: instance.port });
  try {
    const req = await conn.request({ path, headers, body: Buffer.from(STAT_BODY) });
    const done = await req.done;
    const seen = done.headers['x-upstream-uri'];
    if (done.status !== 200 || seen !== STAT_PATH) {
      throw new Error(`${instance.label} ${routing}-routed Stat: status ${done.status}, upstream saw ${seen ?? 'nothing'} (want 200 and ${STAT_PATH})`);
    }
  } finally {
    conn.close();
  }
}

/**
 * @param {object} o
 * @param {{label:string, engine:string, config:string, processes:{url:string, masterPid:number}[], routings:string[]}[]} o.instances
 *   each config with one nginx process a round (round r uses processes[r % length])
 * @param {string} o.scriptDir  where the wrk scripts go
 * @param {{nginx:string, load_and_upstream:string}|null} o.affinity  CPUs (taskset lists), or null: nothing pinned
 */
export async function measureRps({ instances, scriptDir, rounds, seconds, warmupSeconds, connections = 32, affinity = null, onRun = () => {} }) {
  const scripts = {};
  for (const [name, r] of Object.entries(ROUTINGS)) {
    scripts[name] = writeScript(scriptDir, name, { path: r.path, headers: r.headers, body: STAT_BODY });
  }
  const cells = [];
  for (const inst of instances) for (const routing of inst.routings) cells.push({ inst, routing, runs: [] });
  for (const cell of cells) for (const nginx of cell.inst.processes) await checkRouting({ ...nginx, label: cell.inst.label }, cell.routing);
  if (affinity) for (const inst of instances) for (const nginx of inst.processes) pinWorkers(nginx.masterPid, affinity.nginx);
  const once = async (cell, nginx, secs) => {
    const before = sumWorkers(nginx.masterPid, cpuNs);
    const r = await runWrk({ url: nginx.url, script: scripts[cell.routing], seconds: secs, connections, cpus: affinity?.load_and_upstream });
    const after = sumWorkers(nginx.masterPid, cpuNs);
    if (r.non2xx || r.socketErrors) {
      throw new Error(`${cell.inst.label} ${cell.routing}: ${r.non2xx} non-2xx answers, ${r.socketErrors} socket errors\n${r.raw}`);
    }
    return { rps: r.rps, requests: r.requests, worker_cpu_us_per_req: (after - before) / 1000 / r.requests };
  };
  // Every process once, with its config's first routing: caches, pools and upstream connections.
  if (warmupSeconds > 0) {
    for (const inst of instances) {
      const first = cells.find((c) => c.inst === inst);
      for (const nginx of inst.processes) await once(first, nginx, warmupSeconds);
    }
  }
  for (let round = 0; round < rounds; round++) {
    // rotate the order every round: no config always runs first or right after another
    const shift = round % cells.length;
    const order = cells.slice(shift).concat(cells.slice(0, shift));
    for (const cell of order) {
      const run = await once(cell, cell.inst.processes[round % cell.inst.processes.length], seconds);
      cell.runs.push(run);
      onRun(cell, run, round);
    }
  }
  return cells.map((c) => ({
    label: c.inst.label,
    engine: c.inst.engine,
    config: c.inst.config,
    routing: c.routing,
    rps: median(c.runs.map((r) => r.rps)),
    worker_cpu_us_per_req: median(c.runs.map((r) => r.worker_cpu_us_per_req)),
    runs: c.runs.map((r) => ({ rps: r.rps, worker_cpu_us_per_req: r.worker_cpu_us_per_req })),
  }));
}
