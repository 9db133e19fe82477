/** Alertmanager notifier: the contract and its implementation. */
export type { AmAlert, Notifier } from './notifier.js';
export {
  AlertmanagerNotifier,
  alertmanagerURLs,
  DEFAULT_BATCH_SIZE,
  DEFAULT_QUEUE_CAPACITY,
  encodeAlerts,
  makeNotifyFunc,
  toAmAlerts,
  type AlertmanagerNotifierOptions,
} from './alertmanager.js';
export { authorizationHeader, createPoster, HttpClientError, parseRetryAfter, redactURL, type FetchLike, type PostFunc, type PostRequest, type PostResponse } from './http-client.js';
export { Backoff, BoundedQueue, sleep, Waker, type BackoffOptions } from './queue.js';
export { notifierMetrics, type NotifierMetrics } from './metrics.js';
