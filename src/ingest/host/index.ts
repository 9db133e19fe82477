export { HostCollector, HOST_COLLECTORS, type HostCollectorOptions } from './collector.js';
export type { HostCollectorFn, HostPaths } from './family.js';
export { cpuCollector, statCollector, loadavgCollector, meminfoCollector, diskstatsCollector, netdevCollector, pressureCollector, DISKSTATS_DEVICE_EXCLUDE } from './procfs.js';
export { filesystemCollector, timeCollector, FS_MOUNT_POINTS_EXCLUDE, FS_TYPES_EXCLUDE } from './filesystem.js';
