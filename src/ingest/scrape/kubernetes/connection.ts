/**
 * How discovery reaches the Kubernetes API: in-cluster (service-account token + CA,
 * `KUBERNETES_SERVICE_HOST`/`_PORT`), an explicit `api_server` with the HTTP client settings,
 * or a kubeconfig file. Token files are re-read on every request, so rotated projected
 * service-account tokens are picked up without a restart.
 */
import { readFile } from 'node:fs/promises';
import type { HttpClientConfig, KubernetesSDConfig } from '../../../config/types.js';
import { ValidationError } from '../../../model/errors.js';
import { loadKubeconfig, readFileBounded } from './kubeconfig.js';
import { joinHostPort } from './pod.js';

/** Where a pod finds its service-account credentials. */
export interface InClusterPaths {
  readonly tokenFile: string;
  readonly caFile: string;
  readonly namespaceFile: string;
}

/** The standard in-cluster service-account paths. */
export const IN_CLUSTER_PATHS: InClusterPaths = {
  tokenFile: '/var/run/secrets/kubernetes.io/serviceaccount/token',
  caFile: '/var/run/secrets/kubernetes.io/serviceaccount/ca.crt',
  namespaceFile: '/var/run/secrets/kubernetes.io/serviceaccount/namespace',
};

/** TLS settings of the API connection. */
export interface ApiTls {
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly servername?: string;
  readonly rejectUnauthorized: boolean;
}

/** A resolved API connection. */
export interface ApiConnection {
  /** Base URL without a trailing slash, e.g. `https://10.96.0.1:443`. */
  readonly baseUrl: string;
  readonly tls: ApiTls;
  /** The `Authorization` header value for the next request (token files are re-read). */
  authorization(): Promise<string | undefined>;
  /** The namespace this process runs in (in-cluster), or the kubeconfig context's. */
  ownNamespace(): Promise<string | undefined>;
}

/** Options of {@link resolveConnection}. */
export interface ResolveOptions {
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly inClusterPaths?: InClusterPaths;
}

const SECRET_MAX = 64 << 10;

async function readToken(file: string): Promise<string> {
  const t = (await readFileBounded(file, SECRET_MAX)).toString('utf8').trim();
  if (t === '') throw new ValidationError(`token file ${file} is empty`);
  return t;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return (await readFile(file, 'utf8')).trim() || undefined;
  } catch {
    return undefined;
  }
}

function httpAuth(c: HttpClientConfig): () => Promise<string | undefined> {
  return async () => {
    if (c.basicAuth) {
      const pw = c.basicAuth.passwordFile ? await readToken(c.basicAuth.passwordFile) : (c.basicAuth.password ?? '');
      return `Basic ${Buffer.from(`${c.basicAuth.username}:${pw}`).toString('base64')}`;
    }
    if (c.bearerTokenFile) return `Bearer ${await readToken(c.bearerTokenFile)}`;
    if (c.bearerToken) return `Bearer ${c.bearerToken}`;
    return undefined;
  };
}

async function httpTls(c: HttpClientConfig): Promise<ApiTls> {
  const t = c.tls ?? {};
  return {
    ...(t.caFile ? { ca: await readFileBounded(t.caFile, 1 << 20) } : {}),
    ...(t.certFile ? { cert: await readFileBounded(t.certFile, 1 << 20) } : {}),
    ...(t.keyFile ? { key: await readFileBounded(t.keyFile, 1 << 20) } : {}),
    ...(t.serverName ? { servername: t.serverName } : {}),
    rejectUnauthorized: t.insecureSkipVerify !== true,
  };
}

/** Resolves how to reach the API server for one `kubernetes_sd_configs` entry. */
export async function resolveConnection(cfg: KubernetesSDConfig, opts: ResolveOptions = {}): Promise<ApiConnection> {
  const paths = opts.inClusterPaths ?? IN_CLUSTER_PATHS;
  const env = opts.env ?? process.env;
  const inClusterNs = (): Promise<string | undefined> => readOptional(paths.namespaceFile);
  if (cfg.apiServer !== undefined) {
    return { baseUrl: cfg.apiServer.replace(/\/+$/, ''), tls: await httpTls(cfg), authorization: httpAuth(cfg), ownNamespace: inClusterNs };
  }
  if (cfg.kubeconfigFile !== undefined) {
    const k = await loadKubeconfig(cfg.kubeconfigFile);
    const tls: ApiTls = {
      ...(k.ca ? { ca: k.ca } : {}),
      ...(k.cert ? { cert: k.cert } : {}),
      ...(k.key ? { key: k.key } : {}),
      ...(k.serverName ? { servername: k.serverName } : {}),
      rejectUnauthorized: !k.insecureSkipVerify,
    };
    return {
      baseUrl: k.server.replace(/\/+$/, ''),
      tls,
      authorization: async () => {
        if (k.tokenFile) return `Bearer ${await readToken(k.tokenFile)}`;
        if (k.token) return `Bearer ${k.token}`;
        if (k.basicAuth) return `Basic ${Buffer.from(`${k.basicAuth.username}:${k.basicAuth.password}`).toString('base64')}`;
        return undefined;
      },
      ownNamespace: async () => k.namespace ?? (await inClusterNs()),
    };
  }
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'];
  if (!host || !port) {
    throw new ValidationError('kubernetes_sd: not running in a cluster (KUBERNETES_SERVICE_HOST/KUBERNETES_SERVICE_PORT unset); set api_server or kubeconfig_file');
  }
  let ca: Buffer;
  try {
    ca = await readFileBounded(paths.caFile, 1 << 20);
  } catch (e) {
    throw new ValidationError(`kubernetes_sd: cannot read the service-account CA ${paths.caFile}: ${(e as Error).message}`, { cause: e });
  }
  return {
    baseUrl: `https://${joinHostPort(host, port)}`,
    tls: { ca, rejectUnauthorized: true },
    authorization: async () => `Bearer ${await readToken(paths.tokenFile)}`,
    ownNamespace: inClusterNs,
  };
}
