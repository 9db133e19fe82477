/**
 * The scrape side of the configuration file: `scrape_configs` (static, file and Kubernetes
 * service discovery, relabeling) and the HTTP client settings (`basic_auth`, `authorization`,
 * `bearer_token[_file]`, `tls_config`) shared with remote-write and Alertmanager targets.
 */
import type { FileSDConfig, GlobalConfig, HttpClientConfig, KubernetesSDConfig, KubernetesSelectorConfig, ScrapeConfig, StaticConfig } from './types.js';
import { parseRelabelList } from './relabel.js';
import { opt, type YNode } from './yaml-node.js';

const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** A map of label names (validated) to values. */
export function labelMap(n: YNode): Record<string, string> {
  const out = n.strMap();
  for (const k of Object.keys(out)) {
    if (!LABEL_NAME.test(k)) throw n.error(`${n.what}: ${JSON.stringify(k)} is not a valid label name`);
  }
  return out;
}

/** An http(s) URL, validated. */
export function parseUrl(n: YNode): string {
  const s = n.str();
  let u: URL;
  try {
    u = new URL(s);
  } catch (e) {
    throw n.error(`${n.what}: ${JSON.stringify(s)} is not a valid URL`, e);
  }
  if (u.protocol !== 'http:' && u.protocol !== 'https:') throw n.error(`${n.what}: URL scheme must be http or https, got ${JSON.stringify(u.protocol)}`);
  return s;
}

export const HTTP_KEYS = ['basic_auth', 'authorization', 'bearer_token', 'bearer_token_file', 'tls_config'] as const;

export function parseHttpClient(m: Map<string, YNode>, res: (p: string) => string): HttpClientConfig {
  const out: { -readonly [K in keyof HttpClientConfig]: HttpClientConfig[K] } = {};
  const ba = m.get('basic_auth');
  if (ba && !ba.isNull) {
    const b = ba.map(['username', 'password', 'password_file']);
    const username = opt(b, 'username', (x) => x.str(), '');
    if (username === '') throw ba.error(`${ba.what}.username is required`);
    const password = opt(b, 'password', (x) => x.str(), undefined as string | undefined);
    const passwordFile = opt(b, 'password_file', (x) => res(x.str()), undefined as string | undefined);
    if (password !== undefined && passwordFile !== undefined) throw ba.error(`${ba.what}: at most one of password and password_file must be set`);
    out.basicAuth = { username, ...(password !== undefined ? { password } : {}), ...(passwordFile !== undefined ? { passwordFile } : {}) };
  }
  const bearer = opt(m, 'bearer_token', (x) => x.str(), undefined as string | undefined);
  const bearerFile = opt(m, 'bearer_token_file', (x) => res(x.str()), undefined as string | undefined);
  const az = m.get('authorization');
  let azCred: string | undefined;
  let azFile: string | undefined;
  if (az && !az.isNull) {
    const a = az.map(['type', 'credentials', 'credentials_file']);
    const type = opt(a, 'type', (x) => x.str(), 'Bearer');
    if (type.toLowerCase() !== 'bearer') throw az.error(`${az.what}.type: only "Bearer" is supported, got ${JSON.stringify(type)}`);
    azCred = opt(a, 'credentials', (x) => x.str(), undefined as string | undefined);
    azFile = opt(a, 'credentials_file', (x) => res(x.str()), undefined as string | undefined);
  }
  const set = [bearer, bearerFile, azCred, azFile, out.basicAuth].filter((x) => x !== undefined).length;
  if (set > 1) throw (az ?? m.get('bearer_token') ?? m.get('bearer_token_file') ?? ba)!.error('at most one of basic_auth, authorization, bearer_token and bearer_token_file must be configured');
  if (bearer ?? azCred) out.bearerToken = (bearer ?? azCred)!;
  if (bearerFile ?? azFile) out.bearerTokenFile = (bearerFile ?? azFile)!;
  const tls = m.get('tls_config');
  if (tls && !tls.isNull) {
    const t = tls.map(['ca_file', 'cert_file', 'key_file', 'server_name', 'insecure_skip_verify']);
    const v = {
      caFile: opt(t, 'ca_file', (x) => res(x.str()), undefined as string | undefined),
      certFile: opt(t, 'cert_file', (x) => res(x.str()), undefined as string | undefined),
      keyFile: opt(t, 'key_file', (x) => res(x.str()), undefined as string | undefined),
      serverName: opt(t, 'server_name', (x) => x.str(), undefined as string | undefined),
      insecureSkipVerify: opt(t, 'insecure_skip_verify', (x) => x.bool(), undefined as boolean | undefined),
    };
    if ((v.certFile === undefined) !== (v.keyFile === undefined)) throw tls.error(`${tls.what}: cert_file and key_file must be set together`);
    out.tls = Object.fromEntries(Object.entries(v).filter(([, x]) => x !== undefined));
  }
  return out;
}

export function parseStatic(n: YNode | undefined): StaticConfig[] {
  if (!n) return [];
  return n.list().map((e) => {
    const m = e.map(['targets', 'labels']);
    const targets = opt(m, 'targets', (x) => x.strList(), []);
    for (const t of targets) {
      if (t === '' || /[/\s]/.test(t)) throw m.get('targets')!.error(`${e.what}.targets: ${JSON.stringify(t)} is not a valid host:port target`);
    }
    return { targets, labels: opt(m, 'labels', labelMap, {}) };
  });
}

function parseFileSD(n: YNode | undefined, res: (p: string) => string): FileSDConfig[] {
  if (!n) return [];
  return n.list().map((e) => {
    const m = e.map(['files', 'refresh_interval']);
    const files = opt(m, 'files', (x) => x.strList(), []);
    if (files.length === 0) throw e.error(`${e.what}.files must list at least one file`);
    for (const f of files) {
      if (!/\.(json|ya?ml)$/.test(f)) throw m.get('files')!.error(`${e.what}.files: ${JSON.stringify(f)} must end in .json, .yml or .yaml`);
    }
    return { files: files.map(res), refreshInterval: opt(m, 'refresh_interval', (x) => x.duration(), 300_000) };
  });
}

const K8S_ROLES = ['pod', 'node'] as const;
/** One selector term: `key=value`, `key==value`, `key!=value`, or (labels) `key in (a,b)`, `!key`, `key`. */
const SELECTOR_RE = /^[^,]+(?:,[^,]+)*$/;

function k8sRole(n: YNode, what: string): 'pod' | 'node' {
  const s = n.str();
  if (!(K8S_ROLES as readonly string[]).includes(s)) throw n.error(`${what}: role must be "pod" or "node", got ${JSON.stringify(s)} (other Prometheus roles are not supported)`);
  return s as 'pod' | 'node';
}

/** Parses `kubernetes_sd_configs` (roles pod and node; Prometheus's field names and rules). */
function parseKubernetesSD(n: YNode | undefined, res: (p: string) => string): KubernetesSDConfig[] {
  if (!n) return [];
  return n.list().map((e) => {
    const m = e.map(['role', 'api_server', 'kubeconfig_file', 'namespaces', 'selectors', ...HTTP_KEYS]);
    const roleNode = m.get('role');
    if (!roleNode || roleNode.isNull) throw e.error(`${e.what}: role is required ("pod" or "node")`);
    const role = k8sRole(roleNode, `${e.what}.role`);
    const apiServer = opt(m, 'api_server', (x) => parseUrl(x), undefined as string | undefined);
    const kubeconfigFile = opt(m, 'kubeconfig_file', (x) => res(x.str()), undefined as string | undefined);
    const http = parseHttpClient(m, res);
    if (apiServer !== undefined && kubeconfigFile !== undefined) throw e.error(`${e.what}: cannot use "kubeconfig_file" and "api_server" simultaneously`);
    if (kubeconfigFile !== undefined && Object.keys(http).length > 0) throw e.error(`${e.what}: cannot use a custom HTTP client configuration together with "kubeconfig_file"`);
    if (apiServer === undefined && kubeconfigFile === undefined && Object.keys(http).length > 0) {
      throw e.error(`${e.what}: to use custom HTTP client configuration please provide the "api_server" URL explicitly`);
    }
    const nsNode = m.get('namespaces');
    const ns = nsNode ? nsNode.map(['names', 'own_namespace']) : new Map<string, YNode>();
    const names = opt(ns, 'names', (x) => x.strList(), []);
    for (const name of names) {
      if (!/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(name) || name.length > 63) throw ns.get('names')!.error(`${e.what}.namespaces.names: ${JSON.stringify(name)} is not a valid namespace name`);
    }
    const ownNamespace = opt(ns, 'own_namespace', (x) => x.bool(), false);
    if (role === 'node' && (names.length > 0 || ownNamespace)) throw nsNode!.error(`${e.what}: namespaces cannot be used with role "node" (nodes are not namespaced)`);
    const seenRoles = new Set<string>();
    const selectors = (m.get('selectors')?.list() ?? []).map((sn): KubernetesSelectorConfig => {
      const sm = sn.map(['role', 'label', 'field']);
      const r = sm.get('role');
      if (!r || r.isNull) throw sn.error(`${sn.what}: role is required`);
      const srole = k8sRole(r, `${sn.what}.role`);
      if (srole !== role) throw r.error(`${sn.what}: selector role ${JSON.stringify(srole)} is not allowed for discovery role ${JSON.stringify(role)}`);
      if (seenRoles.has(srole)) throw r.error(`${sn.what}: duplicated selector role: ${srole}`);
      seenRoles.add(srole);
      const out: { role: 'pod' | 'node'; label?: string; field?: string } = { role: srole };
      for (const k of ['label', 'field'] as const) {
        const v = opt(sm, k, (x) => x.str(), undefined as string | undefined);
        if (v === undefined || v === '') continue;
        if (v.length > 4096 || !SELECTOR_RE.test(v)) throw sm.get(k)!.error(`${sn.what}.${k}: ${JSON.stringify(v)} is not a valid ${k} selector`);
        out[k] = v;
      }
      return out;
    });
    return {
      role,
      ...(apiServer !== undefined ? { apiServer } : {}),
      ...(kubeconfigFile !== undefined ? { kubeconfigFile } : {}),
      namespaces: { names, ownNamespace },
      selectors,
      ...http,
    };
  });
}

const SCRAPE_KEYS = [
  'job_name',
  'scrape_interval',
  'scrape_timeout',
  'metrics_path',
  'scheme',
  'params',
  'honor_labels',
  'honor_timestamps',
  'body_size_limit',
  'sample_limit',
  'static_configs',
  'file_sd_configs',
  'kubernetes_sd_configs',
  'relabel_configs',
  'metric_relabel_configs',
  ...HTTP_KEYS,
];

export function parseScheme(m: Map<string, YNode>): 'http' | 'https' {
  const n = m.get('scheme');
  if (!n || n.isNull) return 'http';
  const s = n.str();
  if (s !== 'http' && s !== 'https') throw n.error(`${n.what}: expected "http" or "https", got ${JSON.stringify(s)}`);
  return s;
}

export function parseScrape(n: YNode, global: GlobalConfig, res: (p: string) => string): ScrapeConfig {
  const m = n.map(SCRAPE_KEYS);
  const jobName = opt(m, 'job_name', (x) => x.str(), '');
  if (jobName === '') throw n.error(`${n.what}: job_name is required`);
  const scrapeInterval = opt(m, 'scrape_interval', (x) => x.duration(), global.scrapeInterval);
  if (scrapeInterval <= 0) throw m.get('scrape_interval')!.error(`${n.what}.scrape_interval must be greater than 0`);
  const timeoutSet = m.get('scrape_timeout');
  let scrapeTimeout = opt(m, 'scrape_timeout', (x) => x.duration(), Math.min(global.scrapeTimeout, scrapeInterval));
  if (scrapeTimeout <= 0) scrapeTimeout = Math.min(global.scrapeTimeout, scrapeInterval);
  if (scrapeTimeout > scrapeInterval) {
    throw (timeoutSet ?? n).error(`scrape timeout greater than scrape interval for scrape config with job name ${JSON.stringify(jobName)}`);
  }
  const metricsPath = opt(m, 'metrics_path', (x) => x.str(), '/metrics');
  if (!metricsPath.startsWith('/')) throw m.get('metrics_path')!.error(`${n.what}.metrics_path must start with "/"`);
  const params: Record<string, string[]> = {};
  const pn = m.get('params');
  if (pn) for (const [k, v] of pn.entries()) params[k] = v.strList();
  const k8s = parseKubernetesSD(m.get('kubernetes_sd_configs'), res);
  return {
    jobName,
    scrapeInterval,
    scrapeTimeout,
    metricsPath,
    scheme: parseScheme(m),
    params,
    honorLabels: opt(m, 'honor_labels', (x) => x.bool(), false),
    honorTimestamps: opt(m, 'honor_timestamps', (x) => x.bool(), true),
    bodySizeLimit: opt(m, 'body_size_limit', (x) => x.byteSize(), 0),
    sampleLimit: opt(m, 'sample_limit', (x) => x.uint(), 0),
    staticConfigs: parseStatic(m.get('static_configs')),
    fileSdConfigs: parseFileSD(m.get('file_sd_configs'), res),
    ...(k8s.length > 0 ? { kubernetesSdConfigs: k8s } : {}),
    relabelConfigs: parseRelabelList(m.get('relabel_configs')),
    metricRelabelConfigs: parseRelabelList(m.get('metric_relabel_configs')),
    ...parseHttpClient(m, res),
  };
}
