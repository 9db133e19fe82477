import { describe, expect, it } from 'vitest';
import {
  checkTemplate,
  expandAlertTemplate,
  expandAlertTemplateAsync,
  expandOrError,
  expandTemplate,
  TemplateError,
  type TemplateData,
} from '../../../src/rules/template/index.js';

const data: TemplateData = { labels: { instance: 'h:9100', job: 'node' }, externalLabels: { cluster: 'c1' }, externalURL: 'http://p:9090', value: 42 };

function err(text: string, d: unknown = null): TemplateError {
  try {
    expandTemplate('test', text, d);
  } catch (e) {
    expect(e).toBeInstanceOf(TemplateError);
    return e as TemplateError;
  }
  throw new Error(`expected ${text} to fail`);
}

describe('parse errors (Go messages)', () => {
  const cases: readonly (readonly [string, string])[] = [
    ['{{', 'template: test:1: unclosed action'],
    ['{{ }}', 'template: test:1: missing value for command'],
    ['{{\u00a0}}', 'template: test:1: unrecognized character in action: U+00A0'],
    ['{{end}}', 'template: test:1: unexpected {{end}}'],
    ['{{else}}', 'template: test:1: unexpected {{else}}'],
    ['{{if .}}x', 'template: test:1: unexpected EOF'],
    ['{{if}}{{end}}', 'template: test:1: missing value for if'],
    ['{{range}}{{end}}', 'template: test:1: missing value for range'],
    ['{{nope 1}}', 'template: test:1: function "nope" not defined'],
    ['{{$x}}', 'template: test:1: undefined variable "$x"'],
    ['{{"abc}}', 'template: test:1: unterminated quoted string'],
    ['{{(1}}', 'template: test:1: unclosed left paren'],
    ['{{1)}}', 'template: test:1: unexpected right paren'],
    ['{{/* x }}', 'template: test:1: unclosed comment'],
    ['{{/* x */ 1}}', 'template: test:1: comment ends before closing delimiter'],
    ['{{break}}', 'template: test:1: {{break}} outside {{range}}'],
    ['{{.a | 1}}', 'template: test:1: non executable command in pipeline stage 2'],
    ['{{3x}}', 'template: test:1: bad number syntax: "3x"'],
    ['{{"a".b}}', 'template: test:1: unexpected . after term "\\"a\\""'],
    ['{{template .x}}', 'template: test:1: unexpected ".x" in template clause'],
    ['a\nb\n{{if 1}}\n{{end}}{{end}}', 'template: test:4: unexpected {{end}}'],
    ['{{define "a"}}1{{end}}{{define "a"}}2{{end}}', 'template: test:1: template: multiple definition of template "a"'],
    ['{{range $i, $j, $k := .}}{{end}}', 'template: test:1: too many declarations in range'],
    ['{{if 1}}\n\n{{', 'template: test:3: unclosed action'],
    ['{{ :}}', 'template: test:1: expected :='],
  ];
  it.each(cases)('%j', (text, msg) => {
    const e = err(text);
    expect(e.phase).toBe('parse');
    expect(e.message).toBe(msg);
  });

  it('checkTemplate reports parse errors only', () => {
    expect(checkTemplate('R', '{{ $labels.instance }} {{ $value | humanize }}')).toBeUndefined();
    expect(checkTemplate('R', '{{ .Nope.Field }}')).toBeUndefined();
    expect(checkTemplate('R', '{{ humanise $value }}')?.message).toBe('template: __alert_R:1: function "humanise" not defined');
  });
});

describe('execution errors (Go messages)', () => {
  const cases: readonly (readonly [string, unknown, string])[] = [
    ['{{ humanize "one" }}', null, 'template: test:1:3: executing "test" at <humanize "one">: error calling humanize: strconv.ParseFloat: parsing "one": invalid syntax'],
    ['{{ "one" | humanizePercentage }}', null, 'template: test:1:11: executing "test" at <humanizePercentage>: error calling humanizePercentage: strconv.ParseFloat: parsing "one": invalid syntax'],
    ['{{ humanize }}', null, 'template: test:1:3: executing "test" at <humanize>: wrong number of args for humanize: want 1 got 0'],
    ['{{ nil }}', null, 'template: test:1:3: executing "test" at <nil>: nil is not a command'],
    ['{{ 1 2 }}', null, 'template: test:1:3: executing "test" at <1>: can\'t give argument to non-function 1'],
    ['{{ template "x" }}', null, 'template: test:1:12: executing "test" at <{{template "x"}}>: template "x" not defined'],
    ['{{ lt 1 1.5 }}', null, 'template: test:1:3: executing "test" at <lt 1 1.5>: error calling lt: incompatible types for comparison'],
    ['{{ eq . }}', 1, 'template: test:1:3: executing "test" at <eq .>: error calling eq: missing argument for comparison'],
    ['{{ index . 5 }}', [1], 'template: test:1:3: executing "test" at <index . 5>: error calling index: index out of range: 5'],
    ['{{ len 3 }}', null, 'template: test:1:3: executing "test" at <len 3>: error calling len: len of type int'],
    ['{{ .a.b }}', { a: 'str' }, 'template: test:1:5: executing "test" at <.a.b>: can\'t evaluate field b in type string'],
    ['{{ range 1.5 }}{{ end }}', null, 'template: test:1:9: executing "test" at <1.5>: range can\'t iterate over 1.5'],
    ['{{ printf 1 }}', null, 'template: test:1:10: executing "test" at <1>: expected string; found 1'],
    ['{{ $x := 1 }}{{ printf $x }}', null, 'template: test:1:23: executing "test" at <$x>: wrong type for value; expected string; got int'],
    ['{{ title 1.5 }}', null, 'template: test:1:9: executing "test" at <1.5>: expected string; found 1.5'],
    ['{{ 99999999999999999999 }}', null, 'template: test:1: integer overflow: "99999999999999999999"'],
    ['{{ 18446744073709551615 }}', null, 'template: test:1:3: executing "test" at <18446744073709551615>: 18446744073709551615 overflows int'],
  ];
  it.each(cases)('%s', (text, d, msg) => {
    expect(err(text, d).message).toBe(msg);
  });

  it('truncates long node contexts to 20 characters', () => {
    const e = err('{{ humanize "abcdefghijklmnopqrstuvwxyz" }}');
    expect(e.message).toContain('at <humanize "abcdefghij...>');
  });

  it('reports alert template errors with Prometheus positions and wrapper text', () => {
    const out = expandOrError('HighCPU', 'CPU {{ .Foo }}', data);
    expect(out).toBe(
      '<error expanding template: error executing template __alert_HighCPU: template: __alert_HighCPU:1:119: executing "__alert_HighCPU" at <.Foo>: ' +
        "can't evaluate field Foo in type struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value float64 }>",
    );
    expect(expandOrError('X', '{{ if }}', data)).toBe('<error expanding template: error parsing template __alert_X: template: __alert_X:1: missing value for if>');
  });
});

describe('alert templates', () => {
  it('defines $labels, $externalLabels, $externalURL, $value and the dot fields', () => {
    const t = '{{ $labels.instance }}|{{ .Labels.job }}|{{ $externalLabels.cluster }}|{{ $externalURL }}|{{ $value }}|{{ .Value }}|{{ $labels.nope }}|{{ $labels }}';
    expect(expandAlertTemplate('R', t, data)).toBe('h:9100|node|c1|http://p:9090|42|42||map[instance:h:9100 job:node]');
  });
  it('formats $value like Go float64', () => {
    const f = (v: number | string): string => expandAlertTemplate('R', '{{ $value }}', { ...data, value: v });
    expect([f(1), f(0.5), f(1e6), f(123456.7), f(Infinity), f(NaN), f(-0.00001), f('str')]).toEqual(['1', '0.5', '1e+06', '123456.7', '+Inf', 'NaN', '-1e-05', 'str']);
  });
  it('passes text without actions through', () => {
    expect(expandAlertTemplate('R', 'no actions }} here', data)).toBe('no actions }} here');
  });
});

describe('limits', () => {
  it('bounds output size', () => {
    const e = (() => {
      try {
        expandTemplate('t', '{{range 100000}}xxxxxxxxxx{{end}}', null, { maxOutputBytes: 1000 });
      } catch (x) {
        return x as TemplateError;
      }
      return undefined;
    })();
    expect(e?.phase).toBe('limit');
    expect(e?.message).toMatch(/output exceeds the limit of 1000 bytes/);
  });
  it('bounds steps of loops that print nothing', () => {
    expect(() => expandTemplate('t', '{{range 1000000000}}{{end}}', null, { maxSteps: 10_000 })).toThrow(/exceeded the limit of 10000 steps/);
  });
  it('bounds recursion', () => {
    expect(() => expandTemplate('t', '{{define "r"}}{{template "r" .}}{{end}}{{template "r" .}}', null)).toThrow(/exceeded maximum template depth \(100\)/);
  });
  it('bounds string growth through variables', () => {
    const t = '{{$x := "ab"}}{{range 40}}{{$x = printf "%s%s" $x $x}}{{end}}{{len $x}}';
    expect(() => expandTemplate('t', t, null, { maxOutputBytes: 1 << 16 })).toThrow(/result of printf exceeds the limit/);
  });
  it('bounds printf width', () => {
    expect(expandTemplate('t', '{{printf "%2000000d" 1}}', null)).toBe('%!(BADWIDTH)1');
  });
  it('rejects oversized template text', () => {
    expect(() => expandTemplate('big', 'x{{1}}'.repeat(60_000), null)).toThrow(/over the limit/);
  });
});

describe('expandAlertTemplateAsync', () => {
  it('runs async queries and re-executes', async () => {
    const calls: string[] = [];
    const out = await expandAlertTemplateAsync(
      'R',
      '{{ with query "a" }}{{ . | first | value }}{{ end }}/{{ printf "b%v" (query "a" | first | value) | query | first | label "x" }}',
      data,
      {
        queryAsync: async (q) => {
          calls.push(q);
          return q === 'a' ? [{ labels: {}, value: 7 }] : [{ labels: { x: 'seen-' + q }, value: 1 }];
        },
      },
    );
    expect(out).toBe('7/seen-b7');
    expect(calls).toEqual(['a', 'b7']);
  });
  it('reports query failures as template errors and bounds query count', async () => {
    await expect(
      expandAlertTemplateAsync('R', '{{ query "x" }}', data, { queryAsync: () => Promise.reject(new Error('boom')) }),
    ).rejects.toThrow(/error calling query: boom/);
    await expect(
      expandAlertTemplateAsync('R', '{{ range 50 }}{{ query (printf "q%d" .) }}{{ end }}', data, { queryAsync: async () => [], maxQueries: 5 }),
    ).rejects.toThrow(/more than 5 distinct queries/);
  });
});
