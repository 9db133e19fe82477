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
};

/** The template engine rules use by default. */
export const defaultTemplater: Templater = goTemplater;
