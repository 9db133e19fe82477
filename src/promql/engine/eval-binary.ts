/**
 * Binary-expression dispatch for the {@link Evaluator}: scalar/scalar, vector/vector (matching
 * and set operators) and vector/scalar, step by step over the evaluator's range.
 */
import type { BinaryExpr, VectorMatching } from '../parser/ast.js';
import type { AggregateNotes } from './aggregate.js';
import { BinopCache, floatBinop, isComparison, isSetOp, setBinop, vectorBinop, vectorScalarBinop, type BinopNotes } from './binary.js';
import { QueryError, type Vector } from './values.js';
import type { EvalResult, Evaluator } from './evaluator.js';

const DEFAULT_MATCHING: VectorMatching = { card: 'one-to-one', on: false, labels: [], include: [] };

function binopNotes(ev: Evaluator, e: BinaryExpr): BinopNotes & AggregateNotes {
  return {
    info: (m) => ev.info(m, e.pos),
    warn: (m) => ev.warn(m, e.pos),
    warnParam: (m) => ev.warn(m, e.pos),
    warnExpr: (m) => ev.warn(m, e.pos),
    infoExpr: (m) => ev.info(m, e.pos),
  };
}

/** Evaluates a binary expression for every step of `ev`. */
export function evalBinary(ev: Evaluator, e: BinaryExpr): EvalResult {
  const l = ev.eval(e.lhs);
  const r = ev.eval(e.rhs);
  const notes = binopNotes(ev, e);
  if (l.kind === 'scalar' && r.kind === 'scalar') {
    const out = new Float64Array(ev.steps.length);
    const cmp = isComparison(e.op);
    for (let i = 0; i < out.length; i++) {
      const [v, keep] = floatBinop(e.op, l.values[i]!, r.values[i]!);
      out[i] = cmp ? (keep ? 1 : 0) : v;
    }
    return { kind: 'scalar', values: out };
  }
  const steps: Vector[] = new Array<Vector>(ev.steps.length);
  if (l.kind === 'vector' && r.kind === 'vector') {
    const m = e.matching ?? DEFAULT_MATCHING;
    const cache = ev.steps.length > 1 ? new BinopCache() : undefined;
    for (let i = 0; i < steps.length; i++) {
      ev.checkpoint();
      const ts = ev.steps[i]!;
      steps[i] = isSetOp(e.op)
        ? setBinop(e.op, l.steps[i]!, r.steps[i]!, m, ts, cache)
        : vectorBinop(e.op, l.steps[i]!, r.steps[i]!, m, e.returnBool, ts, notes, cache);
    }
    return { kind: 'vector', steps };
  }
  if (l.kind === 'vector' && r.kind === 'scalar') {
    for (let i = 0; i < steps.length; i++) steps[i] = vectorScalarBinop(e.op, l.steps[i]!, r.values[i]!, false, e.returnBool, ev.steps[i]!, notes);
    return { kind: 'vector', steps };
  }
  if (l.kind === 'scalar' && r.kind === 'vector') {
    for (let i = 0; i < steps.length; i++) steps[i] = vectorScalarBinop(e.op, r.steps[i]!, l.values[i]!, true, e.returnBool, ev.steps[i]!, notes);
    return { kind: 'vector', steps };
  }
  throw new QueryError(`binary expression must contain only scalar and instant vector types, got ${l.kind} and ${r.kind}`, 'bad_data');
}
