/**
 * kubeconfig files (`~/.kube/config`) for running discovery outside a cluster: the current
 * context's cluster (server, CA file or data, insecure-skip-tls-verify, tls-server-name) and user
 * (token, tokenFile, client certificate/key file or data, basic auth). Relative paths resolve
 * against the kubeconfig's directory, as kubectl does. exec/auth-provider plugins are refused.
 */
import { open } from 'node:fs/promises';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ValidationError } from '../../../model/errors.js';
import { isRecord, str } from './objects.js';

/** Max size of a kubeconfig file. */
export const MAX_KUBECONFIG_BYTES = 1 << 20;

/** What discovery needs from a kubeconfig. */
export interface KubeconfigCredentials {
  readonly server: string;
  readonly namespace?: string;
  readonly ca?: Buffer;
  readonly insecureSkipVerify: boolean;
  readonly serverName?: string;
  readonly token?: string;
  /** Re-read on every request (rotation). */
  readonly tokenFile?: string;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly basicAuth?: { readonly username: string; readonly password: string };
}

/** Reads a whole file, refusing more than `max` bytes (checked before and while reading). */
export async function readFileBounded(file: string, max: number): Promise<Buffer> {
  const fh = await open(file, 'r');
  try {
    const st = await fh.stat();
    if (st.size > max) throw new ValidationError(`${file}: file is ${st.size} bytes, more than the limit of ${max}`);
    const buf = Buffer.alloc(st.size + 1);
    let n = 0;
    for (;;) {
      const { bytesRead } = await fh.read(buf, n, buf.length - n, n);
      if (bytesRead === 0) break;
      n += bytesRead;
      if (n > max) throw new ValidationError(`${file}: file is larger than the limit of ${max} bytes`);
      if (n === buf.length) break;
    }
    return buf.subarray(0, n);
  } finally {
    await fh.close();
  }
}

function named(list: unknown, name: string, what: string, file: string): Record<string, unknown> {
  if (!Array.isArray(list)) throw new ValidationError(`${file}: ${what}s must be a list`);
  for (const e of list) {
    if (isRecord(e) && e['name'] === name) {
      const inner = e[what];
      if (!isRecord(inner)) throw new ValidationError(`${file}: ${what} ${JSON.stringify(name)} has no ${what} mapping`);
      return inner;
    }
  }
  throw new ValidationError(`${file}: ${what} ${JSON.stringify(name)} not found`);
}

function b64(x: unknown, what: string, file: string): Buffer | undefined {
  const s = str(x);
  if (s === '') return undefined;
  if (!/^[A-Za-z0-9+/=\s]+$/.test(s)) throw new ValidationError(`${file}: ${what} is not valid base64`);
  return Buffer.from(s, 'base64');
}

/**
 * Parses kubeconfig text. `context` overrides `current-context`. Files named inside
 * (certificate-authority, client-certificate, client-key) are read here; tokenFile is kept as a
 * path and re-read per request.
 */
export async function parseKubeconfig(text: string, file: string, context?: string): Promise<KubeconfigCredentials> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (e) {
    throw new ValidationError(`${file}: invalid kubeconfig YAML: ${(e as Error).message}`, { cause: e });
  }
  if (!isRecord(doc)) throw new ValidationError(`${file}: kubeconfig must be a mapping`);
  const ctxName = context ?? str(doc['current-context']);
  if (ctxName === '') throw new ValidationError(`${file}: no current-context set`);
  const ctx = named(doc['contexts'], ctxName, 'context', file);
  const cluster = named(doc['clusters'], str(ctx['cluster']), 'cluster', file);
  const userName = str(ctx['user']);
  const user = userName === '' ? {} : named(doc['users'], userName, 'user', file);
  const dir = path.dirname(path.resolve(file));
  const resolve = (p: string): string => (path.isAbsolute(p) ? p : path.join(dir, p));
  const readPem = async (p: unknown): Promise<Buffer | undefined> => (str(p) === '' ? undefined : readFileBounded(resolve(str(p)), 1 << 20));

  const server = str(cluster['server']);
  if (!/^https?:\/\//.test(server)) throw new ValidationError(`${file}: cluster ${JSON.stringify(str(ctx['cluster']))} has no http(s) server URL`);
  if (user['exec'] !== undefined || user['auth-provider'] !== undefined) {
    throw new ValidationError(`${file}: user ${JSON.stringify(userName)}: exec and auth-provider credential plugins are not supported; use a token or client certificate`);
  }
  const ca = b64(cluster['certificate-authority-data'], 'certificate-authority-data', file) ?? (await readPem(cluster['certificate-authority']));
  const cert = b64(user['client-certificate-data'], 'client-certificate-data', file) ?? (await readPem(user['client-certificate']));
  const key = b64(user['client-key-data'], 'client-key-data', file) ?? (await readPem(user['client-key']));
  if ((cert === undefined) !== (key === undefined)) throw new ValidationError(`${file}: user ${JSON.stringify(userName)}: client certificate and key must be set together`);
  const token = str(user['token']);
  const tokenFile = str(user['tokenFile']);
  const username = str(user['username']);
  const ns = str(ctx['namespace']);
  const serverName = str(cluster['tls-server-name']);
  return {
    server,
    insecureSkipVerify: cluster['insecure-skip-tls-verify'] === true,
    ...(ns !== '' ? { namespace: ns } : {}),
    ...(ca ? { ca } : {}),
    ...(serverName !== '' ? { serverName } : {}),
    ...(token !== '' ? { token } : {}),
    ...(tokenFile !== '' ? { tokenFile: resolve(tokenFile) } : {}),
    ...(cert && key ? { cert, key } : {}),
    ...(username !== '' ? { basicAuth: { username, password: str(user['password']) } } : {}),
  };
}

/** Reads and parses a kubeconfig file (bounded). */
export async function loadKubeconfig(file: string, context?: string): Promise<KubeconfigCredentials> {
  const buf = await readFileBounded(file, MAX_KUBECONFIG_BYTES);
  return parseKubeconfig(buf.toString('utf8'), file, context);
}
