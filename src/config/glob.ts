/**
 * File globs as Prometheus's `rule_files` understands them (Go's filepath.Glob: `*`, `?` and
 * `[...]` within one path segment, no `**`), expanded against the filesystem.
 */
import { readdir, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve, sep } from 'node:path';

const MAGIC = /[*?[]/;

/** Converts one path segment with `*`, `?`, `[...]` (filepath.Match syntax) to a RegExp. */
function segmentRegExp(seg: string): RegExp {
  let re = '^';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i]!;
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = seg.indexOf(']', i + 2);
      if (end < 0) throw new Error(`syntax error in pattern ${JSON.stringify(seg)}`);
      let body = seg.slice(i + 1, end);
      if (body.startsWith('^')) body = '^' + body.slice(1).replace(/[\\\]]/g, '\\$&');
      else body = body.replace(/[\\\]]/g, '\\$&');
      re += `[${body}]`;
      i = end;
    } else if (c === '\\' && i + 1 < seg.length) re += seg[++i]!.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
    else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  return new RegExp(re + '$');
}

/** Expands a glob (`*`, `?`, `[...]` per path segment, like Go's filepath.Glob), sorted. */
export async function expandGlob(pattern: string, baseDir: string): Promise<string[]> {
  const abs = isAbsolute(pattern) ? pattern : resolve(baseDir, pattern);
  if (!MAGIC.test(abs)) return [abs];
  const parts = abs.split(sep);
  let paths = [parts[0] === '' ? sep : parts[0]!];
  for (let i = 1; i < parts.length; i++) {
    const seg = parts[i]!;
    if (seg === '') continue;
    const next: string[] = [];
    if (!MAGIC.test(seg)) {
      for (const p of paths) next.push(join(p, seg));
    } else {
      const re = segmentRegExp(seg);
      for (const p of paths) {
        let names: string[];
        try {
          names = await readdir(p);
        } catch {
          continue;
        }
        for (const n of names.sort()) if (re.test(n) && !(n.startsWith('.') && !seg.startsWith('.'))) next.push(join(p, n));
      }
    }
    paths = next;
  }
  const out: string[] = [];
  for (const p of paths) {
    try {
      if ((await stat(p)).isFile()) out.push(p);
    } catch {
      // vanished or not accessible: like filepath.Glob, only existing files match
    }
  }
  return out.sort();
}
