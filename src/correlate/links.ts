/**
 * Links attached to alerts: a Kibana Discover URL (rison app/global state with a KQL query) and
 * a Jaeger UI search URL. Pure functions.
 */

/** Encodes a string as a rison string literal (always quoted: `'it!'s'`). */
export function risonString(s: string): string {
  return "'" + s.replace(/!/g, '!!').replace(/'/g, "!'") + "'";
}

/** A KQL string literal (`"a \"b\""`). */
export function kqlString(s: string): string {
  return '"' + s.replace(/\\/g, '\\\\').replace(/"/g, '\\"') + '"';
}

/** Field conditions of a KQL query; values with several entries become `field:("a" or "b")`. */
export function kqlQuery(conds: readonly { readonly field: string; readonly values: readonly string[] }[]): string {
  return conds
    .filter((c) => c.values.length > 0)
    .map((c) => (c.values.length === 1 ? `${c.field}:${kqlString(c.values[0]!)}` : `${c.field}:(${c.values.map(kqlString).join(' or ')})`))
    .join(' and ');
}

/**
 * A Kibana Discover link: `<kibana>/app/discover#/?_g=(time:(from:'…',to:'…'))&_a=(query:(language:kuery,query:'…'))`
 * with the rison values URL-encoded. Times are ms.
 */
export function kibanaDiscoverUrl(kibanaUrl: string, kql: string, from: number, to: number): string {
  const g = `(filters:!(),time:(from:${risonString(new Date(from).toISOString())},to:${risonString(new Date(to).toISOString())}))`;
  const a = `(query:(language:kuery,query:${risonString(kql)}))`;
  return `${kibanaUrl}/app/discover#/?_g=${encodeURIComponent(g)}&_a=${encodeURIComponent(a)}`;
}

/** A Jaeger UI search link for a service's traces in [from, to] ms, optionally errors only. */
export function jaegerSearchUrl(uiUrl: string, service: string, from: number, to: number, limit: number, errorsOnly: boolean): string {
  const q = new URLSearchParams({ service, start: String(from * 1000), end: String(to * 1000), limit: String(limit), lookback: 'custom' });
  if (errorsOnly) q.set('tags', JSON.stringify({ error: 'true' }));
  return `${uiUrl}/search?${q.toString()}`;
}

/** A Jaeger UI link to one trace. */
export function jaegerTraceUrl(uiUrl: string, traceId: string): string {
  return `${uiUrl}/trace/${encodeURIComponent(traceId)}`;
}
