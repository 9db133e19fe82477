import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AGGREGATORS, functionReturnType, getFunction, listFunctions, maxArgs, minArgs, parseExpr } from '../../../src/promql/parser/index.js';
import type { VectorSelector } from '../../../src/promql/parser/ast.js';
import { SHARED } from './helpers.js';

describe('function table', () => {
  it('covers every function documented in functions.md', () => {
    const doc = readFileSync(fileURLToPath(new URL('docs/prometheus/functions.md', SHARED)), 'utf8');
    const names = new Set([...doc.matchAll(/`([a-z_0-9]+)\(/g)].map((m) => m[1]!));
    const missing = [...names].filter((n) => !getFunction(n) && !AGGREGATORS.has(n));
    expect(names.size).toBeGreaterThan(70);
    expect(missing).toEqual([]);
  });

  it('has Prometheus arities and types', () => {
    const sig = (n: string) => {
      const s = getFunction(n)!;
      return [s.argTypes.join(','), minArgs(s), maxArgs(s), s.returnType];
    };
    expect(sig('rate')).toEqual(['matrix', 1, 1, 'vector']);
    expect(sig('round')).toEqual(['vector,scalar', 1, 2, 'vector']);
    expect(sig('hour')).toEqual(['vector', 0, 1, 'vector']);
    expect(sig('label_join')).toEqual(['vector,string,string,string', 3, Infinity, 'vector']);
    expect(sig('histogram_quantiles')).toEqual(['vector,string,scalar,scalar', 3, 12, 'vector']);
    expect(sig('info')).toEqual(['vector,vector', 1, 2, 'vector']);
    expect(sig('quantile_over_time')).toEqual(['scalar,matrix', 2, 2, 'vector']);
    expect(sig('time')).toEqual(['', 0, 0, 'scalar']);
    expect(functionReturnType('scalar')).toBe('scalar');
    expect(functionReturnType('vector')).toBe('vector');
    expect(getFunction('holt_winters')).toBeUndefined();
    expect(listFunctions().length).toBeGreaterThan(80);
  });

  it('every function parses with arguments of its signature', () => {
    const arg = { vector: 'v', matrix: 'v[5m]', scalar: '1', string: '"s"' } as const;
    for (const f of listFunctions()) {
      const args = f.argTypes.slice(0, minArgs(f)).map((t) => arg[t]);
      expect(parseExpr(`${f.name}(${args.join(', ')})`).kind, f.name).toBe('Call');
    }
  });
});

describe('regex matchers', () => {
  it('RE2 case-insensitive flag groups work on Node 20', () => {
    const vs = parseExpr('foo{a=~"(?i:PRO).*", b=~"(?i)tion"}') as VectorSelector;
    expect(vs.matchers[0]!.matches('production')).toBe(true);
    expect(vs.matchers[0]!.matches('xproduction')).toBe(false);
    expect(vs.matchers[1]!.matches('TiOn')).toBe(true);
    expect(vs.matchers[1]!.matches('tions')).toBe(false);
  });
});
