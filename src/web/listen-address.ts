/** Parsing of `--web.listen-address` values (kept apart from the server so the CLI loads fast). */

/** A parsed listen address. `host` undefined = all interfaces. */
export interface ListenAddress {
  readonly host: string | undefined;
  readonly port: number;
}

/** Parses `host:port`, `:port`, `[v6]:port`. Throws with a clear message otherwise. */
export function parseListenAddress(s: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(s);
  const port = m ? Number(m[3]) : NaN;
  if (!m || !(port >= 0 && port <= 65535)) throw new Error(`invalid listen address ${JSON.stringify(s)}: expected host:port, e.g. 0.0.0.0:9477 or :9477`);
  const host = m[1] ?? m[2];
  return { host: host === '' ? undefined : host, port };
}
