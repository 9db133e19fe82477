import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseTracingConfig, TracingConfigError } from '../../src/tracing/config.js';
import { createTracer, noopTracer, TRACE_HEADER, withSpan, type VigilTracer } from '../../src/tracing/tracer.js';
import { parseRuleFileText } from '../../src/config/rule-files.js';
import { labelsFrom } from '../../src/model/labels.js';
import { systemClock } from '../../src/model/clock.js';
import { RuleGroup } from '../../src/rules/group.js';
import { exprTag } from '../../src/tracing/rules.js';
import type { QueryFunc, TraceSpan } from '../../src/rules/rule.js';
import { Head } from '../../src/storage/head/index.js';

// thriftrw comes with jaeger-client; decode with the IDL jaeger-client ships.
const req = createRequire(import.meta.url);
const jaegerMain = req.resolve('jaeger-client');
const { Thrift } = createRequire(jaegerMain)('thriftrw') as { Thrift: new (o: Record<string, unknown>) => AgentThrift };
const AGENT_IDL = path.join(path.dirname(jaegerMain), 'thriftrw-idl', 'agent.thrift');

interface ThriftTag {
  key: string;
  vType: string | number;
  vStr?: string | null;
  vBool?: boolean | null;
  vLong?: Buffer | null;
}
interface ThriftSpan {
  traceIdLow: Buffer;
  traceIdHigh: Buffer;
  spanId: Buffer;
  parentSpanId: Buffer;
  operationName: string;
  duration: Buffer;
  tags: ThriftTag[] | null;
  logs: { fields: ThriftTag[] }[] | null;
}
interface Batch {
  process: { serviceName: string; tags: ThriftTag[] | null };
  spans: ThriftSpan[];
}
interface AgentThrift {
  Agent: { emitBatch: { argumentsMessageRW: { readFrom(buf: Buffer, off: number): { err: unknown; value: { body: { batch: Batch } } } } } };
}

const thrift = new Thrift({ entryPoint: AGENT_IDL, allowFilesystemAccess: true, allowOptionalArguments: true });

/** A fake jaeger-agent: a UDP listener decoding `emitBatch` packets. */
async function agent(): Promise<{ port: number; batches: Batch[]; close: () => void; waitSpans: (n: number) => Promise<ThriftSpan[]> }> {
  const sock = dgram.createSocket('udp4');
  const batches: Batch[] = [];
  const waiters: (() => void)[] = [];
  sock.on('message', (msg) => {
    const r = thrift.Agent.emitBatch.argumentsMessageRW.readFrom(msg, 0);
    if (r.err) throw r.err as Error;
    batches.push(r.value.body.batch);
    waiters.splice(0).forEach((w) => w());
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const spans = () => batches.flatMap((b) => b.spans);
  return {
    port: sock.address().port,
    batches,
    close: () => sock.close(),
    waitSpans: async (n) => {
      const deadline = Date.now() + 3000;
      while (spans().length < n && Date.now() < deadline) await new Promise<void>((r) => { waiters.push(r); setTimeout(r, 100); });
      return spans();
    },
  };
}

const hex = (b: Buffer) => b.toString('hex');

describe('self-tracing with jaeger-client', () => {
  let cleanup: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const f of cleanup.reverse()) await f();
    cleanup = [];
  });

  it('emits nested spans to a UDP agent as Thrift emitBatch', async () => {
    const ag = await agent();
    cleanup.push(ag.close);
    const tracer = createTracer(parseTracingConfig({ service_name: 'vigil-test', sampler: { type: 'const', param: 1 }, agent: { host: '127.0.0.1', port: ag.port }, flush_interval: '50ms', tags: { node: 'n1' } }));
    cleanup.push(() => tracer.close());
    expect(tracer.enabled).toBe(true);
    let ruleSpan: unknown;
    await withSpan(tracer, 'rule_group.eval', undefined, async (g) => {
      await withSpan(tracer, 'rule.eval', g, async (r) => {
        ruleSpan = r;
        await withSpan(tracer, 'query', r, () => 42, { 'query.expr': 'up == 0' });
      }, { rule: 'InstanceDown' });
      await expect(withSpan(tracer, 'notify.send', g, () => { throw new Error('alertmanager down'); })).rejects.toThrow('alertmanager down');
    });
    const headers = tracer.inject(ruleSpan as never, { accept: 'x' });
    expect(headers[TRACE_HEADER]).toMatch(/^[0-9a-f]+:[0-9a-f]+:[0-9a-f]+:1$/);
    await tracer.close();
    const spans = await ag.waitSpans(4);
    expect(ag.batches[0]!.process.serviceName).toBe('vigil-test');
    expect(ag.batches[0]!.process.tags!.some((t) => t.key === 'node' && t.vStr === 'n1')).toBe(true);
    const by = new Map(spans.map((s) => [s.operationName, s]));
    expect([...by.keys()].sort()).toEqual(['notify.send', 'query', 'rule.eval', 'rule_group.eval']);
    const g = by.get('rule_group.eval')!;
    const r = by.get('rule.eval')!;
    const q = by.get('query')!;
    const n = by.get('notify.send')!;
    expect(spans.every((s) => hex(s.traceIdLow) === hex(g.traceIdLow))).toBe(true);
    expect(hex(g.parentSpanId)).toBe('0000000000000000');
    expect(hex(r.parentSpanId)).toBe(hex(g.spanId));
    expect(hex(q.parentSpanId)).toBe(hex(r.spanId));
    expect(hex(n.parentSpanId)).toBe(hex(g.spanId));
    expect(r.tags!.find((t) => t.key === 'rule')?.vStr).toBe('InstanceDown');
    expect(q.tags!.find((t) => t.key === 'query.expr')?.vStr).toBe('up == 0');
    expect(n.tags!.find((t) => t.key === 'error')?.vBool).toBe(true);
    expect(n.logs![0]!.fields.find((f) => f.key === 'message')?.vStr).toBe('alertmanager down');
    // The injected header names the rule span.
    expect(headers[TRACE_HEADER]!.split(':')[1]!.padStart(16, '0')).toBe(hex(r.spanId));
  });

  it('a rule group iteration emits rules.group → rules.rule → rules.query over UDP', async () => {
    const ag = await agent();
    cleanup.push(ag.close);
    const tracer = createTracer(parseTracingConfig({ service_name: 'vigil-rules', agent: { host: '127.0.0.1', port: ag.port }, flush_interval: '50ms' }));
    cleanup.push(() => tracer.close());
    const { groups, errors } = parseRuleFileText(
      'groups:\n- name: g1\n  rules:\n  - record: r:sum\n    expr: sum(up)\n  - alert: Down\n    expr: up == 0\n  - alert: Broken\n    expr: fail_me\n',
      'rules.yml',
    );
    expect(errors).toEqual([]);
    const query: QueryFunc = async (expr, ts) => {
      if (exprTag(expr).includes('fail_me')) throw new Error('boom');
      return [{ metric: labelsFrom({ instance: 'a' }), f: 0, t: ts }] as never;
    };
    const notified: (TraceSpan | undefined)[] = [];
    const group = new RuleGroup(
      groups[0]!,
      {
        query,
        appendable: new Head({ retentionMs: 3_600_000, clock: systemClock }),
        notify: (_alerts, meta) => void notified.push(meta.span),
        tracer,
        externalLabels: {},
        externalURL: 'http://vigil',
        resendDelayMs: 60_000,
        outageToleranceMs: 3_600_000,
        gracePeriodMs: 600_000,
      },
      { defaultIntervalMs: 60_000 },
    );
    await group.evalAt(Date.now());
    await tracer.close();
    const spans = await ag.waitSpans(7);
    expect(spans.map((s) => s.operationName).sort()).toEqual(['rules.group', 'rules.query', 'rules.query', 'rules.query', 'rules.rule', 'rules.rule', 'rules.rule']);
    const tag = (s: ThriftSpan, k: string) => s.tags?.find((t) => t.key === k);
    const g = spans.find((s) => s.operationName === 'rules.group')!;
    expect(hex(g.parentSpanId)).toBe('0000000000000000');
    expect(tag(g, 'group')?.vStr).toBe('g1');
    const rules = spans.filter((s) => s.operationName === 'rules.rule');
    expect(rules.map((r) => tag(r, 'rule')?.vStr).sort()).toEqual(['Broken', 'Down', 'r:sum']);
    for (const r of rules) {
      expect(hex(r.parentSpanId)).toBe(hex(g.spanId));
      const qs = spans.filter((s) => s.operationName === 'rules.query' && hex(s.parentSpanId) === hex(r.spanId));
      expect(qs).toHaveLength(1); // exactly one query per rule, under its own rule span
      expect(tag(qs[0]!, 'rule')?.vStr).toBe(tag(r, 'rule')?.vStr);
    }
    expect(spans.every((s) => hex(s.traceIdLow) === hex(g.traceIdLow))).toBe(true);
    const broken = rules.find((r) => tag(r, 'rule')?.vStr === 'Broken')!;
    expect(tag(broken, 'error')?.vBool).toBe(true);
    const brokenQuery = spans.find((s) => s.operationName === 'rules.query' && hex(s.parentSpanId) === hex(broken.spanId))!;
    expect(tag(brokenQuery, 'error')?.vBool).toBe(true);
    expect(tag(rules.find((r) => tag(r, 'rule')?.vStr === 'Down')!, 'error')).toBeUndefined();
    // the notification of Down's alert got Down's rule span (only firing alerts are sent; `for: 0` fires at once)
    expect(notified).toHaveLength(1);
    expect(notified[0]).toBeDefined();
  });

  it('sends nothing with sampler const 0, and nothing at all when tracing is off', async () => {
    const ag = await agent();
    cleanup.push(ag.close);
    const tracer = createTracer(parseTracingConfig({ sampler: { type: 'const', param: 0 }, agent: { host: '127.0.0.1', port: ag.port }, flush_interval: '20ms' }));
    await withSpan(tracer, 'x', undefined, () => 1);
    await tracer.close();
    await new Promise((r) => setTimeout(r, 100));
    expect(ag.batches).toHaveLength(0);
    const off: VigilTracer = createTracer(parseTracingConfig(undefined));
    expect(off).toBe(noopTracer);
    expect(await withSpan(off, 'x', undefined, () => 7)).toBe(7);
    expect(off.inject(off.startSpan('y'), {})).toEqual({});
  });
});

describe('parseTracingConfig', () => {
  it('is off by default and validates with key paths', () => {
    expect(parseTracingConfig(undefined)).toBeUndefined();
    expect(parseTracingConfig({ enabled: false, service_name: 'x' })).toBeUndefined();
    expect(parseTracingConfig({})).toEqual({ serviceName: 'vigil', sampler: { type: 'const', param: 1 }, reporter: { kind: 'agent', host: 'localhost', port: 6832 }, flushInterval: 1000, tags: {} });
    const bad = (raw: unknown) => {
      try {
        parseTracingConfig(raw);
      } catch (e) {
        expect(e).toBeInstanceOf(TracingConfigError);
        return (e as Error).message;
      }
      return 'no error';
    };
    expect(bad({ sampler: { type: 'remote' } })).toMatch(/^tracing\.sampler\.type: must be one of/);
    expect(bad({ sampler: { type: 'probabilistic', param: 2 } })).toMatch(/^tracing\.sampler\.param: must be a probability/);
    expect(bad({ agent: { port: 70000 } })).toMatch(/^tracing\.agent\.port/);
    expect(bad({ agent: {}, collector: { endpoint: 'http://c' } })).toMatch(/^tracing: set only one of agent and collector/);
    expect(bad({ collector: { endpoint: 'http://c', password: 42 } })).toMatch(/^tracing\.collector\.password: expected a string$/);
    expect(bad({ collector: {} })).toMatch(/^tracing\.collector\.endpoint: is required/);
    expect(parseTracingConfig({ collector: { endpoint: 'http://jaeger-collector:14268/api/traces' } })!.reporter).toEqual({ kind: 'collector', endpoint: 'http://jaeger-collector:14268/api/traces' });
  });
});
