import { describe, expect, it } from 'vitest';
import type { RelabelConfig } from '../../src/config/types.js';
import { ValidationError } from '../../src/model/errors.js';
import { labelsFrom, labelsToObject, type Labels } from '../../src/model/labels.js';
import { compileAnchoredRegex, compileRelabel, expandTemplate, hashMod, parseRelabelConfig, relabel } from '../../src/model/relabel.js';

const cfg = (raw: Record<string, unknown>): RelabelConfig => parseRelabelConfig(raw, 'test');
const run = (input: Record<string, string>, raws: Record<string, unknown>[]): Record<string, string> | null => {
  const out = relabel(labelsFrom(input), raws.map(cfg));
  return out === null ? null : labelsToObject(out);
};

describe('parseRelabelConfig', () => {
  it('fills Prometheus defaults', () => {
    expect(cfg({ target_label: 'x' })).toEqual({ sourceLabels: [], separator: ';', regex: '(.*)', modulus: 0, targetLabel: 'x', replacement: '$1', action: 'replace' });
    expect(cfg({ action: 'Keep', source_labels: ['a'], regex: 'b' }).action).toBe('keep');
  });

  it('validates with messages that say where and what', () => {
    const bad: [Record<string, unknown>, RegExp][] = [
      [{ action: 'explode' }, /at\[3\]: unknown relabel action "explode"/],
      [{ action: 'hashmod', target_label: 't' }, /requires non-zero modulus/],
      [{ action: 'replace' }, /requires 'target_label' value/],
      [{ action: 'lowercase', source_labels: ['a'] }, /requires 'target_label'/],
      [{ action: 'replace', target_label: '1bad' }, /"1bad" is invalid 'target_label' for replace action/],
      [{ action: 'uppercase', target_label: '${1}' }, /invalid 'target_label' for uppercase/],
      [{ action: 'labelmap', replacement: 'bad-name' }, /invalid 'replacement' for labelmap/],
      [{ action: 'labeldrop', regex: 'a', source_labels: ['x'] }, /labeldrop action requires only 'regex'/],
      [{ action: 'keepequal', source_labels: ['a'], target_label: 'b', regex: 'x' }, /keepequal action requires only 'source_labels' and 'target_label'/],
      [{ regex: '(', target_label: 'x' }, /invalid regex/],
      [{ source_labels: 'a', target_label: 'x' }, /source_labels must be a list of strings/],
      [{ target_label: 'x', modulus: -1 }, /modulus must be a non-negative integer/],
      [{ target_label: 'x', colour: 'red' }, /unknown field "colour"/],
      [{ action: 'lowercase', target_label: 'x', replacement: 'y' }, /'replacement' can not be set/],
    ];
    for (const [raw, re] of bad) {
      expect(() => parseRelabelConfig(raw, 'at[3]'), JSON.stringify(raw)).toThrow(ValidationError);
      expect(() => parseRelabelConfig(raw, 'at[3]'), JSON.stringify(raw)).toThrow(re);
    }
    expect(() => parseRelabelConfig('nope', 'x')).toThrow(/must be a mapping/);
  });
});

describe('relabel actions', () => {
  it('replace: docs example stripping the port into instance', () => {
    expect(run({ __address__: 'host-1:9100' }, [{ source_labels: ['__address__'], regex: '(.*):\\d+', target_label: 'instance', replacement: '$1' }])).toEqual({
      __address__: 'host-1:9100',
      instance: 'host-1',
    });
  });

  it('replace: joins sources with the separator, anchors the regex, no match leaves labels', () => {
    const r = [{ source_labels: ['a', 'b'], separator: '/', regex: 'x/(.*)', target_label: 'c', replacement: '<$1>' }];
    expect(run({ a: 'x', b: 'y' }, r)).toEqual({ a: 'x', b: 'y', c: '<y>' });
    expect(run({ a: 'zx', b: 'y' }, r)).toEqual({ a: 'zx', b: 'y' }); // anchored: "zx/y" does not match
    expect(run({ a: 'foo' }, [{ source_labels: ['a'], regex: 'o+', target_label: 'c', replacement: 'hit' }])).toEqual({ a: 'foo' });
  });

  it('replace: empty result deletes the target; templated target labels', () => {
    expect(run({ a: 'foo', b: 'bar' }, [{ source_labels: ['missing'], target_label: 'b' }])).toEqual({ a: 'foo' });
    expect(run({ a: 'some-name-value' }, [{ source_labels: ['a'], regex: 'some-([^-]+)-([^,]+)', target_label: '${1}', replacement: '${2}' }])).toEqual({
      a: 'some-name-value',
      name: 'value',
    });
    expect(run({ a: 'x' }, [{ source_labels: ['a'], regex: '(?P<grp>.)', target_label: 'n_$grp', replacement: '$grp$grp' }])).toEqual({ a: 'x', n_x: 'xx' });
  });

  it('keep and drop', () => {
    const keep = [{ source_labels: ['__name__'], regex: 'node_(cpu|memory)_.*', action: 'keep' }];
    expect(run({ __name__: 'node_cpu_seconds_total' }, keep)).not.toBeNull();
    expect(run({ __name__: 'go_goroutines' }, keep)).toBeNull();
    const drop = [{ source_labels: ['__name__'], regex: 'go_.*', action: 'drop' }];
    expect(run({ __name__: 'go_goroutines' }, drop)).toBeNull();
    expect(run({ __name__: 'up' }, drop)).toEqual({ __name__: 'up' });
    // (?i) flag from RE2 syntax
    expect(run({ env: 'PROD' }, [{ source_labels: ['env'], regex: '(?i)prod', action: 'keep' }])).not.toBeNull();
  });

  it('keepequal and dropequal', () => {
    const ke = [{ source_labels: ['__meta_port'], target_label: 'port', action: 'keepequal' }];
    expect(run({ __meta_port: '80', port: '80' }, ke)).not.toBeNull();
    expect(run({ __meta_port: '80', port: '81' }, ke)).toBeNull();
    const de = [{ source_labels: ['__meta_port'], target_label: 'port', action: 'dropequal' }];
    expect(run({ __meta_port: '80', port: '80' }, de)).toBeNull();
    expect(run({ __meta_port: '80', port: '81' }, de)).not.toBeNull();
  });

  it('hashmod: md5, last 8 bytes big-endian, as Prometheus (known vector baz % 1000 = 976)', () => {
    expect(hashMod('baz', 1000)).toBe('976');
    expect(run({ a: 'foo', b: 'bar', c: 'baz' }, [{ source_labels: ['c'], target_label: 'd', modulus: 1000, action: 'hashmod' }])).toEqual({ a: 'foo', b: 'bar', c: 'baz', d: '976' });
    // sharding example: keep only shard 1 of 4; every address lands in exactly one shard
    const addrs = Array.from({ length: 40 }, (_, i) => `10.0.0.${i}:9100`);
    let total = 0;
    for (let shard = 0; shard < 4; shard++) {
      const r = [
        { source_labels: ['__address__'], modulus: 4, target_label: '__tmp_hash', action: 'hashmod' },
        { source_labels: ['__tmp_hash'], regex: String(shard), action: 'keep' },
      ];
      total += addrs.filter((a) => run({ __address__: a }, r) !== null).length;
    }
    expect(total).toBe(40);
  });

  it('labelmap: docs example for kubernetes pod labels', () => {
    expect(run({ __meta_kubernetes_pod_label_app: 'web', __meta_kubernetes_pod_label_tier: 'fe', job: 'k' }, [{ regex: '__meta_kubernetes_pod_label_(.+)', action: 'labelmap' }])).toEqual({
      __meta_kubernetes_pod_label_app: 'web',
      __meta_kubernetes_pod_label_tier: 'fe',
      app: 'web',
      tier: 'fe',
      job: 'k',
    });
    expect(run({ a: '1', b: '2' }, [{ regex: '(a)', action: 'labelmap', replacement: '${1}_copy' }])).toEqual({ a: '1', a_copy: '1', b: '2' });
  });

  it('labeldrop and labelkeep', () => {
    expect(run({ a: '1', tmp_x: '2', tmp_y: '3' }, [{ regex: 'tmp_.*', action: 'labeldrop' }])).toEqual({ a: '1' });
    expect(run({ __name__: 'm', a: '1', b: '2', instance: 'i' }, [{ regex: '__name__|instance|a', action: 'labelkeep' }])).toEqual({ __name__: 'm', a: '1', instance: 'i' });
  });

  it('lowercase and uppercase', () => {
    expect(run({ a: 'MiXeD' }, [{ source_labels: ['a'], target_label: 'lo', action: 'lowercase' }])).toEqual({ a: 'MiXeD', lo: 'mixed' });
    expect(run({ a: 'MiXeD', b: 'x' }, [{ source_labels: ['a', 'b'], target_label: 'up', action: 'uppercase' }])).toEqual({ a: 'MiXeD', b: 'x', up: 'MIXED;X' });
  });

  it('applies configs in order and returns sorted labels', () => {
    const out = relabel(labelsFrom({ z: '1' }), [cfg({ target_label: 'b', replacement: 'x' }), cfg({ source_labels: ['b'], target_label: 'a' })]) as Labels;
    expect(out.map((l) => l.name)).toEqual(['a', 'b', 'z']);
    expect(labelsToObject(out)).toEqual({ a: 'x', b: 'x', z: '1' });
  });

  it('compileRelabel returns identity for no configs and never throws at run time', () => {
    const input = labelsFrom({ a: 'b' });
    expect(compileRelabel([])(input)).toBe(input);
    const fn = compileRelabel([cfg({ source_labels: ['a'], regex: '(b)', target_label: '$1', replacement: '$9' })]);
    expect(labelsToObject(fn(input)!)).toEqual({ a: 'b' }); // $9 expands to '' → delete "b" label (absent)
  });
});

describe('expandTemplate (Go Regexp.Expand semantics)', () => {
  const m = /^(?:(?<first>a+)(b+)?)$/.exec('aa')!;
  it.each([
    ['$1', 'aa'],
    ['${1}x', 'aax'],
    ['$1x', ''], // "$1x" names group "1x", which does not exist
    ['$first-$2-', 'aa--'],
    ['$$1', '$1'],
    ['cost: $', 'cost: $'],
    ['${bad', '${bad'],
    ['${}', '${}'],
    ['$9', ''],
    ['plain', 'plain'],
  ])('%s → %s', (tpl, want) => {
    expect(expandTemplate(tpl, m)).toBe(want);
  });

  it('anchors regexes fully', () => {
    expect(compileAnchoredRegex('foo|bar').test('foobar')).toBe(false);
    expect(compileAnchoredRegex('foo|bar').test('bar')).toBe(true);
  });
});
