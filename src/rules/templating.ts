/**
 * The seam between rules and the Go-template engine (`template/`). Rules and the rule-file
 * checker call a {@link Templater}; the default one is backed by `template/index.ts`.
 */
import { alertTemplateName, checkTemplate, errorText, expandAlertTemplateAsync, expandOrError, type QuerySample } from './template/index.js';

/** Data a label/annotation template sees (`$labels`, `$externalLabels`, `$externalURL`, `$value`). */
export interface TemplateData {
  readonly labels: Readonly<Record<string, string>>;
  readonly externalLabels: Readonly<Record<string, string>>;
  readonly externalURL: string;
  readonly value: number;
}

/** Options of one expansion. */
export interface ExpandOptions {
  /** Evaluation time (ms), for time-dependent template functions. */
  readonly timestampMs?: number;
  /** Instant query at the evaluation time, for the `query` template function. */
  readonly queryAsync?: (q: string) => Promise<readonly QuerySample[]>;
}

/** Expands and checks alert templates. */
export interface Templater {
  /**
   * Expands `text`; on error yields Prometheus's `<error expanding template: ...>` text (never
   * throws/rejects). Synchronous unless the template has to run queries.
   */
  expand(name: string, text: string, data: TemplateData, opts?: ExpandOptions): string | Promise<string>;
  /** Syntax check of a template: undefined when fine. */
  check(name: string, text: string): Error | undefined;
  /**
   * True when `expand` is a pure function of its inputs (text, data, timestamp, query results):
   * rules may then reuse an expansion whose inputs did not change (see {@link templateDependence}).
   */
  readonly pure?: boolean;
}

/**
 * What an alert template's expansion depends on besides `$labels`, `$externalLabels` and
 * `$externalURL` (conservative, from the text alone):
 * - `'labels'`: nothing else — the result is fixed for a given label set;
 * - `'value'`: possibly `$value` / `.Value` / the whole data (`.`, `$`) as well;
 * - `'volatile'`: possibly the evaluation time or query results (`now`, `query`) — never reuse.
 */
export type TemplateDependence = 'labels' | 'value' | 'volatile';

const ACTION_RE = /\{\{([\s\S]*?)\}\}/g;
const STRING_LIT_RE = /"(?:[^"\\]|\\.)*"|`[^`]*`|'(?:[^'\\]|\\.)*'/g;
const SAFE_REF_RE = /\$(?:labels|externalLabels|externalURL)(?:\.[A-Za-z_][A-Za-z0-9_]*)*|\.(?:Labels|ExternalLabels|ExternalURL)(?:\.[A-Za-z_][A-Za-z0-9_]*)*/g;
const NUMBER_RE = /\b\d+\.\d*(?:[eE][-+]?\d+)?\b|\.\d+/g;

/** Classifies a template by what its expansion may depend on (see {@link TemplateDependence}). */
export function templateDependence(text: string): TemplateDependence {
  if (!text.includes('{{')) return 'labels';
  let dep: TemplateDependence = 'labels';
  for (const m of text.matchAll(ACTION_RE)) {
    const body = m[1]!.replace(STRING_LIT_RE, ' ');
    // Unbalanced quotes: the action split is unreliable (`}}` inside a string); do not guess.
    if (/\b(?:now|query)\b/.test(body) || /["'`]/.test(body)) return 'volatile';
    const rest = body.replace(SAFE_REF_RE, ' ').replace(NUMBER_RE, ' ');
    // Anything that can reach the value: `.`-fields and the bare dot, `$` (root) and `$value`.
    if (rest.includes('.') || /\$(?![A-Za-z0-9_])/.test(rest) || /\$value\b/.test(rest)) dep = 'value';
  }
  return dep;
}

/** The Go-template engine of `template/`. */
export const goTemplater: Templater = {
  expand: (name, text, data, opts = {}) => {
    if (!text.includes('{{')) return text;
    const base = opts.timestampMs !== undefined ? { timestampMs: opts.timestampMs } : {};
    if (opts.queryAsync && text.includes('query')) {
      return expandAlertTemplateAsync(name, text, data, { ...base, queryAsync: opts.queryAsync }).catch((e: unknown) => errorText(alertTemplateName(name), e));
    }
    return expandOrError(name, text, data, base);
  },
  check: (name, text) => (text.includes('{{') ? checkTemplate(name, text) : undefined),
  pure: true,
};

/**
 * A minimal template subset for tests that should not depend on the template engine:
 * `{{ $labels.x }}`, `{{ .Labels.x }}`, `{{ $value }}`, `{{ .Value }}`, `{{ $externalLabels.x }}`,
 * `{{ $externalURL }}`; anything else expands to ''.
 */
export const basicTemplater: Templater = {
  expand: (_name, text, data) =>
    text.replace(/\{\{-?\s*([^}]*?)\s*-?\}\}/g, (_m, body: string) => {
      let m = /^(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(body);
      if (m) return data.labels[m[1]!] ?? '';
      m = /^(?:\$externalLabels|\.ExternalLabels)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(body);
      if (m) return data.externalLabels[m[1]!] ?? '';
      if (body === '$value' || body === '.Value') return String(data.value);
      if (body === '$externalURL' || body === '.ExternalURL') return data.externalURL;
      return '';
    }),
  check: (name, text) => {
    const open = (text.match(/\{\{/g) ?? []).length;
    const close = (text.match(/\}\}/g) ?? []).length;
    return open === close ? undefined : new Error(`template: ${name}:1: unclosed action`);
  },
  pure: true,
};

/** The template engine rules use by default. */
export const defaultTemplater: Templater = goTemplater;
