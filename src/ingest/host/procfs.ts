/**
 * Collectors over /proc with node_exporter 1.5's metric names, labels and units:
 * cpu, stat, loadavg, meminfo, diskstats, netdev, pressure.
 */
import { join } from 'node:path';
import { FamilyBuilder, readBounded, type HostCollectorFn, type HostPaths } from './family.js';
import type { MetricFamily } from '../../model/metric-family.js';

/** Kernel USER_HZ as node_exporter assumes it. */
const USER_HZ = 100;

const CPU_MODES = ['user', 'nice', 'system', 'idle', 'iowait', 'irq', 'softirq', 'steal'] as const;

function num(s: string | undefined): number {
  const v = Number(s);
  return Number.isFinite(v) ? v : 0;
}

/** `cpu` collector: node_cpu_seconds_total{cpu,mode}, node_cpu_guest_seconds_total{cpu,mode}. */
export const cpuCollector: HostCollectorFn = {
  name: 'cpu',
  async collect(p: HostPaths): Promise<MetricFamily[]> {
    const text = await readBounded(join(p.procfs, 'stat'));
    const secs = new FamilyBuilder('node_cpu_seconds_total', 'Seconds the CPUs spent in each mode.', 'counter');
    const guest = new FamilyBuilder('node_cpu_guest_seconds_total', 'Seconds the CPUs spent in guests (VMs) for each mode.', 'counter');
    for (const line of text.split('\n')) {
      const m = /^cpu(\d+)\s+(.*)$/.exec(line);
      if (!m) continue;
      const cpu = m[1]!;
      const f = m[2]!.trim().split(/\s+/).map(num);
      CPU_MODES.forEach((mode, i) => secs.add((f[i] ?? 0) / USER_HZ, { cpu, mode }));
      guest.add((f[8] ?? 0) / USER_HZ, { cpu, mode: 'user' });
      guest.add((f[9] ?? 0) / USER_HZ, { cpu, mode: 'nice' });
    }
    return [secs.build(), guest.build()];
  },
};

/** `stat` collector: boot time, context switches, forks, interrupts, procs running/blocked. */
export const statCollector: HostCollectorFn = {
  name: 'stat',
  async collect(p: HostPaths): Promise<MetricFamily[]> {
    const text = await readBounded(join(p.procfs, 'stat'));
    const field = (key: string): number => {
      const m = new RegExp(`^${key}\\s+(\\d+)`, 'm').exec(text);
      return m ? num(m[1]) : 0;
    };
    return [
      new FamilyBuilder('node_boot_time_seconds', 'Node boot time, in unixtime.', 'gauge').add(field('btime')).build(),
      new FamilyBuilder('node_context_switches_total', 'Total number of context switches.', 'counter').add(field('ctxt')).build(),
      new FamilyBuilder('node_forks_total', 'Total number of forks.', 'counter').add(field('processes')).build(),
      new FamilyBuilder('node_intr_total', 'Total number of interrupts serviced.', 'counter').add(field('intr')).build(),
      new FamilyBuilder('node_procs_blocked', 'Number of processes blocked waiting for I/O to complete.', 'gauge').add(field('procs_blocked')).build(),
      new FamilyBuilder('node_procs_running', 'Number of processes in runnable state.', 'gauge').add(field('procs_running')).build(),
    ];
  },
};

/** `loadavg` collector: node_load1, node_load5, node_load15. */
export const loadavgCollector: HostCollectorFn = {
  name: 'loadavg',
  async collect(p: HostPaths): Promise<MetricFamily[]> {
    const f = (await readBounded(join(p.procfs, 'loadavg'))).trim().split(/\s+/);
    return [
      new FamilyBuilder('node_load1', '1m load average.', 'gauge').add(num(f[0])).build(),
      new FamilyBuilder('node_load5', '5m load average.', 'gauge').add(num(f[1])).build(),
      new FamilyBuilder('node_load15', '15m load average.', 'gauge').add(num(f[2])).build(),
    ];
  },
};

/** `meminfo` collector: node_memory_<Field>_bytes (or without _bytes for unit-less fields). */
export const meminfoCollector: HostCollectorFn = {
  name: 'meminfo',
  async collect(p: HostPaths): Promise<MetricFamily[]> {
    const text = await readBounded(join(p.procfs, 'meminfo'));
    const out: MetricFamily[] = [];
    for (const line of text.split('\n')) {
      const m = /^([^:]+):\s+(\d+)\s*(kB)?\s*$/.exec(line);
      if (!m) continue;
      const key = m[1]!.replace(/\((.*)\)/, '_$1');
      const kb = m[3] === 'kB';
      const name = `node_memory_${key}${kb ? '_bytes' : ''}`;
      out.push(new FamilyBuilder(name, `Memory information field ${key}${kb ? '_bytes' : ''}.`, 'gauge').add(num(m[2]) * (kb ? 1024 : 1)).build());
    }
    return out;
  },
};

const DISK_FIELDS: readonly (readonly [name: string, help: string, scale: number, type: 'counter' | 'gauge'])[] = [
  ['node_disk_reads_completed_total', 'The total number of reads completed successfully.', 1, 'counter'],
  ['node_disk_reads_merged_total', 'The total number of reads merged.', 1, 'counter'],
  ['node_disk_read_bytes_total', 'The total number of bytes read successfully.', 512, 'counter'],
  ['node_disk_read_time_seconds_total', 'The total number of seconds spent by all reads.', 0.001, 'counter'],
  ['node_disk_writes_completed_total', 'The total number of writes completed successfully.', 1, 'counter'],
  ['node_disk_writes_merged_total', 'The number of writes merged.', 1, 'counter'],
  ['node_disk_written_bytes_total', 'The total number of bytes written successfully.', 512, 'counter'],
  ['node_disk_write_time_seconds_total', 'This is the total number of seconds spent by all writes.', 0.001, 'counter'],
  ['node_disk_io_now', 'The number of I/Os currently in progress.', 1, 'gauge'],
  ['node_disk_io_time_seconds_total', 'Total seconds spent doing I/Os.', 0.001, 'counter'],
  ['node_disk_io_time_weighted_seconds_total', 'The weighted # of seconds spent doing I/Os.', 0.001, 'counter'],
  ['node_disk_discards_completed_total', 'The total number of discards completed successfully.', 1, 'counter'],
  ['node_disk_discards_merged_total', 'The total number of discards merged.', 1, 'counter'],
  ['node_disk_discarded_sectors_total', 'The total number of sectors discarded successfully.', 1, 'counter'],
  ['node_disk_discard_time_seconds_total', 'This is the total number of seconds spent by all discards.', 0.001, 'counter'],
  ['node_disk_flush_requests_total', 'The total number of flush requests completed successfully', 1, 'counter'],
  ['node_disk_flush_requests_time_seconds_total', 'This is the total number of seconds spent by all flush requests.', 0.001, 'counter'],
];

/** Default device exclusion of node_exporter's diskstats collector (partitions, loop, ram). */
export const DISKSTATS_DEVICE_EXCLUDE = /^(ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$/;

/** `diskstats` collector. */
export function diskstatsCollector(exclude: RegExp = DISKSTATS_DEVICE_EXCLUDE): HostCollectorFn {
  return {
    name: 'diskstats',
    async collect(p: HostPaths): Promise<MetricFamily[]> {
      const text = await readBounded(join(p.procfs, 'diskstats'));
      const fams = DISK_FIELDS.map(([n, h, , t]) => new FamilyBuilder(n, h, t));
      const info = new FamilyBuilder('node_disk_info', 'Info of /sys/block/<block_device>.', 'gauge');
      for (const line of text.split('\n')) {
        const f = line.trim().split(/\s+/);
        if (f.length < 14) continue;
        const device = f[2]!;
        if (exclude.test(device)) continue;
        info.add(1, { device, major: f[0]!, minor: f[1]! });
        DISK_FIELDS.forEach(([, , scale], i) => {
          const raw = f[3 + i];
          if (raw !== undefined) fams[i]!.add(num(raw) * scale, { device });
        });
      }
      return [info.build(), ...fams.map((f) => f.build()).filter((f) => f.samples.length > 0)];
    },
  };
}

const NETDEV_RX = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'frame', 'compressed', 'multicast'] as const;
const NETDEV_TX = ['bytes', 'packets', 'errs', 'drop', 'fifo', 'colls', 'carrier', 'compressed'] as const;

/** `netdev` collector: node_network_{receive,transmit}_*_total{device}. */
export function netdevCollector(exclude?: RegExp): HostCollectorFn {
  return {
    name: 'netdev',
    async collect(p: HostPaths): Promise<MetricFamily[]> {
      const text = await readBounded(join(p.procfs, 'net/dev'));
      const fams = new Map<string, FamilyBuilder>();
      const fam = (dir: string, what: string): FamilyBuilder => {
        const name = `node_network_${dir}_${what}_total`;
        let b = fams.get(name);
        if (!b) fams.set(name, (b = new FamilyBuilder(name, `Network device statistic ${dir}_${what}.`, 'counter')));
        return b;
      };
      for (const line of text.split('\n').slice(2)) {
        const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
        if (!m) continue;
        const device = m[1]!.trim();
        if (exclude?.test(device)) continue;
        const f = m[2]!.trim().split(/\s+/).map(num);
        NETDEV_RX.forEach((w, i) => fam('receive', w).add(f[i] ?? 0, { device }));
        NETDEV_TX.forEach((w, i) => fam('transmit', w).add(f[8 + i] ?? 0, { device }));
        // node_exporter 1.5 reads link stats over netlink, which also reports rx_nohandler.
        const nohandler = await readBounded(join(p.sysfs, 'class/net', device, 'statistics/rx_nohandler')).catch(() => undefined);
        if (nohandler !== undefined) fam('receive', 'nohandler').add(num(nohandler.trim()), { device });
      }
      return [...fams.values()].map((b) => b.build());
    },
  };
}

/** `pressure` collector (PSI), present on kernels ≥ 4.20 with PSI enabled. */
export const pressureCollector: HostCollectorFn = {
  name: 'pressure',
  async collect(p: HostPaths): Promise<MetricFamily[]> {
    const out: MetricFamily[] = [];
    const total = (text: string, kind: 'some' | 'full'): number | undefined => {
      const m = new RegExp(`^${kind} .*total=(\\d+)`, 'm').exec(text);
      return m ? num(m[1]) / 1e6 : undefined;
    };
    const read = (res: string): Promise<string | undefined> => readBounded(join(p.procfs, 'pressure', res)).catch(() => undefined);
    const [cpu, io, mem] = await Promise.all([read('cpu'), read('io'), read('memory')]);
    const add = (name: string, help: string, v: number | undefined): void => {
      if (v !== undefined) out.push(new FamilyBuilder(name, help, 'counter').add(v).build());
    };
    if (cpu) add('node_pressure_cpu_waiting_seconds_total', 'Total time in seconds that processes have waited for CPU time', total(cpu, 'some'));
    if (io) {
      add('node_pressure_io_waiting_seconds_total', 'Total time in seconds that processes have waited due to IO congestion', total(io, 'some'));
      add('node_pressure_io_stalled_seconds_total', 'Total time in seconds no process could make progress due to IO congestion', total(io, 'full'));
    }
    if (mem) {
      add('node_pressure_memory_waiting_seconds_total', 'Total time in seconds that processes have waited for memory', total(mem, 'some'));
      add('node_pressure_memory_stalled_seconds_total', 'Total time in seconds no process could make progress due to memory congestion', total(mem, 'full'));
    }
    return out;
  },
};
