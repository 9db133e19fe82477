import { describe, expect, it } from 'vitest';
import { expandAlertTemplate, expandTemplate, TemplateError, type QuerySample } from '../../../src/rules/template/index.js';
import { GoSlice } from '../../../src/rules/template/values.js';

const ints = (...xs: bigint[]): GoSlice => new GoSlice(xs, '[]int64');
const MAX_INT64 = (1n << 63n) - 1n;

function run(text: string, data: unknown = null, query?: readonly QuerySample[]): string {
  return expandTemplate('test', text, data, {
    externalURL: 'http://testhost:9090/path/prefix',
    query: query ? () => query : undefined,
  });
}

describe('Prometheus template functions (documented behaviour)', () => {
  const cases: readonly (readonly [string, unknown, string])[] = [
    ['{{ range . }}{{ humanize . }}:{{ end }}', [0, 1, 1234567, 0.12], '0:1:1.235M:120m:'],
    ['{{ range . }}{{ humanize . }}:{{ end }}', ['0.0', '1.0', '1234567.0', '.12'], '0:1:1.235M:120m:'],
    ['{{ range . }}{{ humanize . }}:{{ end }}', ints(0n, -1n, 1n, 1234567n, MAX_INT64), '0:-1:1:1.235M:9.223E:'],
    ['{{ humanize 1234567 }} {{ humanize 0.000001234 }} {{ humanize -2500 }}', null, '1.235M 1.234u -2.5k'],
    ['{{ range . }}{{ humanize1024 . }}:{{ end }}', [0, 1, 1048576, 0.12], '0:1:1Mi:0.12:'],
    ['{{ range . }}{{ humanize1024 . }}:{{ end }}', ints(0n, -1n, 1n, 1234567n, MAX_INT64), '0:-1:1:1.177Mi:8Ei:'],
    [
      '{{ range . }}{{ humanizeDuration . }}:{{ end }}',
      [0, 1, 60, 3600, 86400, 86400 + 3600, -(86400 * 2 + 3600 * 3 + 60 * 4 + 5), 899.99],
      '0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:1d 1h 0m 0s:-2d 3h 4m 5s:14m 59s:',
    ],
    ['{{ range . }}{{ humanizeDuration . }}:{{ end }}', ['0', '1', '60', '3600', '86400'], '0s:1s:1m 0s:1h 0m 0s:1d 0h 0m 0s:'],
    ['{{ range . }}{{ humanizeDuration . }}:{{ end }}', [0.1, 0.0001, 0.12345, 60.1, 60.5, 1.2345, 12.345], '100ms:100us:123.5ms:1m 0s:1m 0s:1.234s:12.35s:'],
    ['{{ range . }}{{ humanizeDuration . }}:{{ end }}', ints(0n, -1n, 1n, 1234567n), '0s:-1s:1s:14d 6h 56m 7s:'],
    ['{{ humanizeDuration 90 }}', null, '1m 30s'],
    [
      '{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}',
      [Infinity, -Infinity, NaN],
      '+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:',
    ],
    [
      '{{ range . }}{{ humanize . }}:{{ humanize1024 . }}:{{ humanizeDuration . }}:{{humanizeTimestamp .}}:{{ end }}',
      ['+Inf', '-Inf', 'NaN'],
      '+Inf:+Inf:+Inf:+Inf:-Inf:-Inf:-Inf:-Inf:NaN:NaN:NaN:NaN:',
    ],
    ['{{ -0.22222 | humanizePercentage }}:{{ 0.0 | humanizePercentage }}:{{ 0.1234567 | humanizePercentage }}:{{ 1.23456 | humanizePercentage }}', null, '-22.22%:0%:12.35%:123.5%'],
    ['{{ range . }}{{ humanizePercentage . }}:{{ end }}', ints(0n, -1n, 1n, 1234567n, MAX_INT64), '0%:-100%:100%:1.235e+08%:9.223e+20%:'],
    ['{{ humanizePercentage 0.1234 }}', null, '12.34%'],
    [
      '{{ range . }}{{ humanizeTimestamp . }}:{{ end }}',
      ints(0n, -1n, 1n, 1234567n, 9223372036n),
      '1970-01-01 00:00:00 +0000 UTC:1969-12-31 23:59:59 +0000 UTC:1970-01-01 00:00:01 +0000 UTC:1970-01-15 06:56:07 +0000 UTC:2262-04-11 23:47:16 +0000 UTC:',
    ],
    ['{{ 1435065584.128 | humanizeTimestamp }}', null, '2015-06-23 13:19:44.128 +0000 UTC'],
    ['{{ "1435065584.128" | humanizeTimestamp }}', null, '2015-06-23 13:19:44.128 +0000 UTC'],
    ['{{ (1435065584.128 | toTime).Format "2006" }}', null, '2015'],
    ['{{ ("1435065584.128" | toTime).Format "2006-01-02T15:04:05.000Z07:00 Mon Jan _2 3PM" }}', null, '2015-06-23T13:19:44.128Z Tue Jun 23 1PM'],
    ['{{ 1435065584.128 | toTime }}', null, '2015-06-23 13:19:44.128 +0000 UTC'],
    ['{{ toDuration 90 }} {{ toDuration 0.0015 }} {{ toDuration 3661.5 }} {{ (toDuration 90).Minutes }}', null, '1m30s 1.5ms 1h1m1.5s 1.5'],
    ['{{ "aa bb CC" | title }}', null, 'Aa Bb CC'],
    ['{{ "aa bb CC" | toUpper }}', null, 'AA BB CC'],
    ['{{ "aA bB CC" | toLower }}', null, 'aa bb cc'],
    ['{{ match "a+" "aa" }} {{ match "a+" "b" }}', null, 'true false'],
    ['{{ match "(?i)^AB$" "ab" }} {{ match "^[[:digit:]]+$" "123" }}', null, 'true true'],
    ['{{ reReplaceAll "(a)b" "x$1" "ab" }}', null, 'xa'],
    ['{{ reReplaceAll "(?P<host>[^:]+):(\\\\d+)" "${host}/$2" "node1:9100" }}', null, 'node1/9100'],
    ['{{ reReplaceAll "a*" "-" "baaac" }}', null, '-b-c-'],
    ['{{ reReplaceAll "(\\\\w+)" "$1x" "ab" }}', null, ''],
    ['{{ graphLink "up" }}', null, '/graph?g0.expr=up&g0.tab=0'],
    ['{{ tableLink "rate(x[5m]) > 1" }}', null, '/graph?g0.expr=rate%28x%5B5m%5D%29+%3E+1&g0.tab=1'],
    ['{{ pathPrefix }}', null, '/path/prefix'],
    ['{{ externalURL }}', null, 'http://testhost:9090/path/prefix'],
    ['{{ printf "%0.2f" (parseDuration "1h2m10ms") }}', null, '3720.01'],
    ['{{ urlQueryEscape "a b/c" }}', null, 'a+b%2Fc'],
    ['{{ "<b>" | safeHtml }}', null, '<b>'],
    ['{{define "x"}}{{.arg0}} {{.arg1}}{{end}}{{template "x" (args 1 "2")}}', null, '1 2'],
    ['{{ (args 1).arg5 }}', null, '<no value>'],
  ];
  it.each(cases)('%s', (text, data, want) => {
    expect(run(text, data)).toBe(want);
  });

  const hostCases: readonly (readonly [string, string, string])[] = [
    ['foo.example.com', 'foo.example.com', 'foo'],
    ['foo.example.com:12345', 'foo.example.com', 'foo:12345'],
    ['192.0.2.1', '192.0.2.1', '192.0.2.1'],
    ['192.0.2.1:12345', '192.0.2.1', '192.0.2.1:12345'],
    ['2001:0DB8::1', '2001:0DB8::1', '2001:0DB8::1'],
    ['[2001:0DB8::1]:12345', '2001:0DB8::1', '[2001:0DB8::1]:12345'],
    ['[2001:0DB8::1]::12345', '[2001:0DB8::1]::12345', '[2001:0DB8::1]::12345'],
  ];
  it.each(hostCases)('stripPort/stripDomain %s', (input, port, domain) => {
    expect(run('{{ . | stripPort }}', input)).toBe(port);
    expect(run('{{ . | stripDomain }}', input)).toBe(domain);
  });

  it('reports bad regular expressions', () => {
    expect(() => run('{{ match "(" "x" }}')).toThrow(/error calling match: error parsing regexp/);
    expect(() => run('{{ reReplaceAll "(" "" "x" }}')).toThrow(/error calling reReplaceAll: regexp: Compile\(`\(`\): error parsing regexp/);
    expect(() => run('{{ match "a(?i)b" "x" }}')).toThrow(/error calling match/);
  });

  it('uses the current time for now', () => {
    const out = expandTemplate('t', '{{ now }}', null, { timestampMs: 1_700_000_000_500 });
    expect(out).toBe('1.7000000005e+09');
  });
});

describe('query, first, label, value, sortByLabel', () => {
  const vec: QuerySample[] = [
    { labels: { __name__: 'metric', instance: 'b' }, value: 21 },
    { labels: { __name__: 'metric', instance: 'a', __value__: 'sv' }, value: 11 },
  ];
  it('gets values and labels', () => {
    expect(run('{{ query "metric" | first | value }}', null, vec)).toBe('21');
    expect(run('{{ query "metric" | first | label "instance" }}', null, vec)).toBe('b');
    expect(run('{{ query "metric" | first | label "foo" }}|', null, vec)).toBe('|');
    expect(run('{{ $x := query "metric" | first }}{{ $x.Labels.foo }}|', null, vec)).toBe('|');
    expect(run('{{ (index (query "m") 1) | strvalue }}', null, vec)).toBe('sv');
  });
  it('ranges sorted by label', () => {
    expect(run('{{ range query "metric" | sortByLabel "instance" }}{{.Labels.instance}}:{{.Value}}: {{end}}', null, vec)).toBe('a:11: b:21: ');
  });
  it('passes the query string through', () => {
    const seen: string[] = [];
    const out = expandAlertTemplate(
      'R',
      '{{ printf `up{instance="%s"}` $labels.instance | query | first | value | humanize }}',
      { labels: { instance: 'h:1' }, externalLabels: {}, externalURL: '', value: 1 },
      { query: (q) => (seen.push(q), [{ labels: {}, value: 1500 }]) },
    );
    expect(out).toBe('1.5k');
    expect(seen).toEqual(['up{instance="h:1"}']);
  });
  it('reports an empty vector in first like Prometheus', () => {
    expect(() => run('{{ query "missing" | first }}', null, [])).toThrow(
      'template: test:1:21: executing "test" at <first>: error calling first: first() called on vector with no elements',
    );
  });
  it('fails query without a query function', () => {
    expect(() => run('{{ query "x" }}')).toThrow(TemplateError);
  });
});
