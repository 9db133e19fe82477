import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { HostCollector, cpuCollector, meminfoCollector, diskstatsCollector, netdevCollector, pressureCollector, statCollector, loadavgCollector, filesystemCollector } from '../../../src/ingest/host/index.js';
import { labelsFrom, labelsGet, labelsToObject } from '../../../src/model/labels.js';
import { formatExposition, type MetricFamily } from '../../../src/model/metric-family.js';
import { isStaleNaN } from '../../../src/model/samples.js';
import { makeTemp, rmTemp } from '../../e2e/peers.js';
import type { Appendable, Appender } from '../../../src/storage/interface.js';

const root = makeTemp('procfs');
afterAll(() => rmTemp(root));
const procfs = join(root, 'proc');
const sysfs = join(root, 'sys');
mkdirSync(join(procfs, 'pressure'), { recursive: true });
mkdirSync(join(procfs, 'net'), { recursive: true });
mkdirSync(join(procfs, '1'), { recursive: true });
mkdirSync(join(sysfs, 'class/net/eth0/statistics'), { recursive: true });
writeFileSync(
  join(procfs, 'stat'),
  'cpu  300 0 200 1000 10 0 5 1 0 0\ncpu0 150 2 100 500 5 0 3 1 7 9\ncpu1 150 0 100 500 5 0 2 0 0 0\nintr 12345 1 2 3\nctxt 98765\nbtime 1700000000\nprocesses 4321\nprocs_running 3\nprocs_blocked 1\n',
);
writeFileSync(join(procfs, 'loadavg'), '0.50 0.25 0.10 2/345 6789\n');
writeFileSync(join(procfs, 'meminfo'), 'MemTotal:       16384 kB\nMemFree:         8192 kB\nActive(anon):     100 kB\nHugePages_Total:       4\n');
writeFileSync(
  join(procfs, 'diskstats'),
  '   8       0 sda 100 2 800 50 200 4 1600 70 0 120 130 5 0 40 3 9 11\n   8       1 sda1 1 1 1 1 1 1 1 1 0 1 1\n   7       0 loop0 0 0 0 0 0 0 0 0 0 0 0\n',
);
writeFileSync(
  join(procfs, 'net/dev'),
  'Inter-|   Receive |  Transmit\n face |bytes packets errs drop fifo frame compressed multicast|bytes packets errs drop fifo colls carrier compressed\n  eth0: 1000 10 1 2 3 4 5 6 2000 20 7 8 9 10 11 12\n',
);
writeFileSync(join(sysfs, 'class/net/eth0/statistics/rx_nohandler'), '13\n');
writeFileSync(join(procfs, 'pressure/io'), 'some avg10=0.00 avg60=0.00 avg300=0.00 total=1500000\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=500000\n');
writeFileSync(join(procfs, '1/mounts'), `rootfs / ext4 rw,relatime 0 0\nproc /proc proc rw 0 0\n/dev/ro /mnt/ro\\040x ext4 ro 0 0\n`);
const paths = { procfs, sysfs, rootfs: '/' };

function value(fams: MetricFamily[], name: string, labels: Record<string, string> = {}): number | undefined {
  for (const f of fams) {
    for (const s of f.samples) {
      if (labelsGet(s.labels, '__name__') !== name) continue;
      const o = labelsToObject(s.labels);
      if (Object.entries(labels).every(([k, v]) => o[k] === v)) return s.value;
    }
  }
  return undefined;
}

describe('host collectors over a fixture procfs', () => {
  it('cpu: seconds per mode from USER_HZ ticks, guest modes', async () => {
    const f = await cpuCollector.collect(paths);
    expect(value(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'user' })).toBe(1.5);
    expect(value(f, 'node_cpu_seconds_total', { cpu: '0', mode: 'nice' })).toBe(0.02);
    expect(value(f, 'node_cpu_seconds_total', { cpu: '1', mode: 'idle' })).toBe(5);
    expect(value(f, 'node_cpu_guest_seconds_total', { cpu: '0', mode: 'nice' })).toBe(0.09);
    expect(f[0]!.samples).toHaveLength(16);
  });
  it('stat and loadavg', async () => {
    const f = [...(await statCollector.collect(paths)), ...(await loadavgCollector.collect(paths))];
    expect(value(f, 'node_boot_time_seconds')).toBe(1700000000);
    expect(value(f, 'node_context_switches_total')).toBe(98765);
    expect(value(f, 'node_intr_total')).toBe(12345);
    expect(value(f, 'node_procs_blocked')).toBe(1);
    expect(value(f, 'node_load5')).toBe(0.25);
  });
  it('meminfo: kB → bytes, parentheses → underscore, unit-less fields keep no suffix', async () => {
    const f = await meminfoCollector.collect(paths);
    expect(value(f, 'node_memory_MemTotal_bytes')).toBe(16384 * 1024);
    expect(value(f, 'node_memory_Active_anon_bytes')).toBe(100 * 1024);
    expect(value(f, 'node_memory_HugePages_Total')).toBe(4);
  });
  it('diskstats: partitions and loop devices excluded, sectors → bytes, ms → s', async () => {
    const f = await diskstatsCollector().collect(paths);
    expect(value(f, 'node_disk_read_bytes_total', { device: 'sda' })).toBe(800 * 512);
    expect(value(f, 'node_disk_write_time_seconds_total', { device: 'sda' })).toBe(0.07);
    expect(value(f, 'node_disk_flush_requests_time_seconds_total', { device: 'sda' })).toBe(0.011);
    expect(value(f, 'node_disk_reads_completed_total', { device: 'sda1' })).toBeUndefined();
    expect(value(f, 'node_disk_info', { device: 'sda', major: '8', minor: '0' })).toBe(1);
  });
  it('netdev with rx_nohandler from sysfs', async () => {
    const f = await netdevCollector().collect(paths);
    expect(value(f, 'node_network_receive_frame_total', { device: 'eth0' })).toBe(4);
    expect(value(f, 'node_network_transmit_carrier_total', { device: 'eth0' })).toBe(11);
    expect(value(f, 'node_network_receive_nohandler_total', { device: 'eth0' })).toBe(13);
  });
  it('pressure: only resources present, usec → s', async () => {
    const f = await pressureCollector.collect(paths);
    expect(value(f, 'node_pressure_io_waiting_seconds_total')).toBe(1.5);
    expect(value(f, 'node_pressure_io_stalled_seconds_total')).toBe(0.5);
    expect(value(f, 'node_pressure_cpu_waiting_seconds_total')).toBeUndefined();
  });
  it('filesystem: excludes proc, unescapes mount points, statfs errors → device_error', async () => {
    const f = await filesystemCollector().collect(paths);
    expect(value(f, 'node_filesystem_size_bytes', { mountpoint: '/' })).toBeGreaterThan(0);
    expect(value(f, 'node_filesystem_readonly', { mountpoint: '/' })).toBe(0);
    expect(value(f, 'node_filesystem_device_error', { mountpoint: '/mnt/ro x', device: '/dev/ro' })).toBe(1);
    expect(value(f, 'node_filesystem_size_bytes', { mountpoint: '/proc' })).toBeUndefined();
  });
  it('a failing collector does not stop the others; exposition renders', async () => {
    const hc = new HostCollector({ ...paths, procfs: join(root, 'missing'), intervalMs: 1000, collectors: ['cpu', 'time'] });
    const fams = await hc.collect();
    expect(fams.some((f) => f.name === 'node_time_seconds')).toBe(true);
    expect(fams.some((f) => f.name === 'node_cpu_seconds_total')).toBe(false);
    expect(formatExposition(fams)).toMatch(/^# HELP node_time_seconds/m);
  });
  it('appends each tick in one transaction and marks vanished series stale', async () => {
    const committed: { labels: string; v: number }[][] = [];
    const appendable: Appendable = {
      appender(): Appender {
        const rows: { labels: string; v: number }[] = [];
        return {
          append: (_r, ls, _t, v) => (rows.push({ labels: labelsGet(ls, '__name__') + JSON.stringify(labelsToObject(ls)), v }), 1),
          appendHistogram: () => 0,
          appendExemplar: () => 0,
          updateMetadata: () => {},
          counts: { samples: 0, histograms: 0, exemplars: 0 },
          rejected: { total: 0, byReason: new Map(), first: [] },
          commit: async () => void committed.push(rows),
          rollback: () => {},
        };
      },
    };
    let devices = ['eth0', 'eth1'];
    const fake = {
      name: 'netdev',
      collect: async () => [
        { name: 'node_network_up', help: 'h', type: 'gauge' as const, samples: devices.map((d) => ({ labels: labelsFrom({ __name__: 'node_network_up', device: d }), value: 1 })) },
      ],
    };
    const hc = new HostCollector({ ...paths, intervalMs: 1000, collectors: ['netdev'], appendable, overrides: { netdev: fake } });
    await hc.tick();
    expect(committed).toHaveLength(1);
    expect(committed[0]!.map((r) => r.v)).toEqual([1, 1]);
    devices = ['eth0'];
    await hc.tick();
    expect(committed).toHaveLength(2);
    const second = committed[1]!;
    expect(second).toHaveLength(2);
    expect(second.find((r) => r.labels.includes('eth0'))!.v).toBe(1);
    expect(isStaleNaN(second.find((r) => r.labels.includes('eth1'))!.v)).toBe(true);
    await hc.tick();
    expect(committed[2]!).toHaveLength(1); // stale once, then forgotten
    const labelled = new HostCollector({ ...paths, intervalMs: 1000, collectors: ['netdev'], appendable, overrides: { netdev: fake }, targetLabels: { job: 'node', instance: 'n1' } });
    await labelled.tick();
    expect(committed.at(-1)![0]!.labels).toBe('node_network_up' + JSON.stringify({ __name__: 'node_network_up', device: 'eth0', instance: 'n1', job: 'node' }));
  });
});
