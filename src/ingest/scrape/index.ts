/** Scraping: exposition parsers, targets, file_sd, scrape loops and the manager. */
export * from './exposition.js';
export { parseText } from './parser-text.js';
export { parseOpenMetrics, MAX_EXEMPLAR_LABEL_RUNES } from './parser-openmetrics.js';
export { parseExposition, parseByContentType } from './parse.js';
export * from './targets.js';
export { FileSD, parseFileSDContent, expandFilePattern, DEFAULT_MAX_FILE_SD_BYTES, type FileSDOptions } from './file-sd.js';
export { ScrapeMetrics, type ScrapeFailureReason } from './metrics.js';
export { fetchScrapeBody, ScrapeError, SCRAPE_ACCEPT, DEFAULT_BODY_SIZE_LIMIT, type FetchedBody, type FetchOptions } from './scrape-http.js';
export { ScrapeLoop, mergeTargetLabels, REPORT_SERIES, type ScrapeLoopOptions, type ScrapeLoopState, type ScrapeReport, type ScrapeFetch, type TargetHealth } from './scrape-loop.js';
export { ScrapeManager, type ScrapeManagerOptions, type TargetInfo } from './manager.js';
