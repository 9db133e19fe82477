import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ExpositionParseError, type ExpositionEntry } from '../../../src/ingest/scrape/exposition.js';
import { parseOpenMetrics } from '../../../src/ingest/scrape/parser-openmetrics.js';
import { parseText } from '../../../src/ingest/scrape/parser-text.js';

const SEED = 424242;
const RUNS = 10_000;

const VALID_TEXT = `# HELP http_requests_total The total.\\n x
# TYPE http_requests_total counter
http_requests_total{method="post",code="200"} 1027 1395066363000
msdos{path="C:\\\\DIR",error="a\\n\\"b\\""} 1.458255915e9
h_bucket{le="+Inf"} 3
{"my.metric","a.b"="c"} NaN
plain -Inf
`;

const VALID_OM = `# TYPE foo histogram
# HELP foo A "help" \\n x
# UNIT foo seconds
foo_bucket{le="0.1"} 8 # {trace_id="KOO5S4vxi0o"} 0.067 1520879602.890
foo_count 17 1520879607.789
foo_created 1520430000.123
{"my.metric","a.b"="c"} 1
# EOF
`;

/** Runs a parser to completion: entries, or a typed parse error; anything else fails the property. */
function check(parse: (s: string) => Iterable<ExpositionEntry>, body: string): void {
  try {
    for (const e of parse(body)) {
      if (e.kind === 'sample') {
        if (typeof e.value !== 'number') throw new Error('non-number value');
        if (e.labels[0]?.name !== '__name__' && !e.labels.some((l) => l.name === '__name__')) throw new Error('missing __name__');
        for (let i = 1; i < e.labels.length; i++) if (!(e.labels[i - 1]!.name < e.labels[i]!.name)) throw new Error('labels not sorted/unique');
      }
    }
  } catch (err) {
    if (!(err instanceof ExpositionParseError)) throw err;
    expect(err.message).toMatch(/^line \d+: /);
  }
}

const ALPHABET = ['a', 'b', '_', ':', '{', '}', '"', '\\', '=', ',', ' ', '\t', '\n', '#', '1', '.', 'e', '+', '-', 'N', 'a', 'I', 'n', 'f', 'ü', 'EOF', 'TYPE', 'HELP', 'UNIT', '\r'];
const tokenSoup = fc.array(fc.constantFrom(...ALPHABET), { maxLength: 80 }).map((a) => a.join(''));

/** Mutations of a valid body: delete / insert / replace / duplicate a slice. */
function mutated(base: string) {
  return fc
    .array(
      fc.tuple(fc.nat({ max: base.length }), fc.nat({ max: 12 }), fc.oneof(fc.string({ maxLength: 6 }), fc.constantFrom(...ALPHABET)), fc.constantFrom('del', 'ins', 'rep', 'dup')),
      { minLength: 1, maxLength: 4 },
    )
    .map((ops) => {
      let s = base;
      for (const [pos, len, str, op] of ops) {
        const p = Math.min(pos, s.length);
        if (op === 'del') s = s.slice(0, p) + s.slice(p + len);
        else if (op === 'ins') s = s.slice(0, p) + str + s.slice(p);
        else if (op === 'rep') s = s.slice(0, p) + str + s.slice(p + len);
        else s = s.slice(0, p) + s.slice(p, p + len) + s.slice(p);
      }
      return s;
    });
}

describe('exposition parser fuzzing', () => {
  it('text parser: random strings, token soup and mutated valid bodies', () => {
    const arb = fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), tokenSoup, mutated(VALID_TEXT));
    fc.assert(
      fc.property(arb, (s) => check(parseText, s)),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('OpenMetrics parser: random strings, token soup and mutated valid bodies', () => {
    const arb = fc.oneof(fc.string({ maxLength: 200, unit: 'binary' }), tokenSoup, mutated(VALID_OM));
    fc.assert(
      fc.property(arb, (s) => check(parseOpenMetrics, s)),
      { seed: SEED, numRuns: RUNS },
    );
  });

  it('valid bases parse without error (the mutations start from good input)', () => {
    expect([...parseText(VALID_TEXT)].length).toBe(7);
    expect([...parseOpenMetrics(VALID_OM)].length).toBe(7);
  });

  it('large pathological input finishes quickly (no quadratic behaviour)', () => {
    const t0 = performance.now();
    const big = 'x{a="' + '\\\\'.repeat(200_000) + '"} 1\n';
    expect([...parseText(big, { maxLabelValueLength: 1 << 20 })]).toHaveLength(1);
    expect(() => [...parseText('{'.repeat(500_000))]).toThrow(ExpositionParseError);
    expect(() => [...parseOpenMetrics('a{' + 'b="c",'.repeat(100_000) + '} 1\n# EOF\n', { maxLabels: 1_000_000 })]).toThrow(ExpositionParseError);
    expect(performance.now() - t0).toBeLessThan(3000);
  });
});
