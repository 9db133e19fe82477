/** Small builder for host metric families (node_exporter-compatible names). */
import { labelsFrom } from '../../model/labels.js';
import type { MetricFamily } from '../../model/metric-family.js';

/** Accumulates the samples of one family. */
export class FamilyBuilder {
  private readonly samples: { labels: ReturnType<typeof labelsFrom>; value: number }[] = [];

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
  ) {}

  /** Adds a sample; `labels` must not contain __name__. */
  add(value: number, labels: Record<string, string> = {}): this {
    this.samples.push({ labels: labelsFrom({ ...labels, __name__: this.name }), value });
    return this;
  }

  /** The finished family. */
  build(): MetricFamily {
    return { name: this.name, help: this.help, type: this.type, samples: this.samples };
  }
}

/** Paths of the host filesystems (a DaemonSet mounts the host's at /host). */
export interface HostPaths {
  readonly procfs: string;
  readonly sysfs: string;
  readonly rootfs: string;
}

/** A collector: reads the host and returns families. Throws on unreadable sources. */
export interface HostCollectorFn {
  readonly name: string;
  collect(paths: HostPaths): Promise<MetricFamily[]>;
}

/** Reads a file with a size bound (procfs files report size 0, so read up to `max`). */
export async function readBounded(path: string, max = 4 * 1024 * 1024): Promise<string> {
  const { open } = await import('node:fs/promises');
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(64 * 1024);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, null);
      if (bytesRead === 0) break;
      total += bytesRead;
      if (total > max) throw new Error(`${path}: larger than ${max} bytes`);
      chunks.push(Buffer.from(buf.subarray(0, bytesRead)));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    await fh.close();
  }
}
