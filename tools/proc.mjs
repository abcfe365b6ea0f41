// nginx's processes as /proc shows them: the workers of a master, with their titles and resident
// memory. Shared by the fault tests, the benchmarks and the soak script.
import { readdirSync, readFileSync } from 'node:fs';

/** Live (not zombie) children of `ppid`: [{ pid, title, rssKiB }]. */
export function childProcesses(ppid) {
  const out = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'latin1');
      // pid (comm) state ppid ...: comm may hold spaces and parentheses, so parse after the last ')'.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== ppid || fields[0] === 'Z') continue;
      const title = readFileSync(`/proc/${name}/cmdline`, 'latin1').replace(/\0+$/, '').replace(/\0/g, ' ');
      const rss = /^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${name}/status`, 'latin1'));
      out.push({ pid: Number(name), title, rssKiB: rss ? Number(rss[1]) : 0 });
    } catch {
      // the process exited while we read it
    }
  }
  return out;
}

/** The worker processes ("nginx: worker process") of an nginx master. */
export function nginxWorkers(masterPid) {
  return childProcesses(masterPid).filter((p) => p.title.includes('worker process'));
}
