/** Shared builders for scrape tests. */
import type { GlobalConfig, ScrapeConfig } from '../../../src/config/types.js';

export const GLOBAL: GlobalConfig = { scrapeInterval: 60_000, scrapeTimeout: 10_000, evaluationInterval: 60_000, externalLabels: {} };

export function scrapeConfig(over: Partial<ScrapeConfig> = {}): ScrapeConfig {
  return {
    jobName: 'job1',
    scrapeInterval: 15_000,
    scrapeTimeout: 10_000,
    metricsPath: '/metrics',
    scheme: 'http',
    params: {},
    honorLabels: false,
    honorTimestamps: true,
    bodySizeLimit: 0,
    sampleLimit: 0,
    staticConfigs: [],
    fileSdConfigs: [],
    relabelConfigs: [],
    metricRelabelConfigs: [],
    ...over,
  };
}
