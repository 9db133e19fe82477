/**
 * `label_replace` and `label_join`. Both keep the metric name (and its pending removal), and
 * writing `__name__` itself cancels a pending removal. Invalid label names and regexes are
 * query errors worded as in Prometheus; duplicate output label sets are an error too.
 */
import { compileAnchored } from '../../../model/matchers.js';
import { LabelsBuilder, METRIC_NAME, labelsGet } from '../../../model/labels.js';
import { QueryError, type Sample, type Vector } from '../values.js';
import type { FunctionImpl } from './contract.js';
import { checkUniqueLabelsets, isValidLabelName, stringArg, vectorArg } from './util.js';

/** Bounds the regex source length (the query is bounded too; this keeps compile cost small). */
const MAX_REGEX_LENGTH = 64 * 1024;

/**
 * Expands a replacement template as Go's regexp.Expand does: `$1`, `${1}`, `$name`, `${name}`
 * (a name is the longest run of letters, digits and `_`), `$$` for a literal `$`; unknown or
 * out-of-range references expand to ''; a malformed reference keeps the `$` literally.
 */
export function expandTemplate(template: string, m: RegExpExecArray): string {
  let out = '';
  let i = 0;
  while (i < template.length) {
    const c = template[i]!;
    if (c !== '$') {
      out += c;
      i++;
      continue;
    }
    const next = template[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
      continue;
    }
    let name: string | undefined;
    let end = i + 1;
    if (next === '{') {
      const close = template.indexOf('}', i + 2);
      const candidate = close < 0 ? '' : template.slice(i + 2, close);
      if (close >= 0 && /^[A-Za-z0-9_]+$/.test(candidate)) {
        name = candidate;
        end = close + 1;
      }
    } else {
      const r = /^[A-Za-z0-9_]+/.exec(template.slice(i + 1));
      if (r) {
        name = r[0];
        end = i + 1 + r[0].length;
      }
    }
    if (name === undefined) {
      out += '$';
      i++;
      continue;
    }
    if (/^[0-9]+$/.test(name)) {
      const n = Number(name);
      out += n < m.length ? (m[n] ?? '') : '';
    } else {
      out += m.groups?.[name] ?? '';
    }
    i = end;
  }
  return out;
}

function relabel(s: Sample, dst: string, value: string | undefined): Sample {
  if (value === undefined) return { ...s };
  const b = new LabelsBuilder(s.metric);
  b.set(dst, value);
  const out: Sample = { ...s, metric: b.labels() };
  if (dst === METRIC_NAME) delete out.dropName;
  return out;
}

/** `label_replace(v, dst_label, replacement, src_label, regex)`. */
export const labelReplace: FunctionImpl = (args) => {
  const dst = stringArg(args, 1);
  const repl = stringArg(args, 2);
  const src = stringArg(args, 3);
  const regexStr = stringArg(args, 4);
  if (regexStr.length > MAX_REGEX_LENGTH) {
    throw new QueryError(`invalid regular expression in label_replace(): regex longer than ${MAX_REGEX_LENGTH} bytes`);
  }
  let re: RegExp;
  try {
    re = compileAnchored(regexStr);
  } catch (e) {
    throw new QueryError(`invalid regular expression in label_replace(): ${regexStr}`, 'execution', { cause: e });
  }
  if (!isValidLabelName(dst)) throw new QueryError(`invalid destination label name in label_replace(): ${dst}`);
  const out: Vector = vectorArg(args, 0).map((s) => {
    const m = re.exec(labelsGet(s.metric, src));
    return relabel(s, dst, m ? expandTemplate(repl, m) : undefined);
  });
  checkUniqueLabelsets(out);
  return out;
};

/** `label_join(v, dst_label, separator, src_label...)`. */
export const labelJoin: FunctionImpl = (args) => {
  const dst = stringArg(args, 1);
  const sep = stringArg(args, 2);
  const srcs: string[] = [];
  for (let i = 3; i < args.length; i++) {
    const src = stringArg(args, i);
    if (!isValidLabelName(src)) throw new QueryError(`invalid source label name in label_join(): ${src}`);
    srcs.push(src);
  }
  if (!isValidLabelName(dst)) throw new QueryError(`invalid destination label name in label_join(): ${dst}`);
  const out: Vector = vectorArg(args, 0).map((s) =>
    relabel(
      s,
      dst,
      srcs.map((n) => labelsGet(s.metric, n)).join(sep),
    ),
  );
  checkUniqueLabelsets(out);
  return out;
};
