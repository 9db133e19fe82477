/**
 * The faulty correlation backends of the correlation benchmarks, on loopback: an Elasticsearch
 * that holds every search for 30 s while "slow" (then answers `esAnswer`) and at once after
 * {@link FaultyBackends.recover}, and a Jaeger port that refuses connections until recovery,
 * when a Jaeger answering empty searches starts listening on it.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** Listens on 127.0.0.1 (`port` 0 = any free port) and returns the port. */
export async function listen(server: http.Server, port = 0): Promise<number> {
  await new Promise<void>((r, j) => {
    server.once('error', j);
    server.listen(port, '127.0.0.1', () => r());
  });
  return (server.address() as AddressInfo).port;
}

/** See the file comment. */
export interface FaultyBackends {
  readonly esUrl: string;
  readonly jaegerUrl: string;
  /** Search requests Elasticsearch received. */
  esRequests(): number;
  /** Elasticsearch answers at once (held requests are dropped); Jaeger starts listening. */
  recover(): Promise<void>;
  close(): Promise<void>;
}

/** An Elasticsearch 8 search answer with two error logs. */
const ES_ANSWER = JSON.stringify({
  took: 3,
  timed_out: false,
  _shards: { total: 1, successful: 1, skipped: 0, failed: 0 },
  hits: { total: { value: 10, relation: 'eq' }, max_score: null, hits: [] },
  aggregations: { errors: { doc_count: 2, top_messages: { buckets: [{ key: 'boom', doc_count: 2 }] }, first_error: { value: null }, last_error: { value: null }, trace_ids: { buckets: [] }, samples: { hits: { hits: [] } } } },
});

/** Starts the backends in their faulty state. */
export async function startFaultyBackends(esAnswer = ES_ANSWER): Promise<FaultyBackends> {
  let slow = true;
  let requests = 0;
  const held = new Set<http.ServerResponse>();
  const es = http.createServer((req, res) => {
    requests++;
    req.resume();
    const answer = (): void => {
      held.delete(res);
      if (res.destroyed) return;
      res.writeHead(200, { 'content-type': 'application/json', 'x-elastic-product': 'Elasticsearch' });
      res.end(esAnswer);
    };
    if (!slow) return answer();
    held.add(res);
    setTimeout(answer, 30_000).unref();
  });
  const esPort = await listen(es);
  // A port that refuses connections: bound, then closed.
  const probe = http.createServer();
  const jaegerPort = await listen(probe);
  await new Promise<void>((r) => probe.close(() => r()));
  let jaeger: http.Server | undefined;
  return {
    esUrl: `http://127.0.0.1:${esPort}`,
    jaegerUrl: `http://127.0.0.1:${jaegerPort}`,
    esRequests: () => requests,
    recover: async () => {
      slow = false;
      for (const res of held) res.destroy();
      jaeger = http.createServer((req, res) => {
        req.resume();
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ data: [], total: 0, limit: 0, offset: 0, errors: null }));
      });
      await listen(jaeger, jaegerPort);
    },
    close: async () => {
      es.closeAllConnections();
      jaeger?.closeAllConnections();
      await Promise.all([new Promise((r) => es.close(r)), jaeger ? new Promise((r) => jaeger!.close(r)) : undefined]);
    },
  };
}

/** The raw `correlation:` settings both benchmarks use against these backends. */
export function correlationSettings(b: FaultyBackends, cooldownMs: number): Record<string, unknown> {
  return {
    elasticsearch: { nodes: [b.esUrl], index: 'logs-*' },
    jaeger: { query_url: b.jaegerUrl },
    timeout: '2s',
    max_concurrent: 4,
    cache_ttl: '1m',
    breaker: { failures: 5, cooldown: `${cooldownMs}ms` },
  };
}
