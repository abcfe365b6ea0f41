// Goals, verdicts, and the three outputs: the stdout table, results.md and results.svg
// (hand-written SVG, no dependency).
import { round } from './stats.mjs';

export const GOALS = {
  ttff_p99_added_ms: { op: '<=', value: 2, unit: 'ms', title: 'first stream frame: p99 added by the proxy' },
  ttff_p50_added_ms: { op: null, unit: 'ms', title: 'first stream frame: p50 added by the proxy' },
  rps_ratio_vs_static: { op: '>=', value: 0.98, unit: '×', title: 'unary req/s, envd-edge ÷ static regex (njs engine)' },
  rps_ratio_vs_static_qjs: { op: null, unit: '×', title: 'unary req/s, envd-edge ÷ static regex (QuickJS)' },
  stream_throughput_ratio: { op: '>=', value: 0.9, unit: '×', title: 'stream throughput of a process\'s stdout through the fake envd, proxy ÷ direct' },
  stream_ceiling_ratio: { op: null, unit: '×', title: 'proxy ceiling: stand-in envd at memory speed, proxy ÷ direct' },
  idle_stream_kib: { op: '<=', value: 32, unit: 'KiB', title: 'nginx memory per idle WatchDir stream' },
};

/** The two sources of section 3: their part of details.throughput and the figure each gives. */
export const THROUGHPUT_PARTS = [
  { part: 'fake_envd', key: 'stream_throughput_ratio', title: "a process's stdout through the fake envd" },
  { part: 'standin', key: 'stream_ceiling_ratio', title: "the proxy's ceiling, from the stand-in envd" },
];

export function verdict(key, value) {
  const g = GOALS[key];
  if (typeof value !== 'number' || !Number.isFinite(value)) return 'not measured';
  if (!g || !g.op) return 'info';
  const ok = g.op === '<=' ? value <= g.value : value >= g.value;
  return ok ? 'met' : 'MISSED';
}

const goalText = (key) => {
  const g = GOALS[key];
  return g && g.op ? `${g.op === '<=' ? '≤' : '≥'} ${g.value}${g.unit === '×' ? '' : ' ' + g.unit}` : '—';
};

const fmt = (v, digits = 3) => (typeof v === 'number' && Number.isFinite(v) ? String(round(v, digits)) : String(v));

export function figureRows(results) {
  return Object.keys(GOALS).map((key) => {
    const value = results[key];
    const why = results.not_measured?.[key];
    return {
      key,
      title: GOALS[key].title,
      value: typeof value === 'number' ? fmt(value) : why ? `not measured: ${why}` : 'not measured',
      goal: goalText(key),
      status: verdict(key, value),
    };
  });
}

export function printTable(results) {
  const rows = figureRows(results);
  const head = ['figure', 'value', 'goal', 'status'];
  const cells = rows.map((r) => [r.key, r.value, r.goal, r.status]);
  const width = head.map((h, i) => Math.max(h.length, ...cells.map((c) => String(c[i]).length)));
  const line = (c) => c.map((x, i) => String(x).padEnd(width[i])).join('  ');
  console.log('\n' + line(head));
  console.log(width.map((w) => '-'.repeat(w)).join('  '));
  for (const c of cells) console.log(line(c));
  const missed = rows.filter((r) => r.status === 'MISSED').map((r) => r.key);
  if (missed.length) console.log(`\nMISSED: ${missed.join(', ')}`);
}

// ---- markdown ----------------------------------------------------------------------------------

export function markdown(results) {
  const m = results.machine;
  const d = results.details;
  const out = [];
  out.push(`# envd-edge benchmark (${results.mode})`, '');
  out.push(`${results.finished_at} · ${m.nproc} cores (${m.cpu}) · ${m.mem_gib} GiB · node ${m.node} · ${m.nginx_local} · wrk ${m.wrk} · load average at start ${m.loadavg_start.join(' ')}, at end ${m.loadavg_end.join(' ')} · ${round(results.duration_s, 1)} s`, '');
  const engines = [m.njs_engine || m.njs_local ? `njs engine: local nginx, njs ${(m.njs_engine || m.njs_local).njs}` : null, m.njs_qjs ? `QuickJS: ${m.njs_qjs.image}, nginx ${m.njs_qjs.nginx || '?'}, njs ${m.njs_qjs.njs}` : null].filter(Boolean);
  if (engines.length) out.push(engines.join(' · '), '');
  out.push('![results](results.svg)', '');
  out.push('| figure | value | goal | status |', '|---|---|---|---|');
  for (const r of figureRows(results)) out.push(`| ${r.title} (\`${r.key}\`) | ${r.value} | ${r.goal} | ${r.status === 'MISSED' ? '**MISSED**' : r.status} |`);
  out.push('');
  if (d.ttff && !d.ttff.error) {
    const t = d.ttff;
    const names = ['direct', ...Object.keys(t.added)];
    out.push(`## 1. First stream frame (${t.streams} Start streams per target, path-routed through nginx)`, '', `Upstream: ${t.upstream}.`, '');
    out.push('| target | p50 ms | p90 ms | p99 ms | max ms | p50 added | p99 added | paired p50 / p99 |', '|---|---|---|---|---|---|---|---|');
    for (const k of names) {
      const a = t.added[k];
      out.push(`| ${k} | ${fmt(t[k].p50_ms)} | ${fmt(t[k].p90_ms)} | ${fmt(t[k].p99_ms)} | ${fmt(t[k].max_ms)} | ${a ? fmt(a.p50_ms) : ''} | ${a ? fmt(a.p99_ms) : ''} | ${a ? `${fmt(a.paired_p50_ms)} / ${fmt(a.paired_p99_ms)}` : ''} |`);
    }
    out.push('', '"added" is the target\'s percentile minus direct\'s; "paired" is the percentile of the per-iteration differences. `envd_edge` is the goal\'s figure; `static_regex` shows what nginx costs without njs.', '');
  }
  if (d.rps && !d.rps.error) {
    out.push(`## 2. Unary requests/s (filesystem.Filesystem/Stat, wrk -t1 -c${d.rps.connections}, ${d.rps.seconds} s × ${d.rps.rounds} rounds, median)`, '');
    out.push('| engine | config | routing | req/s | worker CPU µs/req | req/s ÷ static regex | static regex CPU ÷ this CPU |', '|---|---|---|---|---|---|---|');
    for (const c of d.rps.cells) {
      const ref = d.rps.cells.find((x) => x.engine === c.engine && x.routing === c.routing.replace(/_bare$/, '') && x.config === 'static_regex');
      out.push(`| ${c.engine} | ${c.config} | ${c.routing} | ${Math.round(c.rps)} | ${fmt(c.worker_cpu_us_per_req, 1)} | ${ref ? fmt(c.rps / ref.rps) : ''} | ${c.static_cpu_ratio !== undefined ? fmt(c.static_cpu_ratio) : ''} |`);
    }
    for (const [engine, why] of Object.entries(d.rps.not_measured || {})) out.push(`| ${engine} | — | — | not measured: ${why} | | | |`);
    out.push('', 'Routing `path`/`host`: the request as the e2b SDK sends it, with `E2b-Sandbox-Id`/`E2b-Sandbox-Port` (the goal\'s figures); `*_bare`: the same without those two headers, compared with the static regex config\'s figure for the same route form. The last column is the capacity ratio: nginx\'s CPU per request is what limits its req/s.');
    const a = d.rps.cpu_affinity;
    out.push('', typeof a === 'object' ? `CPUs (taskset): each nginx under test alone on CPU ${a.nginx}; wrk, the upstream and the driver on CPU ${a.load_and_upstream}.` : `CPUs: not pinned (${a}).`);
    out.push('', 'Configs: `envd_edge` = examples/cubeproxy/nginx.conf as rendered (a); `static_regex` = bench/conf/static-regex.conf (b); `plain` = the example without its envd-edge lines (c).');
    if (d.rps.what_if?.length) out.push('What-if configs (not goals): ' + d.rps.what_if.map((w) => `\`${w.config}\` = ${w.about}`).join('; ') + '.');
    out.push('');
  }
  if (d.njs_cli) {
    out.push('## njs CLI: classifyRequest() alone', '');
    if (d.njs_cli.error) out.push(d.njs_cli.error, '');
    else out.push(`njs ${d.njs_cli.njs}: path-routed Stat ${fmt(d.njs_cli.path.us_per_call, 2)} µs/call, host-routed ${fmt(d.njs_cli.host.us_per_call, 2)} µs/call.`, '');
  }
  for (const { part, key, title: what } of THROUGHPUT_PARTS) {
    const title = GOALS[key].op ? `${what} (the goal's figure)` : what;
    const t = d.throughput?.[part];
    if (!t) continue;
    if (t.error) {
      out.push(`## 3. Stream throughput: ${title}`, '', `failed: ${t.error.split('\n')[0]}`, '');
      continue;
    }
    out.push(`## 3. Stream throughput: ${title} (${t.stdout_mib} MiB of stdout per stream, ${(t.wire_bytes_per_stream / 1048576).toFixed(1)} MiB on the wire as base64 Connect JSON; ${t.rounds} rounds, median)`, '');
    out.push(`Source: ${t.source}.`, '');
    out.push('| target | MiB/s of stdout | ÷ direct | nginx worker CPU s | client CPU s |', '|---|---|---|---|---|');
    for (const k of Object.keys(t.mib_s)) out.push(`| ${k} | ${fmt(t.mib_s[k], 1)} | ${t.ratio[k] !== undefined ? fmt(t.ratio[k]) : ''} | ${fmt(t.cpu_s[k].nginx, 3)} | ${fmt(t.cpu_s[k].client, 3)} |`);
    out.push('');
    for (const [k, v] of Object.entries(t.what_if || {})) out.push(`- \`${k}\`: ${v}`);
    out.push('');
  }
  if (d.idle && d.idle.legs) {
    const i = d.idle;
    out.push(`## 4. Idle WatchDir streams (${i.streams} concurrent, path-routed; ${i.nginx_main})`, '');
    out.push('| config | KiB per stream | worker RSS before | with the streams open | after they closed | open time |', '|---|---|---|---|---|---|');
    for (const [k, v] of Object.entries(i.legs)) {
      if (v.not_measured) out.push(`| ${k} | not measured: ${v.not_measured} | | | | |`);
      else out.push(`| ${k} | ${fmt(v.per_stream_kib, 2)} | ${v.before_kib} KiB | ${v.after_kib} KiB | ${v.after_close_kib} KiB | ${v.open_ms} ms |`);
    }
    out.push('');
    for (const [k, v] of Object.entries(i.what_if || {})) out.push(`- \`${k}\`: ${v}`);
    out.push('');
  }
  const errors = Object.entries(d).filter(([, v]) => v && v.error && !/^not measured/.test(v.error));
  if (errors.length) {
    out.push('## Failed measurements', '');
    for (const [k, v] of errors) out.push(`- ${k}: ${v.error.split('\n')[0]}`);
    out.push('');
  }
  if (results.notes?.length) {
    out.push('## Notes', '');
    for (const n of results.notes) out.push(`- ${n}`);
    out.push('');
  }
  return out.join('\n');
}

// ---- SVG ---------------------------------------------------------------------------------------

const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const COLORS = { met: '#1a7f37', MISSED: '#cf222e', 'not measured': '#6e7781', info: '#0969da' };
const BAR = { direct: '#8c959f', envd_edge: '#0969da', static_regex: '#bf8700', plain: '#8c959f', envd_edge_qjs: '#54aeff' };

/**
 * One panel: a title with the figure, goal and verdict, then horizontal bars
 * ({label, value, color, text}) on a shared scale, with an optional goal marker.
 */
function panel({ x, y, w, title, status, subtitle, bars, max, marker }) {
  const out = [];
  const barH = 16;
  const labelW = 250;
  const plotW = w - labelW - 90;
  out.push(`<text x="${x}" y="${y}" font-size="14" font-weight="bold">${esc(title)}</text>`);
  out.push(`<text x="${x + w}" y="${y}" font-size="14" font-weight="bold" text-anchor="end" fill="${COLORS[status] || '#000'}">${esc(status)}</text>`);
  out.push(`<text x="${x}" y="${y + 17}" font-size="11" fill="#57606a">${esc(subtitle)}</text>`);
  let by = y + 30;
  const scale = (v) => (max > 0 ? Math.max(0, Math.min(1, v / max)) * plotW : 0);
  const bottom = by + bars.length * (barH + 5);
  if (marker && Number.isFinite(marker.value)) {
    // drawn first, so bars and their labels stay readable on top of it
    const mx = x + labelW + scale(marker.value);
    out.push(`<line x1="${mx}" y1="${y + 24}" x2="${mx}" y2="${bottom}" stroke="#cf222e" stroke-dasharray="4 3"/>`);
    out.push(`<text x="${mx}" y="${bottom + 11}" font-size="10" fill="#cf222e" text-anchor="middle">${esc(marker.label)}</text>`);
  }
  for (const b of bars) {
    out.push(`<text x="${x + labelW - 6}" y="${by + 12}" font-size="11" text-anchor="end">${esc(b.label)}</text>`);
    if (Number.isFinite(b.value)) {
      out.push(`<rect x="${x + labelW}" y="${by}" width="${scale(b.value).toFixed(1)}" height="${barH}" fill="${b.color}" rx="2"/>`);
      out.push(`<text x="${x + labelW + scale(b.value) + 4}" y="${by + 12}" font-size="11">${esc(b.text)}</text>`);
    } else {
      out.push(`<text x="${x + labelW}" y="${by + 12}" font-size="11" fill="#6e7781">${esc(b.text)}</text>`);
    }
    by += barH + 5;
  }
  if (marker && Number.isFinite(marker.value)) by += 14;
  return { svg: out.join('\n'), height: by - y + 16 };
}

export function svg(results) {
  const d = results.details;
  const W = 860;
  const x = 20;
  const w = W - 40;
  let y = 30;
  const parts = [];
  parts.push(`<text x="${x}" y="${y}" font-size="17" font-weight="bold">envd-edge benchmark (${esc(results.mode)})</text>`);
  y += 18;
  const m = results.machine;
  parts.push(`<text x="${x}" y="${y}" font-size="11" fill="#57606a">${esc(`${results.finished_at} · ${m.nproc} cores · node ${m.node} · ${m.nginx_local} · load avg ${m.loadavg_start.join(' ')}`)}</text>`);
  y += 15;
  parts.push(`<text x="${x}" y="${y}" font-size="11" fill="#57606a">blue: envd-edge (the goal's figure) · light blue: envd-edge without the SDK's routing headers, or under QuickJS · ochre: static regex fix · grey: direct or no classification · purple: what-if configs</text>`);
  y += 30;
  const add = (p) => {
    const r = panel({ x, y, w, ...p });
    parts.push(r.svg);
    y += r.height;
  };

  // 1. first frame
  {
    const t = d.ttff && !d.ttff.error ? d.ttff : null;
    const bars = [];
    let max = 1;
    if (t) {
      const names = ['direct', ...Object.keys(t.added)];
      for (const q of ['p50_ms', 'p99_ms']) {
        for (const k of names) {
          bars.push({ label: `${k} ${q.slice(0, 3)}`, value: t[k][q], color: BAR[k] || '#8250df', text: `${fmt(t[k][q])} ms` });
          max = Math.max(max, t[k][q]);
        }
      }
      max = Math.max(max, t.direct.p99_ms + 2) * 1.15;
    } else bars.push({ label: 'first frame', value: NaN, text: d.ttff?.error?.split('\n')[0] || 'not measured' });
    add({
      title: `1. First Start frame: p99 added ${fmt(results.ttff_p99_added_ms)} ms (goal ≤ 2 ms), p50 added ${fmt(results.ttff_p50_added_ms)} ms`,
      status: verdict('ttff_p99_added_ms', results.ttff_p99_added_ms),
      subtitle: t ? `${t.streams} process.Process/Start streams per target, rotating order; stand-in envd` : '',
      bars,
      max,
      marker: t ? { value: t.direct.p99_ms + 2, label: 'direct p99 + 2 ms' } : null,
    });
  }
  // 2. requests/s
  {
    const r = d.rps && !d.rps.error ? d.rps : null;
    const bars = [];
    let max = 1;
    if (r) {
      for (const c of r.cells) {
        const ref = r.cells.find((z) => z.engine === c.engine && z.routing === c.routing.replace(/_bare$/, '') && z.config === 'static_regex');
        bars.push({
          label: `${c.engine} ${c.routing} ${c.config}`,
          value: c.rps,
          color: c.routing.endsWith('_bare') && c.config === 'envd_edge' ? '#54aeff' : BAR[c.config] || '#8250df',
          text: `${Math.round(c.rps)} req/s · ${fmt(c.worker_cpu_us_per_req, 1)} µs CPU/req${ref && c !== ref ? ` · ×${fmt(c.rps / ref.rps, 2)}` : ''}`,
        });
        max = Math.max(max, c.rps);
      }
      for (const [engine, why] of Object.entries(r.not_measured || {})) bars.push({ label: engine, value: NaN, text: `not measured: ${why}`.slice(0, 90) });
    } else bars.push({ label: 'req/s', value: NaN, text: d.rps?.error?.split('\n')[0] || 'not measured' });
    add({
      title: `2. Unary req/s ÷ static regex: ${fmt(results.rps_ratio_vs_static)} on njs (goal ≥ 0.98)${Number.isFinite(results.rps_ratio_vs_static_qjs) ? `, ${fmt(results.rps_ratio_vs_static_qjs)} on QuickJS` : ''}`,
      status: verdict('rps_ratio_vs_static', results.rps_ratio_vs_static),
      subtitle: r ? `filesystem.Filesystem/Stat, wrk -t1 -c${r.connections}, ${r.seconds} s × ${r.rounds} rounds interleaved, median; worker_processes 1` : '',
      bars,
      max: max * 1.55,
    });
  }
  // 3. throughput: one panel a source (the fake envd is about 40 times slower than the stand-in)
  for (const { part, key, title: name } of THROUGHPUT_PARTS) {
    const t = d.throughput?.[part] && !d.throughput[part].error ? d.throughput[part] : null;
    const bars = t
      ? Object.keys(t.mib_s).map((k) => ({
          label: k,
          value: t.mib_s[k],
          color: BAR[k] || '#8250df',
          text: `${fmt(t.mib_s[k], 1)} MiB/s${t.ratio[k] !== undefined ? ` · ×${fmt(t.ratio[k], 2)}` : ''} · nginx CPU ${fmt(t.cpu_s[k].nginx, 2)} s`,
        }))
      : [{ label: 'throughput', value: NaN, text: d.throughput?.[part]?.error?.split('\n')[0] || 'not measured' }];
    add({
      title: `3. Stream throughput, ${name}: envd_edge ÷ direct ${fmt(results[key])}${GOALS[key].op ? ' (goal ≥ 0.90)' : ''}`,
      status: verdict(key, results[key]),
      subtitle: t ? `${t.stdout_mib} MiB of stdout in one Start stream, median of ${t.rounds}` : '',
      bars,
      max: t ? Math.max(...Object.values(t.mib_s)) * 1.6 : 1,
      marker: t && GOALS[key].op ? { value: t.mib_s.direct * 0.9, label: '0.90 × direct' } : null,
    });
  }
  // 4. idle streams
  {
    const i = d.idle && d.idle.legs ? d.idle : null;
    const bars = [];
    let max = 32;
    if (i) {
      for (const [k, v] of Object.entries(i.legs)) {
        if (v.not_measured) bars.push({ label: k, value: NaN, text: `not measured: ${v.not_measured}`.slice(0, 90) });
        else {
          bars.push({ label: k, value: v.per_stream_kib, color: BAR[k] || '#8250df', text: `${fmt(v.per_stream_kib, 2)} KiB` });
          max = Math.max(max, v.per_stream_kib);
        }
      }
    } else bars.push({ label: 'per idle stream', value: NaN, text: d.idle?.error?.split('\n')[0] || 'not measured' });
    add({
      title: `4. nginx memory per idle WatchDir stream: ${fmt(results.idle_stream_kib, 2)} KiB (goal ≤ 32 KiB)`,
      status: verdict('idle_stream_kib', results.idle_stream_kib),
      subtitle: i ? `${i.streams} concurrent streams; sum of worker RSS with the streams open minus before, ÷ streams` : '',
      bars,
      max: max * 1.4,
      marker: { value: 32, label: 'goal 32 KiB' },
    });
  }
  const H = y + 10;
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif">`,
    `<rect width="${W}" height="${H}" fill="#ffffff"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
