/**
 * vigil's host collector beside the real prometheus-node-exporter 1.5 (Debian): for the
 * collectors vigil implements, the same metric names and label sets, gauges within 1%, counters
 * within one collection interval (vigil's value lies between two node_exporter scrapes taken
 * just before and just after it).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostCollector, FS_MOUNT_POINTS_EXCLUDE } from '../../src/ingest/host/index.js';
import { labelsGet, labelsToObject } from '../../src/model/labels.js';
import { havePeer, startNodeExporter, type Peer } from './peers.js';

const HAVE = havePeer('prometheus-node-exporter');
const COLLECTORS = ['cpu', 'stat', 'loadavg', 'meminfo', 'diskstats', 'netdev', 'filesystem', 'pressure', 'time'];
/** node_exporter's own metrics that are not host data. */
const IGNORE = /^(go_|process_|promhttp_|node_scrape_collector_|node_exporter_build_info)/;

type Scrape = Map<string, Map<string, number>>; // name → label-key → value

function parseExposition(text: string): Scrape {
  const out: Scrape = new Map();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    for (const lm of (m[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) if (lm[2] !== '') labels[lm[1]!] = JSON.parse(`"${lm[2]!}"`) as string;
    const key = JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : 1)));
    if (!out.has(m[1]!)) out.set(m[1]!, new Map());
    out.get(m[1]!)!.set(key, Number(m[3]!.replace('+Inf', 'Infinity')));
  }
  return out;
}

/** Per-family tolerance for values that move on their own between two reads. */
function slack(name: string): number {
  if (name === 'node_time_seconds') return 10;
  if (name.startsWith('node_memory_')) return 64 * 1024 * 1024; // page cache etc. moves with the test itself
  if (name.startsWith('node_procs_') || name === 'node_disk_io_now') return 8;
  if (name.startsWith('node_load')) return 0.5;
  if (name.startsWith('node_filesystem_') && /bytes|files/.test(name)) return 256 * 1024 * 1024;
  return 0;
}

describe.skipIf(!HAVE)('host collector vs prometheus-node-exporter 1.5', () => {
  let ne: Peer;
  beforeAll(async () => {
    ne = await startNodeExporter([
      '--collector.disable-defaults',
      ...COLLECTORS.map((c) => `--collector.${c}`),
      // Same filters as vigil's defaults (Debian patches node_exporter's defaults).
      `--collector.filesystem.mount-points-exclude=${FS_MOUNT_POINTS_EXCLUDE.source}`,
      '--collector.netdev.device-exclude=^$',
    ]);
  });
  afterAll(async () => ne?.stop());

  it('same names, label sets and values', async () => {
    const hc = new HostCollector({ procfs: '/proc', sysfs: '/sys', rootfs: '/', intervalMs: 15_000, collectors: COLLECTORS });
    const before = parseExposition(await (await fetch(`${ne.url}/metrics`)).text());
    const fams = await hc.collect();
    const after = parseExposition(await (await fetch(`${ne.url}/metrics`)).text());

    const ours: Scrape = new Map();
    for (const f of fams) {
      for (const s of f.samples) {
        const name = labelsGet(s.labels, '__name__');
        const o = labelsToObject(s.labels);
        delete o.__name__;
        const key = JSON.stringify(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : 1)));
        if (!ours.has(name)) ours.set(name, new Map());
        ours.get(name)!.set(key, s.value);
      }
    }
    const theirNames = [...after.keys()].filter((n) => !IGNORE.test(n)).sort();
    expect(theirNames.length).toBeGreaterThan(80);
    expect([...ours.keys()].sort()).toEqual(theirNames);

    const problems: string[] = [];
    for (const name of theirNames) {
      const a = before.get(name) ?? new Map<string, number>();
      const c = after.get(name)!;
      const b = ours.get(name)!;
      expect([...b.keys()].sort(), `label sets of ${name}`).toEqual([...c.keys()].sort());
      for (const [key, vb] of b) {
        const va = a.get(key) ?? c.get(key)!;
        const vc = c.get(key)!;
        const lo = Math.min(va, vc);
        const hi = Math.max(va, vc);
        const tol = Math.max(Math.abs(hi) * 0.01, slack(name));
        if (vb < lo - tol || vb > hi + tol) problems.push(`${name}${key}: vigil ${vb}, node_exporter ${va} … ${vc}`);
      }
    }
    expect(problems).toEqual([]);
  });
});
