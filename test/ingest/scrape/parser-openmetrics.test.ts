import { describe, expect, it } from 'vitest';
import { ExpositionParseError, formatFromContentType, type MetaEntry, type SampleEntry } from '../../../src/ingest/scrape/exposition.js';
import { parseOpenMetrics } from '../../../src/ingest/scrape/parser-openmetrics.js';
import { parseByContentType } from '../../../src/ingest/scrape/parse.js';
import { labelsGet, labelsToObject } from '../../../src/model/labels.js';

const all = (body: string) => [...parseOpenMetrics(body)];
const samples = (body: string) => all(body).filter((e): e is SampleEntry => e.kind === 'sample');

function parseErr(body: string): ExpositionParseError {
  try {
    all(body);
  } catch (e) {
    expect(e).toBeInstanceOf(ExpositionParseError);
    return e as ExpositionParseError;
  }
  throw new Error('expected a parse error');
}

const OM = `# TYPE acme_http_router_request_seconds summary
# UNIT acme_http_router_request_seconds seconds
# HELP acme_http_router_request_seconds Latency though all of ACME's HTTP request router.
acme_http_router_request_seconds_sum{path="/api/v1",method="GET"} 9036.32
acme_http_router_request_seconds_count{path="/api/v1",method="GET"} 807283.0
acme_http_router_request_seconds_created{path="/api/v1",method="GET"} 1605281325.0
# TYPE go_goroutines gauge
# HELP go_goroutines Number of goroutines that currently exist.
go_goroutines 69
# TYPE process_cpu_seconds counter
# UNIT process_cpu_seconds seconds
# HELP process_cpu_seconds Total user and system CPU time spent in seconds.
process_cpu_seconds_total 4.20072246e+06
process_cpu_seconds_created 1.6e9
# TYPE foo histogram
foo_bucket{le="0.1"} 8 # {trace_id="KOO5S4vxi0o"} 0.067 1520879602.890
foo_bucket{le="+Inf"} 17 # {} 0.5
foo_count 17
foo_sum 324789.3
foo_created 1520430000.123
# TYPE state stateset
state{state="a"} 1
state{state="b"} 0
# TYPE build info
build_info{version="1.2.3"} 1
# EOF
`;

describe('parseOpenMetrics', () => {
  it('parses summaries, counters with _created, histograms with exemplars, statesets and info', () => {
    const es = all(OM);
    const ss = es.filter((e): e is SampleEntry => e.kind === 'sample');
    const ms = es.filter((e): e is MetaEntry => e.kind === 'meta');
    expect(ss.map((s) => s.name)).toEqual([
      'acme_http_router_request_seconds_sum',
      'acme_http_router_request_seconds_count',
      'acme_http_router_request_seconds_created',
      'go_goroutines',
      'process_cpu_seconds_total',
      'process_cpu_seconds_created',
      'foo_bucket',
      'foo_bucket',
      'foo_count',
      'foo_sum',
      'foo_created',
      'state',
      'state',
      'build_info',
    ]);
    expect(ss[1]!.value).toBe(807283);
    expect(ss[2]!.value).toBe(1605281325);
    expect(ms.find((m) => m.unit !== undefined)).toMatchObject({ metric: 'acme_http_router_request_seconds', unit: 'seconds' });
    expect(ms.find((m) => m.help !== undefined)!.help).toBe("Latency though all of ACME's HTTP request router.");
    expect(ms.filter((m) => m.type).map((m) => m.type)).toEqual(['summary', 'gauge', 'counter', 'histogram', 'stateset', 'info']);
    const b = ss[6]!;
    expect(b.exemplar).toBeDefined();
    expect(labelsToObject(b.exemplar!.labels)).toEqual({ trace_id: 'KOO5S4vxi0o' });
    expect(b.exemplar!.value).toBe(0.067);
    expect(b.exemplar!.t).toBe(1520879602890);
    expect(ss[7]!.exemplar).toEqual({ labels: [], value: 0.5, t: 0 });
  });

  it('converts float-second timestamps to ms', () => {
    const ss = samples('a 1 1520879607.789\nb 2 1520879607\nc 3 1.5e3\n# EOF\n');
    expect(ss.map((s) => s.timestampMs)).toEqual([1520879607789, 1520879607000, 1500000]);
  });

  it('timestamp and exemplar together', () => {
    const [s] = samples('a_total 5 100 # {id="x"} 1 99.5\n# EOF\n');
    expect(s!.timestampMs).toBe(100000);
    expect(s!.exemplar).toEqual({ labels: [{ name: 'id', value: 'x' }], value: 1, t: 99500 });
  });

  it('accepts # EOF without a final newline and special values', () => {
    const ss = samples('a NaN\nb +Inf\nc -Inf\n# EOF');
    expect(Number.isNaN(ss[0]!.value)).toBe(true);
    expect(ss[1]!.value).toBe(Infinity);
    expect(ss[2]!.value).toBe(-Infinity);
  });

  it('decodes escapes in label values and HELP', () => {
    const es = all('# HELP m a \\"quoted\\" \\\\ \\n end\nm{v="x\\"y\\\\z\\nw"} 1\n# EOF\n');
    expect((es[0] as MetaEntry).help).toBe('a "quoted" \\ \n end');
    expect(labelsGet((es[1] as SampleEntry).labels, 'v')).toBe('x"y\\z\nw');
  });

  it('accepts quoted UTF-8 names', () => {
    const es = all('# TYPE "my.counter" counter\n{"my.counter_total","zone.name"="eu-1"} 3 # {"trace.id"="t"} 1\n# EOF\n');
    expect(es[0]).toMatchObject({ metric: 'my.counter', type: 'counter' });
    const s = es[1] as SampleEntry;
    expect(labelsToObject(s.labels)).toEqual({ __name__: 'my.counter_total', 'zone.name': 'eu-1' });
    expect(labelsGet(s.exemplar!.labels, 'trace.id')).toBe('t');
  });

  it('requires # EOF and nothing after it', () => {
    expect(parseErr('a 1\n').message).toBe('line 2: unexpected end of input: missing # EOF');
    expect(parseErr('').message).toContain('missing # EOF');
    expect(parseErr('a 1\n# EOF\nb 2\n').message).toBe('line 3: unexpected data after # EOF');
    expect(parseErr('# EOF\n\n').line).toBe(2);
  });

  it('is strict about whitespace, empty lines and comments', () => {
    expect(parseErr('a 1\n\nb 2\n# EOF\n').message).toBe('line 2: unexpected empty line');
    expect(parseErr('a  1\n# EOF\n').message).toContain('extra whitespace');
    expect(parseErr('a{b="c" } 1\n# EOF\n').line).toBe(1);
    expect(parseErr('# random comment\n# EOF\n').message).toContain('invalid comment');
    expect(parseErr('a{b="c",} 1\n# EOF\n').message).toContain("unexpected ','");
  });

  it('reports errors with line numbers', () => {
    expect(parseErr('ok 1\nbad\n# EOF\n').message).toBe('line 2: expected value after metric name');
    expect(parseErr('ok 1\nbad xyz\n# EOF\n').message).toBe('line 2: invalid value "xyz"');
    expect(parseErr('# TYPE a bogus\n# EOF\n').message).toContain('line 1: invalid metric type');
    expect(parseErr('a 1 # {x="y"}\n# EOF\n').message).toContain('expected exemplar value');
    expect(parseErr('a 1 NaNs\n# EOF\n').message).toContain('invalid timestamp');
    expect(parseErr('a 1 1 2\n# EOF\n').message).toContain('line 1:');
    expect(parseErr('a 1 # {' + `x="${'v'.repeat(130)}"` + '} 1\n# EOF\n').message).toContain('more than 128');
  });

  it('formatFromContentType and parseByContentType pick the parser', () => {
    expect(formatFromContentType('application/openmetrics-text; version=1.0.0; charset=utf-8')).toBe('openmetrics');
    expect(formatFromContentType('text/plain; version=0.0.4')).toBe('text');
    expect(formatFromContentType(undefined)).toBe('text');
    // the same body is valid text (no EOF needed) but not OpenMetrics
    expect([...parseByContentType('a 1\n', 'text/plain')]).toHaveLength(1);
    expect(() => [...parseByContentType('a 1\n', 'application/openmetrics-text')]).toThrow(/missing # EOF/);
  });
});
