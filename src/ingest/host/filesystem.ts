/**
 * `filesystem` collector (node_filesystem_*{device,fstype,mountpoint}) and `time` collector.
 * Mounts come from <procfs>/1/mounts (falling back to <procfs>/mounts); each mount point is
 * statted under <rootfs> and reported without the rootfs prefix, as node_exporter does.
 */
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { FamilyBuilder, readBounded, type HostCollectorFn, type HostPaths } from './family.js';
import type { MetricFamily } from '../../model/metric-family.js';

/** node_exporter 1.5's default mount point exclusion. */
export const FS_MOUNT_POINTS_EXCLUDE = /^\/(dev|proc|run\/credentials\/.+|sys|var\/lib\/docker\/.+|var\/lib\/containers\/storage\/.+)($|\/)/;
/** node_exporter 1.5's default filesystem type exclusion. */
export const FS_TYPES_EXCLUDE =
  /^(autofs|binfmt_misc|bpf|cgroup2?|configfs|debugfs|devpts|devtmpfs|fusectl|hugetlbfs|iso9660|mqueue|nsfs|overlay|proc|procfs|pstore|rpc_pipefs|securityfs|selinuxfs|squashfs|sysfs|tracefs)$/;

/** Octal escapes in /proc/mounts (`\040` for space). */
function unescapeMount(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** Options of {@link filesystemCollector}. */
export interface FilesystemOptions {
  readonly mountPointsExclude?: RegExp;
  readonly fsTypesExclude?: RegExp;
  /** statfs timeout per mount (a hung NFS mount must not hang collection). */
  readonly statTimeoutMs?: number;
}

/** `filesystem` collector. */
export function filesystemCollector(opts: FilesystemOptions = {}): HostCollectorFn {
  const mpEx = opts.mountPointsExclude ?? FS_MOUNT_POINTS_EXCLUDE;
  const fsEx = opts.fsTypesExclude ?? FS_TYPES_EXCLUDE;
  const timeout = opts.statTimeoutMs ?? 5000;
  return {
    name: 'filesystem',
    async collect(p: HostPaths): Promise<MetricFamily[]> {
      const text = await readBounded(join(p.procfs, '1/mounts')).catch(() => readBounded(join(p.procfs, 'mounts')));
      const b = {
        size: new FamilyBuilder('node_filesystem_size_bytes', 'Filesystem size in bytes.', 'gauge'),
        free: new FamilyBuilder('node_filesystem_free_bytes', 'Filesystem free space in bytes.', 'gauge'),
        avail: new FamilyBuilder('node_filesystem_avail_bytes', 'Filesystem space available to non-root users in bytes.', 'gauge'),
        files: new FamilyBuilder('node_filesystem_files', 'Filesystem total file nodes.', 'gauge'),
        filesFree: new FamilyBuilder('node_filesystem_files_free', 'Filesystem total free file nodes.', 'gauge'),
        ro: new FamilyBuilder('node_filesystem_readonly', 'Filesystem read-only status.', 'gauge'),
        err: new FamilyBuilder('node_filesystem_device_error', 'Whether an error occurred while getting statistics for the given device.', 'gauge'),
      };
      const seen = new Set<string>();
      const rootPrefix = p.rootfs === '/' ? '' : p.rootfs.replace(/\/$/, '');
      for (const line of text.split('\n')) {
        const f = line.split(' ');
        if (f.length < 4) continue;
        const device = unescapeMount(f[0]!);
        let mountpoint = unescapeMount(f[1]!);
        const fstype = f[2]!;
        const options = f[3]!.split(',');
        if (rootPrefix && mountpoint.startsWith(rootPrefix)) mountpoint = mountpoint.slice(rootPrefix.length) || '/';
        if (mpEx.test(mountpoint) || fsEx.test(fstype)) continue;
        const labels = { device, fstype, mountpoint };
        const key = `${device}\0${fstype}\0${mountpoint}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const ro = options.includes('ro') ? 1 : 0;
        try {
          const st = await withTimeout(statfs(join(p.rootfs, mountpoint)), timeout);
          b.size.add(st.blocks * st.bsize, labels);
          b.free.add(st.bfree * st.bsize, labels);
          b.avail.add(st.bavail * st.bsize, labels);
          b.files.add(st.files, labels);
          b.filesFree.add(st.ffree, labels);
          b.ro.add(ro, labels);
          b.err.add(0, labels);
        } catch {
          b.err.add(1, labels);
        }
      }
      return Object.values(b).map((x) => x.build());
    },
  };
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let t: NodeJS.Timeout | undefined;
  return Promise.race([p, new Promise<never>((_r, rej) => (t = setTimeout(() => rej(new Error('statfs timeout')), ms)))]).finally(() => clearTimeout(t));
}

/** `time` collector: node_time_seconds, node_time_zone_offset_seconds, clocksource info. */
export function timeCollector(now: () => number = Date.now): HostCollectorFn {
  return {
    name: 'time',
    async collect(p: HostPaths): Promise<MetricFamily[]> {
      const d = new Date(now());
      const zone = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(d).find((x) => x.type === 'timeZoneName')?.value ?? 'UTC';
      const out = [
        new FamilyBuilder('node_time_seconds', 'System time in seconds since epoch (1970).', 'gauge').add(d.getTime() / 1000).build(),
        new FamilyBuilder('node_time_zone_offset_seconds', 'System time zone offset in seconds.', 'gauge').add(-d.getTimezoneOffset() * 60, { time_zone: zone }).build(),
      ];
      const base = join(p.sysfs, 'devices/system/clocksource');
      const avail = new FamilyBuilder('node_time_clocksource_available_info', 'Available clocksources read from \'/sys/devices/system/clocksource\'.', 'gauge');
      const cur = new FamilyBuilder('node_time_clocksource_current_info', 'Current clocksource read from \'/sys/devices/system/clocksource\'.', 'gauge');
      for (let i = 0; i < 16; i++) {
        const dir = join(base, `clocksource${i}`);
        const a = await readBounded(join(dir, 'available_clocksource')).catch(() => undefined);
        if (a === undefined) break;
        for (const cs of a.trim().split(/\s+/).filter(Boolean)) avail.add(1, { clocksource: cs, device: String(i) });
        const c = await readBounded(join(dir, 'current_clocksource')).catch(() => '');
        if (c.trim()) cur.add(1, { clocksource: c.trim(), device: String(i) });
      }
      if (avail.build().samples.length) out.push(avail.build(), cur.build());
      return out;
    },
  };
}
