/** Self-metrics of the head (prom-client). */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { HeadStats, RejectReason } from '../interface.js';

/** What the head reports into. */
export interface HeadMetrics {
  appended(n: number): void;
  rejected(reason: RejectReason, n: number): void;
}

/** Metrics sink that does nothing (no registry configured). */
export const nopHeadMetrics: HeadMetrics = { appended: () => {}, rejected: () => {} };

/** Registers `vigil_head_*` metrics in `registry`; gauges read `stats()` at collect time. */
export function registerHeadMetrics(registry: Registry, stats: () => HeadStats): HeadMetrics {
  new Gauge({
    name: 'vigil_head_series',
    help: 'Number of series in the head.',
    registers: [registry],
    collect() {
      this.set(stats().series);
    },
  });
  new Gauge({
    name: 'vigil_head_chunks',
    help: 'Number of chunks in the head.',
    registers: [registry],
    collect() {
      this.set(stats().chunks);
    },
  });
  new Gauge({
    name: 'vigil_head_chunks_bytes',
    help: 'Bytes of compressed chunk data in the head.',
    registers: [registry],
    collect() {
      this.set(stats().chunkBytes);
    },
  });
  new Gauge({
    name: 'vigil_head_samples',
    help: 'Samples held in the head.',
    registers: [registry],
    collect() {
      this.set(stats().samples);
    },
  });
  const appended = new Counter({
    name: 'vigil_head_samples_appended_total',
    help: 'Samples (floats and histograms) committed to the head.',
    registers: [registry],
  });
  const rejected = new Counter({
    name: 'vigil_head_samples_rejected_total',
    help: 'Samples rejected by the head, by reason.',
    labelNames: ['reason'],
    registers: [registry],
  });
  return {
    appended: (n) => {
      if (n > 0) appended.inc(n);
    },
    rejected: (reason, n) => {
      if (n > 0) rejected.inc({ reason }, n);
    },
  };
}
