/** Test doubles for the notifier: a scriptable `fetch` and config builders. */
import type { AlertmanagerConfig } from '../../src/config/types.js';
import type { FetchLike } from '../../src/notify/http-client.js';
import type { AmAlert } from '../../src/notify/notifier.js';

/** One recorded request. */
export interface Call {
  readonly url: string;
  readonly headers: Record<string, string>;
  readonly body: unknown;
}

/** What the fake answers: a status, 'network' (rejects), or 'hang' (waits for the abort signal). */
export type Answer = number | 'network' | 'hang' | Promise<number>;

/** A fake fetch: `answer(call index, url)` decides; every call is recorded. */
export function fakeFetch(answer: (i: number, url: string) => Answer = () => 200): { fetch: FetchLike; calls: Call[] } {
  const calls: Call[] = [];
  const fetch: FetchLike = async (url, init) => {
    const body = typeof init.body === 'string' ? (JSON.parse(init.body) as unknown) : init.body;
    calls.push({ url, headers: init.headers, body });
    const a = answer(calls.length - 1, url);
    if (a === 'network') throw new TypeError('fetch failed: ECONNREFUSED');
    if (a === 'hang') {
      return new Promise((_res, rej) => {
        init.signal.addEventListener('abort', () => rej(init.signal.reason as Error), { once: true });
      });
    }
    const status = await a;
    return new Response(status === 204 ? null : '', { status });
  };
  return { fetch, calls };
}

/** An `alertmanagers` entry with static targets. */
export function amConfig(targets: string[], extra: Partial<AlertmanagerConfig> = {}): AlertmanagerConfig {
  return { scheme: 'http', pathPrefix: '', timeout: 1000, apiVersion: 'v2', staticConfigs: [{ targets, labels: {} }], ...extra };
}

/** A minimal alert named `name`. */
export function amAlert(name: string, labels: Record<string, string> = {}): AmAlert {
  return { labels: { alertname: name, ...labels }, annotations: { summary: `about ${name}` }, startsAt: '2026-01-01T00:00:00.000Z', endsAt: '2026-01-01T00:10:00.000Z', generatorURL: 'http://vigil/graph' };
}

/** Names of the alerts in all recorded bodies, in order. */
export function sentNames(calls: readonly Call[]): string[] {
  return calls.flatMap((c) => (c.body as { labels: Record<string, string> }[]).map((a) => a.labels.alertname ?? ''));
}
