export * from './labels.js';
export * from './matchers.js';
export * from './samples.js';
export * from './histogram.js';
export * from './errors.js';
export * from './clock.js';
export * from './logger.js';
