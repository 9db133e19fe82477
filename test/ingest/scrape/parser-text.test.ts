import { describe, expect, it } from 'vitest';
import { ExpositionParseError, type ExpositionEntry, type SampleEntry } from '../../../src/ingest/scrape/exposition.js';
import { parseText } from '../../../src/ingest/scrape/parser-text.js';
import { labelsGet, labelsToObject } from '../../../src/model/labels.js';

const samples = (body: string): SampleEntry[] => [...parseText(body)].filter((e): e is SampleEntry => e.kind === 'sample');
const metas = (body: string) => [...parseText(body)].filter((e) => e.kind === 'meta');

function parseErr(body: string): ExpositionParseError {
  try {
    [...parseText(body)];
  } catch (e) {
    expect(e).toBeInstanceOf(ExpositionParseError);
    return e as ExpositionParseError;
  }
  throw new Error('expected a parse error');
}

const NODE_EXPORTER = `# HELP go_gc_duration_seconds A summary of the pause duration of garbage collection cycles.
# TYPE go_gc_duration_seconds summary
go_gc_duration_seconds{quantile="0"} 2.5846e-05
go_gc_duration_seconds{quantile="0.25"} 3.3564e-05
go_gc_duration_seconds{quantile="1"} 0.000870231
go_gc_duration_seconds_sum 0.148163573
go_gc_duration_seconds_count 3075
# HELP node_cpu_seconds_total Seconds the CPUs spent in each mode.
# TYPE node_cpu_seconds_total counter
node_cpu_seconds_total{cpu="0",mode="idle"} 1.04398362e+06
node_cpu_seconds_total{cpu="0",mode="iowait"} 1015.82
node_cpu_seconds_total{cpu="1",mode="user"} 45108.2
# HELP node_filesystem_avail_bytes Filesystem space available to non-root users in bytes.
# TYPE node_filesystem_avail_bytes gauge
node_filesystem_avail_bytes{device="/dev/sda1",fstype="ext4",mountpoint="/"} 4.2113794048e+10
# HELP node_uname_info Labeled system information as provided by the uname system call.
# TYPE node_uname_info gauge
node_uname_info{domainname="(none)",machine="x86_64",nodename="host-1",release="6.1.0-18-amd64",sysname="Linux",version="#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)"} 1
# HELP node_scrape_collector_success node_exporter: Whether a collector succeeded.
# TYPE node_scrape_collector_success gauge
node_scrape_collector_success{collector="arp"} 1
# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.
# TYPE process_start_time_seconds gauge
process_start_time_seconds 1.70895127754e+09
`;

const HISTOGRAM = `# HELP http_request_duration_seconds A histogram of the request duration.
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.05"} 24054
http_request_duration_seconds_bucket{le="0.1"} 33444
http_request_duration_seconds_bucket{le="0.2"} 100392
http_request_duration_seconds_bucket{le="+Inf"} 144320
http_request_duration_seconds_sum 53423
http_request_duration_seconds_count 144320
`;

describe('parseText', () => {
  it('parses node_exporter-like output with summaries, counters and gauges', () => {
    const all = [...parseText(NODE_EXPORTER)];
    const ss = all.filter((e): e is SampleEntry => e.kind === 'sample');
    expect(ss).toHaveLength(12);
    expect(ss[0]).toMatchObject({ name: 'go_gc_duration_seconds', value: 2.5846e-5, line: 3 });
    expect(labelsToObject(ss[0]!.labels)).toEqual({ __name__: 'go_gc_duration_seconds', quantile: '0' });
    const cpu = ss.find((s) => labelsGet(s.labels, 'mode') === 'iowait')!;
    expect(cpu.value).toBe(1015.82);
    const uname = ss.find((s) => s.name === 'node_uname_info')!;
    expect(labelsGet(uname.labels, 'version')).toBe('#1 SMP PREEMPT_DYNAMIC Debian 6.1.76-1 (2024-02-01)');
    expect(ss.at(-1)!.value).toBe(1.70895127754e9);
    const ms = all.filter((e) => e.kind === 'meta');
    expect(ms).toHaveLength(12);
    expect(ms[1]).toMatchObject({ metric: 'go_gc_duration_seconds', type: 'summary' });
    expect(ms.find((m) => m.metric === 'node_cpu_seconds_total' && m.type)).toMatchObject({ type: 'counter' });
  });

  it('labels are sorted and include __name__', () => {
    const [s] = samples('m{z="1",a="2",m="3"} 1\n');
    expect(s!.labels.map((l) => l.name)).toEqual(['__name__', 'a', 'm', 'z']);
  });

  it('parses histograms including +Inf buckets', () => {
    const ss = samples(HISTOGRAM);
    expect(ss).toHaveLength(6);
    expect(ss.map((s) => labelsGet(s.labels, 'le'))).toEqual(['0.05', '0.1', '0.2', '+Inf', '', '']);
    expect(metas(HISTOGRAM)[1]).toMatchObject({ type: 'histogram' });
  });

  it('handles the documented example incl. escaping, timestamps and special values', () => {
    const body = [
      '# HELP http_requests_total The total number of HTTP requests.',
      '# TYPE http_requests_total counter',
      'http_requests_total{method="post",code="200"} 1027 1395066363000',
      'http_requests_total{method="post",code="400"}    3   1395066363000',
      '',
      '# Escaping in label values:',
      'msdos_file_access_time_seconds{path="C:\\\\DIR\\\\FILE.TXT",error="Cannot find file:\\n\\"FILE.TXT\\""} 1.458255915e9',
      'metric_without_timestamp_and_labels 12.47',
      'something_weird{problem="division by zero"} +Inf -3982045',
      'neg -Inf',
      'nan NaN',
    ].join('\n');
    const ss = samples(body);
    expect(ss).toHaveLength(7);
    expect(ss[0]!.timestampMs).toBe(1395066363000);
    expect(ss[1]!.value).toBe(3);
    expect(labelsGet(ss[2]!.labels, 'path')).toBe('C:\\DIR\\FILE.TXT');
    expect(labelsGet(ss[2]!.labels, 'error')).toBe('Cannot find file:\n"FILE.TXT"');
    expect(ss[3]!.timestampMs).toBeUndefined();
    expect(ss[4]!.value).toBe(Infinity);
    expect(ss[4]!.timestampMs).toBe(-3982045);
    expect(ss[5]!.value).toBe(-Infinity);
    expect(Number.isNaN(ss[6]!.value)).toBe(true);
  });

  it('unescapes HELP text (backslash and newline only)', () => {
    const [m] = metas('# HELP foo line one\\nline \\\\two \\"q\\"\n');
    expect(m).toMatchObject({ metric: 'foo', help: 'line one\nline \\two \\"q\\"' });
  });

  it('maps untyped to unknown and ignores other comments', () => {
    const es = [...parseText('# random comment\n#\n# TYPE foo untyped\nfoo 1\n')];
    expect(es).toHaveLength(2);
    expect(es[0]).toMatchObject({ kind: 'meta', type: 'unknown' });
  });

  it('accepts quoted UTF-8 metric and label names', () => {
    const body = '# TYPE "my.metric" gauge\n{"my.metric", "a.b"="c", plain="p"} 2\nfoo{"ünïcødé"="x"} 1\n';
    const es = [...parseText(body)];
    expect(es[0]).toMatchObject({ kind: 'meta', metric: 'my.metric', type: 'gauge' });
    const s = es[1] as SampleEntry;
    expect(s.name).toBe('my.metric');
    expect(labelsToObject(s.labels)).toEqual({ __name__: 'my.metric', 'a.b': 'c', plain: 'p' });
    expect(labelsGet((es[2] as SampleEntry).labels, 'ünïcødé')).toBe('x');
  });

  it('accepts a trailing comma, blanks in braces, CRLF and drops empty label values', () => {
    const [s] = samples('foo { a = "1" , b="" , } 5\r\n');
    expect(labelsToObject(s!.labels)).toEqual({ __name__: 'foo', a: '1' });
    expect(s!.value).toBe(5);
  });

  it('reports errors with line numbers', () => {
    expect(parseErr('a 1\nb\n').message).toBe('line 2: expected value after metric name');
    expect(parseErr('a 1\nb{x="1"} abc\n').message).toBe('line 2: invalid value "abc"');
    expect(parseErr('ok 1\n\nbad{x="1} 2\n').line).toBe(3);
    expect(parseErr('x{a="1",a="2"} 1\n').message).toContain('duplicate label name "a"');
    expect(parseErr('x 1 12.5\n').message).toContain('invalid timestamp');
    expect(parseErr('x 1 1 extra\n').message).toContain('unexpected text after timestamp');
    expect(parseErr('# TYPE x bogus\n').message).toBe('line 1: invalid metric type "bogus"');
    expect(parseErr('1x 1\n').message).toContain('invalid metric name');
    expect(parseErr('x{1a="b"} 1\n').message).toContain('invalid label name');
    expect(parseErr('{a="b"} 1\n').message).toContain('missing metric name');
    expect(parseErr('x{a="b" c="d"} 1\n').message).toContain("expected ',' or '}'");
  });

  it('enforces limits', () => {
    expect(() => [...parseText('x' + 'y'.repeat(100) + ' 1\n', { maxLineLength: 50 })]).toThrow(/line 1: line longer than 50/);
    const many = 'x{' + Array.from({ length: 10 }, (_, i) => `l${i}="v"`).join(',') + '} 1\n';
    expect(() => [...parseText(many, { maxLabels: 5 })]).toThrow(/more than 5 labels/);
    expect(() => [...parseText('x{a="' + 'v'.repeat(20) + '"} 1\n', { maxLabelValueLength: 10 })]).toThrow(/label value longer than 10/);
    expect(samples(many)).toHaveLength(1);
  });

  it('is lazy: entries before an error are produced first', () => {
    const it = parseText('a 1\nb 2\n!!!\n')[Symbol.iterator]();
    const got: ExpositionEntry[] = [];
    expect(() => {
      for (let r = it.next(); !r.done; r = it.next()) got.push(r.value);
    }).toThrow(ExpositionParseError);
    expect(got).toHaveLength(2);
  });
});
