/** The in-memory head (implements `Storage`). */
export { Head, HeadCommitError, normalizeLabels, type HeadOptions } from './head.js';
export { HeadAppender, MAX_REJECTIONS_KEPT } from './appender.js';
export { HeadQuerier } from './querier.js';
export { MemPostings, intersectSorted, subtractSorted, union } from './postings.js';
