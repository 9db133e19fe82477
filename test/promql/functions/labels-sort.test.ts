import { describe, expect, it } from 'vitest';
import { FUNCTIONS } from '../../../src/promql/engine/functions/index.js';
import { expandTemplate } from '../../../src/promql/engine/functions/labels.js';
import { naturalCompare } from '../../../src/promql/engine/functions/sort.js';
import { absentLabels } from '../../../src/promql/engine/functions/misc.js';
import type { FunctionArg } from '../../../src/promql/engine/functions/contract.js';
import { QueryError, type Vector } from '../../../src/promql/engine/values.js';
import { labelsToString } from '../../../src/model/labels.js';
import { hist, L, makeCtx, matrixExpr, S, Str, V } from './helpers.js';

const call = (fn: string, args: FunctionArg[]): Vector => FUNCTIONS[fn]!(args, [], makeCtx(0));
const names = (out: Vector): string[] => out.map((s) => labelsToString(s.metric));

const testmetric = V([
  S({ __name__: 'testmetric', src: 'source-value-10', dst: 'original-destination-value' }, 0),
  S({ __name__: 'testmetric', src: 'source-value-20', dst: 'original-destination-value' }, 1),
]);

describe('label_replace', () => {
  it('full-string match, capture groups, no substring match', () => {
    expect(names(call('label_replace', [testmetric, Str('dst'), Str('destination-value-$1'), Str('src'), Str('source-value-(.*)')]))).toEqual([
      'testmetric{dst="destination-value-10", src="source-value-10"}',
      'testmetric{dst="destination-value-20", src="source-value-20"}',
    ]);
    expect(names(call('label_replace', [testmetric, Str('dst'), Str('destination-value-$1'), Str('src'), Str('value-(.*)')]))[0]).toContain('original-destination-value');
    expect(names(call('label_replace', [testmetric, Str('dst'), Str('$1-value-$2'), Str('src'), Str('(.*)-value-(.*)')]))[1]).toContain('dst="source-value-20"');
  });

  it('missing source, empty match, removal by empty value', () => {
    expect(names(call('label_replace', [testmetric, Str('dst'), Str('value-$1'), Str('nonexistent-src'), Str('source-value-(.*)')]))[0]).toContain('original');
    expect(names(call('label_replace', [testmetric, Str('dst'), Str('value-$1'), Str('nonexistent-src'), Str('(.*)')]))[0]).toContain('dst="value-"');
    expect(names(call('label_replace', [testmetric, Str('dst'), Str(''), Str('dst'), Str('.*')]))).toEqual([
      'testmetric{src="source-value-10"}',
      'testmetric{src="source-value-20"}',
    ]);
  });

  it('errors: bad regex, bad destination name, duplicate output label sets', () => {
    expect(() => call('label_replace', [testmetric, Str('dst'), Str('value-$1'), Str('src'), Str('(.*')])).toThrow(/invalid regular expression in label_replace\(\)/);
    expect(() => call('label_replace', [testmetric, Str('\ufffd'), Str(''), Str('src'), Str('(.*)')])).toThrow(/invalid destination label name/);
    expect(() => call('label_replace', [testmetric, Str('src'), Str(''), Str(''), Str('')])).toThrow(QueryError);
    expect(() => call('label_replace', [testmetric, Str('src'), Str(''), Str(''), Str('')])).toThrow('vector cannot contain metrics with the same labelset');
  });

  it('__name__: relabeling keeps the pending drop; writing __name__ cancels it', () => {
    const rated = V([{ ...S({ __name__: 'metric_total', env: '1' }, 0.2), dropName: true }]);
    const a = call('label_replace', [rated, Str('my_name'), Str('rate_$1'), Str('__name__'), Str('(.+)')]);
    expect(a[0]!.dropName).toBe(true);
    expect(names(a)[0]).toBe('metric_total{env="1", my_name="rate_metric_total"}');
    const b = call('label_replace', [rated, Str('__name__'), Str('rate_$1'), Str('__name__'), Str('(.+)')]);
    expect(b[0]!.dropName).toBeUndefined();
    expect(names(b)[0]).toBe('rate_metric_total{env="1"}');
  });

  it('expands templates like Go regexp.Expand', () => {
    const m = /^(?<name>a)(b)$/.exec('ab')!;
    expect(expandTemplate('$1-$2-${1}x-$name-${name}-$$-$1x-$-${', m)).toBe('a-b-ax-a-a-$--$-${');
  });
});

describe('label_join', () => {
  const tm = V([S({ __name__: 'testmetric', src: 'a', src1: 'b', src2: 'c', dst: 'original-destination-value' }, 0)]);
  it('joins in order, missing labels are empty, empty result removes dst', () => {
    expect(names(call('label_join', [tm, Str('dst'), Str('-'), Str('src'), Str('src1'), Str('src2')]))[0]).toContain('dst="a-b-c"');
    expect(names(call('label_join', [tm, Str('dst'), Str('-'), Str('src'), Str('src3'), Str('src1')]))[0]).toContain('dst="a--b"');
    expect(names(call('label_join', [tm, Str('dst'), Str(', ')]))[0]).toBe('testmetric{src="a", src1="b", src2="c"}');
  });
  it('fails on duplicate label sets; preserves/restores the name like label_replace', () => {
    const dup = V([S({ __name__: 'dup', label: 'a', this: 'a' }, 1), S({ __name__: 'dup', label: 'b', this: 'a' }, 1)]);
    expect(() => call('label_join', [dup, Str('label'), Str(''), Str('this')])).toThrow('vector cannot contain metrics with the same labelset');
    const rated = V([{ ...S({ __name__: 'metric_total', env: '1' }, 0.2), dropName: true }]);
    const out = call('label_join', [rated, Str('__name__'), Str('_'), Str('__name__'), Str('env')]);
    expect(names(out)[0]).toBe('metric_total_1{env="1"}');
    expect(out[0]!.dropName).toBeUndefined();
  });
});

describe('sort family', () => {
  const reqs = V([
    S({ __name__: 'r', group: 'production', instance: '0', job: 'api-server' }, 100),
    S({ __name__: 'r', group: 'canary', instance: '2', job: 'api-server' }, NaN),
    S({ __name__: 'r', group: 'canary', instance: '1', job: 'app-server' }, 800),
    S({ __name__: 'r', group: 'production', instance: '1', job: 'api-server' }, 200),
    { ...S({ __name__: 'r', group: 'canary', instance: '2', job: 'app-server' }, 0), h: hist({ count: 1 }) },
  ]);
  it('sort / sort_desc: NaN last, histograms dropped, name kept', () => {
    const up = call('sort', [reqs]);
    expect(up.map((s) => s.f).slice(0, 3)).toEqual([100, 200, 800]);
    expect(Number.isNaN(up[3]!.f)).toBe(true);
    expect(up).toHaveLength(4);
    expect(up[0]!.dropName).toBeUndefined();
    const down = call('sort_desc', [reqs]);
    expect(down.map((s) => s.f).slice(0, 3)).toEqual([800, 200, 100]);
    expect(Number.isNaN(down[3]!.f)).toBe(true);
  });

  it('sort_by_label: natural order then full label set; desc reverses both', () => {
    const cpus = V(['0', '1', '10', '100', '11', '2', '20', '21', '3', '12'].map((c) => S({ __name__: 'cpu_time_total', cpu: c, job: 'cpu' }, 100)));
    expect(call('sort_by_label', [cpus, Str('cpu')]).map((s) => s.metric.find((l) => l.name === 'cpu')!.value)).toEqual([
      '0', '1', '2', '3', '10', '11', '12', '20', '21', '100',
    ]);
    const uname = V([
      S({ instance: '4m600', release: '1.2.3' }, 1),
      S({ instance: '4m5', release: '1.11.3' }, 1),
      S({ instance: '4m1000', release: '1.111.3' }, 1),
    ]);
    expect(call('sort_by_label', [uname, Str('instance')]).map((s) => s.metric[0]!.value)).toEqual(['4m5', '4m600', '4m1000']);
    expect(call('sort_by_label', [uname, Str('release')]).map((s) => s.metric[1]!.value)).toEqual(['1.2.3', '1.11.3', '1.111.3']);
    const byInst = call('sort_by_label', [reqs, Str('instance')]).map((s) => labelsToString(s.metric));
    expect(byInst[0]).toBe('r{group="production", instance="0", job="api-server"}');
    expect(byInst[1]).toBe('r{group="canary", instance="1", job="app-server"}');
    expect(byInst).toHaveLength(5);
    const desc = call('sort_by_label_desc', [reqs, Str('instance')]).map((s) => labelsToString(s.metric));
    expect(desc[0]).toBe('r{group="canary", instance="2", job="app-server"}');
    expect(desc[1]).toBe('r{group="canary", instance="2", job="api-server"}');
    expect(naturalCompare('a01', 'a1')).toBeLessThan(0);
    expect(naturalCompare('x', 'x')).toBe(0);
  });
});

describe('absent / absent_over_time', () => {
  it('labels from equality matchers; repeated labels dropped', () => {
    const e = (m: [string, '=' | '=~' | '!=', string][]) => absentLabels(matrixExpr('nonexistent', m));
    expect(labelsToString(e([['job', '=', 'testjob'], ['instance', '=', 'testinstance'], ['method', '=~', '.x']]))).toBe('{instance="testinstance", job="testjob"}');
    expect(labelsToString(e([['job', '=', 'testjob'], ['job', '=', 'testjob2'], ['foo', '=', 'bar']]))).toBe('{foo="bar"}');
    expect(labelsToString(e([['job', '=', 'testjob'], ['job', '=~', 'testjob2'], ['foo', '=', 'bar']]))).toBe('{foo="bar"}');
    expect(labelsToString(e([['handler', '!=', '/foo']]))).toBe('{}');
    expect(absentLabels({ kind: 'NumberLiteral', value: 1, pos: { start: 0, end: 1 } })).toEqual([]);
  });

  it('absent returns 1 only for an empty vector', () => {
    const ctx = makeCtx(0);
    const ex = matrixExpr('nonexistent', [['job', '=', 'x']]).vectorSelector;
    expect(FUNCTIONS.absent!([V([])], [ex], ctx)).toEqual([{ metric: L({ job: 'x' }), t: 0, f: 1 }]);
    expect(FUNCTIONS.absent!([V([S({}, 1)])], [ex], ctx)).toEqual([]);
  });

  it('absent_over_time looks at every series of the matrix', () => {
    const ctx = makeCtx(0);
    const ex = matrixExpr('x', [['instance', '=', '127.0.0.1']]);
    const empty = { metric: L({}), floats: [], histograms: [] };
    expect(FUNCTIONS.absent_over_time!([{ kind: 'matrix', matrix: [] }], [ex], ctx)).toEqual([{ metric: L({ instance: '127.0.0.1' }), t: 0, f: 1 }]);
    expect(FUNCTIONS.absent_over_time!([{ kind: 'matrix', matrix: [empty, { ...empty, floats: [{ t: 0, f: NaN }] }] }], [ex], ctx)).toEqual([]);
  });
});
