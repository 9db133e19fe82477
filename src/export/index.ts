/** Exporters of synthesized series: `/metrics` text exposition and remote-write out. */
export { DEFAULT_HELP, metricsText, SynthesizedSeries, TEXT_CONTENT_TYPE, type ExpositionOptions, type SynthesizedSeriesOptions } from './synthesized.js';
export { RemoteWriteSender, RW_DEFAULTS, toWriteSeries, type RemoteWriteSenderOptions } from './remote-write-out.js';
export { remoteWriteOutMetrics, type DropReason, type RemoteWriteOutMetrics } from './metrics.js';
export { escapeHelp, escapeLabelValue, formatFloat, isValidLabelName, isValidMetricName } from './text-format.js';
