/**
 * Merges several Prometheus text expositions (0.0.4) into one valid exposition: the admin
 * `/metrics` joins the main registry with one registry per tenant, whose families share names
 * (`vigil_rule_*`, `vigil_notifications_*`, synthesized `ALERTS`, …). A family may appear only
 * once (one `# HELP`, one `# TYPE`, its samples contiguous), so same-named families are merged:
 * the first part's HELP/TYPE win, samples of every part are concatenated, and a part may carry
 * extra labels (the tenant label) added to each of its samples so series stay distinct. A sample
 * that already has one of the extra label names keeps its own value. A family whose TYPE
 * conflicts with the first part's is dropped from the later part (and counted in `conflicts`);
 * exact duplicate series (same name and labels) after merging keep the first occurrence.
 */

/** One exposition to merge. */
export interface ExpositionPart {
  readonly text: string;
  /** Labels added to every sample of this part (e.g. `{ tenant: 'team-a' }`). */
  readonly labels?: Readonly<Record<string, string>>;
}

/** Result of {@link mergeExpositions}. */
export interface MergedExposition {
  readonly text: string;
  /** Families dropped from a later part because their TYPE differed from the first part's. */
  readonly conflicts: readonly string[];
}

interface Family {
  help?: string;
  type?: string;
  readonly samples: string[];
  /** `name{labels}` keys of the samples, for duplicate detection. */
  readonly seen: Set<string>;
}

/** Escapes a label value for the text format. */
function escapeValue(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

const NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*/;

/** Splits a sample line into name, label-block body (without braces) and the rest. */
function splitSample(line: string): { name: string; labels: string | undefined; rest: string } | undefined {
  const m = NAME_RE.exec(line);
  if (!m) return undefined;
  const name = m[0];
  let i = name.length;
  if (line[i] !== '{') return { name, labels: undefined, rest: line.slice(i) };
  // Scan to the closing brace, respecting quoted values with escapes.
  let j = i + 1;
  let quoted = false;
  for (; j < line.length; j++) {
    const c = line[j];
    if (quoted) {
      if (c === '\\') j++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '}') break;
  }
  if (j >= line.length) return undefined;
  return { name, labels: line.slice(i + 1, j), rest: line.slice(j + 1) };
}

/** Label names present in a label-block body. */
function labelNames(body: string): Set<string> {
  const out = new Set<string>();
  let quoted = false;
  let start = 0;
  for (let j = 0; j < body.length; j++) {
    const c = body[j];
    if (quoted) {
      if (c === '\\') j++;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === '=') {
      out.add(body.slice(start, j).replace(/^[\s,]+/, '').trim());
    } else if (c === ',') start = j + 1;
  }
  return out;
}

/** The family a sample name belongs to, given the family currently open in its part. */
function familyOf(sample: string, current: string | undefined, currentType: string | undefined): string {
  if (current === undefined) return sample;
  if (sample === current) return current;
  const suffixes = currentType === 'histogram' ? ['_bucket', '_sum', '_count'] : currentType === 'summary' ? ['_sum', '_count'] : [];
  for (const s of suffixes) if (sample === current + s) return current;
  return sample;
}

/**
 * Merges expositions; see the module comment. Lines that are neither comments nor parseable
 * samples are dropped (never thrown on).
 */
export function mergeExpositions(parts: readonly ExpositionPart[]): MergedExposition {
  const families = new Map<string, Family>();
  const conflicts: string[] = [];
  const fam = (name: string): Family => {
    let f = families.get(name);
    if (!f) families.set(name, (f = { samples: [], seen: new Set() }));
    return f;
  };
  for (const part of parts) {
    const extra = Object.entries(part.labels ?? {});
    let current: string | undefined;
    let currentType: string | undefined;
    /** Families this part declared; a conflicting one is skipped for the rest of the part. */
    const skipped = new Set<string>();
    const typedHere = new Map<string, string>();
    for (const raw of part.text.split('\n')) {
      const line = raw.trimEnd();
      if (line === '') continue;
      if (line.startsWith('#')) {
        const m = /^#\s+(HELP|TYPE)\s+([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\s(.*))?$/.exec(line);
        if (!m) continue; // other comments are dropped
        const [, kw, name, rest = ''] = m as unknown as [string, string, string, string | undefined];
        const f = fam(name);
        if (current !== name) {
          current = name;
          currentType = typedHere.get(name);
        }
        if (kw === 'HELP') {
          f.help ??= rest;
        } else {
          const t = rest.trim();
          typedHere.set(name, t);
          currentType = t;
          if (f.type === undefined) f.type = t;
          else if (f.type !== t) {
            skipped.add(name);
            conflicts.push(name);
          }
        }
        continue;
      }
      const s = splitSample(line);
      if (!s) continue;
      const family = familyOf(s.name, current, currentType);
      if (skipped.has(family)) continue;
      let labels = s.labels ?? '';
      if (extra.length > 0) {
        const have = labelNames(labels);
        const add = extra.filter(([k]) => !have.has(k)).map(([k, v]) => `${k}="${escapeValue(v)}"`);
        if (add.length > 0) labels = labels.trim() === '' ? add.join(',') : `${add.join(',')},${labels}`;
      }
      const series = labels === '' ? s.name : `${s.name}{${labels}}`;
      const f = fam(family);
      if (f.seen.has(series)) continue;
      f.seen.add(series);
      f.samples.push(series + s.rest);
    }
  }
  const out: string[] = [];
  for (const [name, f] of families) {
    if (f.samples.length === 0 && f.type === undefined && f.help === undefined) continue;
    if (f.help !== undefined) out.push(`# HELP ${name} ${f.help}`);
    if (f.type !== undefined) out.push(`# TYPE ${name} ${f.type}`);
    for (const s of f.samples) out.push(s);
  }
  return { text: out.length ? out.join('\n') + '\n' : '', conflicts };
}
