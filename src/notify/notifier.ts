/**
 * Notifier contract: Alertmanager API v2 alerts and the sender that queues, batches and retries
 * them. The rule manager turns rule `Alert`s into {@link AmAlert}s and calls `send`.
 */

/** An alert as POSTed to Alertmanager's `/api/v2/alerts` (RFC 3339 times). */
export interface AmAlert {
  readonly labels: Readonly<Record<string, string>>;
  readonly annotations: Readonly<Record<string, string>>;
  readonly startsAt: string;
  readonly endsAt: string;
  readonly generatorURL: string;
}

/** Sends alerts; `send` enqueues and returns at once (never throws, never blocks). */
export interface Notifier {
  send(alerts: readonly AmAlert[]): void;
  /** Waits until the queue is empty or `timeoutMs` passes (tests, shutdown). */
  flush(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
}
