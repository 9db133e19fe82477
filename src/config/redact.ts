/**
 * Secret redaction for `/api/v1/status/config`: the loaded YAML with every secret value
 * replaced by `<secret>` (as Prometheus shows it).
 */
import { isMap, isPair, isScalar, parseDocument, visit } from 'yaml';

/** Keys whose values are secrets wherever they appear. */
export const SECRET_KEYS: ReadonlySet<string> = new Set(['password', 'bearer_token', 'credentials', 'client_secret', 'secret_key', 'api_key', 'token']);

/** Placeholder printed instead of a secret. */
export const SECRET_PLACEHOLDER = '<secret>';

/**
 * Returns the YAML text with secrets replaced. Header values of `remote_write[].headers` are
 * also redacted (they often carry tokens). Text that does not parse is returned as a note.
 */
export function redactConfigYaml(text: string): string {
  const doc = parseDocument(text);
  if (doc.errors.length > 0) return '# configuration could not be parsed\n';
  visit(doc, {
    Pair(_key, pair, path) {
      if (!isScalar(pair.key) || typeof pair.key.value !== 'string') return;
      const k = pair.key.value;
      if (SECRET_KEYS.has(k) && pair.value != null) {
        pair.value = doc.createNode(SECRET_PLACEHOLDER);
        return;
      }
      // headers: {X-Token: ...} under a remote_write entry
      const parent = path[path.length - 1];
      if (isMap(parent)) {
        const grand = path[path.length - 2];
        if (isPair(grand) && isScalar(grand.key) && grand.key.value === 'headers' && pair.value != null) {
          pair.value = doc.createNode(SECRET_PLACEHOLDER);
        }
      }
    },
  });
  return doc.toString();
}
