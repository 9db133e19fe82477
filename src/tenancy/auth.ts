/**
 * Authentication from the web config file (`--web.config.file`): bearer tokens and basic auth
 * with scrypt-hashed secrets, each credential bound to one tenant or to the admin role (which
 * may name any tenant with the tenant header), plus client certificates mapped to a tenant.
 * The file is re-read when it changes (polled), keeping the old one when the new one is bad.
 * Secrets never appear in errors or logs; verifications are cached by a SHA-256 of the
 * presented secret so scrypt runs once per distinct credential, not once per request.
 */
import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { ValidationError } from '../model/errors.js';
import { nopLogger, type Logger } from '../model/logger.js';
import { parseYaml, type YNode } from '../config/yaml-node.js';
import { parseHash, verifySecret, type ScryptHash } from './secrets.js';
import { tenantIdProblem } from './tenant-id.js';

/** Who made a request. */
export type Principal =
  | { readonly kind: 'anonymous' }
  | { readonly kind: 'tenant'; readonly tenant: string; readonly name: string }
  | { readonly kind: 'admin'; readonly name: string };

/** Certificate fields that can name a tenant. */
export type CertTenantField = 'CN' | 'SAN_DNS' | 'SAN_URI' | 'SAN_EMAIL';

/** `tls_server_config` of the web config file. */
export interface TlsServerConfig {
  readonly certFile: string;
  readonly keyFile: string;
  readonly clientCaFile?: string;
  readonly clientAuthType: 'NoClientCert' | 'VerifyClientCertIfGiven' | 'RequireAndVerifyClientCert';
  /** Maps a verified client certificate to a tenant by this field. */
  readonly clientCertTenantField?: CertTenantField;
  /** Client certificates whose mapped id is listed here get the admin role. */
  readonly clientCertAdmins: readonly string[];
}

/** One credential. */
export interface Credential {
  readonly name: string;
  readonly role: 'tenant' | 'admin';
  readonly tenant?: string;
  readonly bearer?: ScryptHash;
  readonly username?: string;
  readonly password?: ScryptHash;
}

/** The parsed web config file. */
export interface WebConfig {
  readonly tls?: TlsServerConfig;
  readonly credentials: readonly Credential[];
}

/** Largest web config file read. */
export const MAX_WEB_CONFIG_BYTES = 1024 * 1024;
const MAX_CREDENTIALS = 10_000;

/** Parses the web config YAML (`file` for messages and relative paths). */
export function parseWebConfig(text: string, file: string): WebConfig {
  const base = path.dirname(path.resolve(file));
  const res = (p: string): string => (path.isAbsolute(p) ? p : path.join(base, p));
  const root = parseYaml(text, file);
  if (root.isNull) return { credentials: [] };
  const m = root.map(['tls_server_config', 'credentials']);
  let tls: TlsServerConfig | undefined;
  const t = m.get('tls_server_config');
  if (t && !t.isNull) {
    const tm = t.map(['cert_file', 'key_file', 'client_ca_file', 'client_auth_type', 'client_cert_tenant_field', 'client_cert_admins']);
    const s = (k: string): string | undefined => {
      const n = tm.get(k);
      return n && !n.isNull ? n.str() : undefined;
    };
    const certFile = s('cert_file');
    const keyFile = s('key_file');
    if (!certFile || !keyFile) throw t.error('tls_server_config: cert_file and key_file are required');
    const cat = s('client_auth_type') ?? 'NoClientCert';
    if (!['NoClientCert', 'VerifyClientCertIfGiven', 'RequireAndVerifyClientCert'].includes(cat)) {
      throw tm.get('client_auth_type')!.error('tls_server_config.client_auth_type: expected NoClientCert, VerifyClientCertIfGiven or RequireAndVerifyClientCert');
    }
    const ca = s('client_ca_file');
    if (cat !== 'NoClientCert' && !ca) throw t.error('tls_server_config: client_ca_file is required to verify client certificates');
    const field = s('client_cert_tenant_field');
    if (field !== undefined && !['CN', 'SAN_DNS', 'SAN_URI', 'SAN_EMAIL'].includes(field)) {
      throw tm.get('client_cert_tenant_field')!.error('tls_server_config.client_cert_tenant_field: expected CN, SAN_DNS, SAN_URI or SAN_EMAIL');
    }
    const admins = tm.get('client_cert_admins');
    tls = {
      certFile: res(certFile),
      keyFile: res(keyFile),
      ...(ca ? { clientCaFile: res(ca) } : {}),
      clientAuthType: cat as TlsServerConfig['clientAuthType'],
      ...(field ? { clientCertTenantField: field as CertTenantField } : {}),
      clientCertAdmins: admins && !admins.isNull ? admins.strList() : [],
    };
  }
  const list = m.get('credentials')?.list() ?? [];
  if (list.length > MAX_CREDENTIALS) throw m.get('credentials')!.error(`credentials: more than ${MAX_CREDENTIALS} entries`);
  const names = new Set<string>();
  const users = new Set<string>();
  const credentials = list.map((n, i) => {
    const c = parseCredential(n, i);
    if (names.has(c.name)) throw n.error(`credentials[${i}]: duplicate name ${JSON.stringify(c.name)}`);
    names.add(c.name);
    if (c.username !== undefined) {
      if (users.has(c.username)) throw n.error(`credentials[${i}]: duplicate username ${JSON.stringify(c.username)}`);
      users.add(c.username);
    }
    return c;
  });
  return { ...(tls ? { tls } : {}), credentials };
}

function hashOf(n: YNode, what: string): ScryptHash {
  try {
    return parseHash(n.str());
  } catch (e) {
    // The message of parseHash never contains the value.
    throw n.error(`${what}: ${(e as Error).message}`);
  }
}

function parseCredential(n: YNode, i: number): Credential {
  const m = n.map(['name', 'role', 'tenant', 'bearer_token_hash', 'basic_auth']);
  const what = `credentials[${i}]`;
  const name = m.get('name') && !m.get('name')!.isNull ? m.get('name')!.str() : `credential-${i}`;
  const role = m.get('role') && !m.get('role')!.isNull ? m.get('role')!.str() : 'tenant';
  if (role !== 'tenant' && role !== 'admin') throw m.get('role')!.error(`${what}.role: expected "tenant" or "admin"`);
  const tn = m.get('tenant');
  const tenant = tn && !tn.isNull ? tn.str() : undefined;
  if (role === 'tenant') {
    if (tenant === undefined) throw n.error(`${what}: tenant is required for role "tenant"`);
    const p = tenantIdProblem(tenant);
    if (p) throw tn!.error(`${what}.tenant: ${p}`);
  } else if (tenant !== undefined) {
    throw tn!.error(`${what}.tenant: an admin credential is not bound to a tenant (name one with the tenant header)`);
  }
  const bt = m.get('bearer_token_hash');
  const ba = m.get('basic_auth');
  if ((bt && !bt.isNull) === (ba && !ba.isNull)) throw n.error(`${what}: exactly one of bearer_token_hash and basic_auth must be set`);
  const base = { name, role: role as 'tenant' | 'admin', ...(tenant !== undefined ? { tenant } : {}) };
  if (bt && !bt.isNull) return { ...base, bearer: hashOf(bt, `${what}.bearer_token_hash`) };
  const bm = ba!.map(['username', 'password_hash']);
  const u = bm.get('username');
  const ph = bm.get('password_hash');
  if (!u || u.isNull || u.str() === '' || u.str().includes(':')) throw ba!.error(`${what}.basic_auth.username is required and may not contain ":"`);
  if (!ph || ph.isNull) throw ba!.error(`${what}.basic_auth.password_hash is required`);
  return { ...base, username: u.str(), password: hashOf(ph, `${what}.basic_auth.password_hash`) };
}

/** Why authentication failed (answered 401; never includes what the client sent). */
export class AuthError extends ValidationError {
  override name = 'AuthError';
}

const CACHE_MAX = 10_000;
const NEGATIVE_TTL_MS = 60_000;

function principalOf(c: Credential): Principal {
  return c.role === 'admin' ? { kind: 'admin', name: c.name } : { kind: 'tenant', tenant: c.tenant!, name: c.name };
}

/** Verifies credentials against one parsed {@link WebConfig}. */
export class Authenticator {
  private readonly ok = new Map<string, Principal>();
  private readonly bad = new Map<string, number>();
  private readonly byUser = new Map<string, Credential>();
  private readonly bearers: Credential[] = [];

  constructor(readonly config: WebConfig) {
    for (const c of config.credentials) {
      if (c.username !== undefined) this.byUser.set(c.username, c);
      if (c.bearer) this.bearers.push(c);
    }
  }

  /** True when requests must authenticate (credentials listed or client certificates mapped). */
  get enabled(): boolean {
    return this.config.credentials.length > 0 || this.config.tls?.clientCertTenantField !== undefined;
  }

  /**
   * Authenticates a request from its `Authorization` header and (when TLS verified one) the
   * client certificate. Throws {@link AuthError} when credentials are missing or wrong.
   */
  async authenticate(authorization: string | undefined, cert?: ClientCertInfo): Promise<Principal> {
    if (!this.enabled) return { kind: 'anonymous' };
    if (authorization !== undefined && authorization !== '') return this.fromHeader(authorization);
    const field = this.config.tls?.clientCertTenantField;
    if (cert && field) {
      const id = certField(cert, field);
      if (id !== undefined) {
        if (this.config.tls!.clientCertAdmins.includes(id)) return { kind: 'admin', name: `cert:${id}` };
        if (tenantIdProblem(id) === undefined) return { kind: 'tenant', tenant: id, name: `cert:${id}` };
      }
      throw new AuthError('client certificate does not name a valid tenant');
    }
    throw new AuthError('authentication required');
  }

  private async fromHeader(h: string): Promise<Principal> {
    if (h.length > 8192) throw new AuthError('authorization header too long');
    const sp = h.indexOf(' ');
    const scheme = (sp < 0 ? h : h.slice(0, sp)).toLowerCase();
    const value = sp < 0 ? '' : h.slice(sp + 1).trim();
    if (scheme !== 'bearer' && scheme !== 'basic') throw new AuthError('unsupported authorization scheme (use Bearer or Basic)');
    const key = createHash('sha256').update(scheme).update('\0').update(value).digest('hex');
    const hit = this.ok.get(key);
    if (hit) return hit;
    const badUntil = this.bad.get(key);
    if (badUntil !== undefined && badUntil > Date.now()) throw new AuthError('invalid credentials');
    const p = scheme === 'bearer' ? await this.verifyBearer(value) : await this.verifyBasic(value);
    if (!p) {
      if (this.bad.size >= CACHE_MAX) this.bad.clear();
      this.bad.set(key, Date.now() + NEGATIVE_TTL_MS);
      throw new AuthError('invalid credentials');
    }
    if (this.ok.size >= CACHE_MAX) this.ok.clear();
    this.ok.set(key, p);
    return p;
  }

  private async verifyBearer(token: string): Promise<Principal | undefined> {
    if (token === '') return undefined;
    let found: Credential | undefined;
    // Every credential is checked (no early exit) so timing does not tell which one matched.
    for (const c of this.bearers) if ((await verifySecret(token, c.bearer!)) && !found) found = c;
    return found ? principalOf(found) : undefined;
  }

  private async verifyBasic(b64: string): Promise<Principal | undefined> {
    const s = Buffer.from(b64, 'base64').toString('utf8');
    const i = s.indexOf(':');
    if (i < 0) return undefined;
    const c = this.byUser.get(s.slice(0, i));
    if (!c) {
      // Same work as a real check, so unknown users are not told apart by timing.
      if (this.config.credentials[0]?.password) await verifySecret(s.slice(i + 1), this.config.credentials[0].password).catch(() => false);
      return undefined;
    }
    return (await verifySecret(s.slice(i + 1), c.password!)) ? principalOf(c) : undefined;
  }
}

/** The parts of a verified client certificate that can name a tenant. */
export interface ClientCertInfo {
  readonly subject?: { readonly CN?: string | string[] };
  /** `DNS:a, URI:b, email:c` as Node reports it. */
  readonly subjectaltname?: string;
}

/** Extracts a certificate field (first SAN entry of that type). */
export function certField(cert: ClientCertInfo, field: CertTenantField): string | undefined {
  if (field === 'CN') {
    const cn = cert.subject?.CN;
    return Array.isArray(cn) ? cn[0] : cn;
  }
  const prefix = field === 'SAN_DNS' ? 'DNS:' : field === 'SAN_URI' ? 'URI:' : 'email:';
  for (const part of (cert.subjectaltname ?? '').split(',')) {
    const p = part.trim();
    if (p.startsWith(prefix)) return p.slice(prefix.length);
  }
  return undefined;
}

/** Reads and parses a web config file (bounded size). */
export async function loadWebConfig(file: string): Promise<WebConfig> {
  const st = await stat(file);
  if (st.size > MAX_WEB_CONFIG_BYTES) throw new ValidationError(`web config file ${file} is larger than ${MAX_WEB_CONFIG_BYTES} bytes`);
  return parseWebConfig(await readFile(file, 'utf8'), file);
}

/** Options of {@link watchWebConfig}. */
export interface WatchOptions {
  readonly intervalMs?: number;
  readonly logger?: Logger;
  /** Called with each successfully re-read config. */
  readonly onChange: (cfg: WebConfig) => void;
  /** Extra files whose change triggers a reload (TLS cert/key). */
  readonly extraFiles?: (cfg: WebConfig) => readonly string[];
}

/**
 * Polls the web config file (and the TLS files it names) and calls `onChange` after a
 * successful re-read. Returns a stop function.
 */
export function watchWebConfig(file: string, initial: WebConfig, opts: WatchOptions): () => void {
  const log = opts.logger ?? nopLogger;
  let current = initial;
  const sig = async (cfg: WebConfig): Promise<string> => {
    const files = [file, ...(opts.extraFiles?.(cfg) ?? [])];
    const parts = await Promise.all(files.map((f) => stat(f).then((s) => `${f}:${s.mtimeMs}:${s.size}`, () => `${f}:missing`)));
    return parts.join('|');
  };
  let last: string | undefined;
  let busy = false;
  void sig(current).then((s) => (last = s));
  const timer = setInterval(() => {
    if (busy) return;
    busy = true;
    void (async () => {
      try {
        const s = await sig(current);
        if (last === undefined || s === last) {
          last ??= s;
          return;
        }
        last = s;
        try {
          current = await loadWebConfig(file);
          opts.onChange(current);
          log.info('web config reloaded', { file, credentials: current.credentials.length });
        } catch (e) {
          log.error('web config reload failed, keeping the old one', { file, err: (e as Error).message });
        }
      } finally {
        busy = false;
      }
    })();
  }, opts.intervalMs ?? 2000);
  timer.unref();
  return () => clearInterval(timer);
}
