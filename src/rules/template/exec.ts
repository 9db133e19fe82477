/**
 * Executor for parsed templates with Go `text/template` semantics: truthiness, variables and
 * their scopes, field/map/method access, pipelines passing the previous value as the last
 * argument, short-circuit `and`/`or`, range over slices, maps (sorted keys) and ints with
 * `break`/`continue`, `with`, `template` calls. Execution is bounded: output bytes, steps
 * (every node evaluation and loop iteration) and template call depth; a bound hit raises a
 * {@link TemplateError} with phase `limit`. No output escaping (text templates).
 */

import { nodeToString } from './ast.js';
import type { AnyNode, ArgNode, BranchNode, ChainNode, CommandNode, FieldNode, IdentifierNode, ListNode, Node, NumberNode, ParsedTemplates, PipeNode, TemplateNode, VariableNode } from './ast.js';
import { assertNever } from '../../model/errors.js';
import { lineCol, TemplateError, type TemplateErrorPhase } from './errors.js';
import { formatValue } from './fmt.js';
import { goQuote } from './lexer.js';
import { ExecInterrupt, GoFunc, GoMap, GoSlice, GoStruct, goTypeOf, truth, typeName, type FuncLookup, type GoCallable, type GoValue, type ParamType } from './values.js';

/** Options of {@link executeTemplate}. */
export interface ExecOptions {
  /** Functions callable by name (builtins plus extras); `and`/`or` are handled lazily. */
  readonly funcs: FuncLookup;
  /** Names in `funcs` that are Go builtins (for the `and`/`or` short-circuit). */
  readonly builtins?: ReadonlySet<string>;
  /** Missing map keys yield the map's zero value (Prometheus: true) instead of no value. */
  readonly missingKeyZero?: boolean;
  /** Maximum output size in UTF-8 bytes (also caps any single string result); default 1 MiB. */
  readonly maxOutputBytes?: number;
  /** Maximum evaluation steps (nodes, commands, loop iterations); default 1,000,000. */
  readonly maxSteps?: number;
  /** Maximum nesting of `{{template}}` calls; default 100. */
  readonly maxDepth?: number;
}

const MISSING: unique symbol = Symbol('missing');
type Final = GoValue | typeof MISSING;

class BreakSignal {}
class ContinueSignal {}
const BREAK = new BreakSignal();
const CONTINUE = new ContinueSignal();

interface Variable {
  readonly name: string;
  value: GoValue;
}

/** Executes template `name` (default: the top-level one) of `parsed` with `data` as dot. */
export function executeTemplate(parsed: ParsedTemplates, data: GoValue, opts: ExecOptions, name = parsed.name): string {
  const st = new State(parsed, opts);
  try {
    return st.run(name, data);
  } catch (e) {
    if (e instanceof TemplateError || e instanceof ExecInterrupt) throw e;
    if (e instanceof RangeError && /call stack/i.test(e.message)) {
      throw new TemplateError(`template: ${name}: execution exceeded the maximum stack depth`, parsed.name, 'limit', undefined, { cause: e });
    }
    const msg = e instanceof Error ? e.message : String(e);
    throw new TemplateError(`template: ${name}: internal error: ${msg}`, parsed.name, 'exec', undefined, { cause: e });
  }
}

class State {
  private tmplName: string;
  private node: AnyNode | undefined;
  private vars: Variable[] = [];
  private out: string[] = [];
  private outBytes = 0;
  private steps = 0;
  private depth = 0;
  private readonly maxOut: number;
  private readonly maxSteps: number;
  private readonly maxDepth: number;
  private readonly missingKeyZero: boolean;
  private readonly builtins: ReadonlySet<string>;

  constructor(
    private readonly parsed: ParsedTemplates,
    private readonly opts: ExecOptions,
  ) {
    this.tmplName = parsed.name;
    this.maxOut = opts.maxOutputBytes ?? 1024 * 1024;
    this.maxSteps = opts.maxSteps ?? 1_000_000;
    this.maxDepth = opts.maxDepth ?? 100;
    this.missingKeyZero = opts.missingKeyZero ?? true;
    this.builtins = opts.builtins ?? new Set();
  }

  run(name: string, data: GoValue): string {
    const tree = this.parsed.trees.get(name);
    this.tmplName = name;
    if (!tree) this.errorf(`${goQuote(name)} is an incomplete or empty template`);
    this.vars = [{ name: '$', value: data }];
    this.walk(data, tree);
    return this.out.join('');
  }

  // ---- errors and bounds ------------------------------------------------------------

  private at(n: AnyNode): void {
    this.node = n;
  }

  private errorf(msg: string, phase: TemplateErrorPhase = 'exec', cause?: unknown): never {
    const name = this.tmplName;
    if (!this.node) throw new TemplateError(`template: ${name}: ${msg}`, this.parsed.name, phase, undefined, { cause });
    const { line, col } = lineCol(this.parsed.text, this.node.pos);
    let ctx = nodeToString(this.node);
    const runes = Array.from(ctx);
    if (runes.length > 20) ctx = runes.slice(0, 20).join('') + '...';
    throw new TemplateError(
      `template: ${this.parsed.name}:${line}:${col}: executing ${goQuote(name)} at <${ctx}>: ${msg}`,
      this.parsed.name,
      phase,
      line,
      { cause },
    );
  }

  private step(): void {
    if (++this.steps > this.maxSteps) this.errorf(`execution exceeded the limit of ${this.maxSteps} steps`, 'limit');
  }

  private write(s: string): void {
    if (s === '') return;
    this.outBytes += Buffer.byteLength(s, 'utf8');
    if (this.outBytes > this.maxOut) this.errorf(`output exceeds the limit of ${this.maxOut} bytes`, 'limit');
    this.out.push(s);
  }

  // ---- variables --------------------------------------------------------------------

  private push(name: string, value: GoValue): void {
    this.vars.push({ name, value });
  }

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private setTopVar(n: number, value: GoValue): void {
    const v = this.vars[this.vars.length - n];
    if (v) v.value = value;
  }

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    return this.errorf(`undefined variable: ${name}`);
  }

  // ---- statements -------------------------------------------------------------------

  private walk(dot: GoValue, node: Node): void {
    this.step();
    switch (node.kind) {
      case 'text':
        this.write(node.text);
        return;
      case 'action': {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return;
      }
      case 'list':
        for (const n of node.nodes) this.walk(dot, n);
        return;
      case 'if':
      case 'with':
        this.walkIfOrWith(dot, node);
        return;
      case 'range':
        this.walkRange(dot, node);
        return;
      case 'break':
        throw BREAK;
      case 'continue':
        throw CONTINUE;
      case 'template':
        this.walkTemplate(dot, node);
        return;
      default:
        assertNever(node, 'template node');
    }
  }

  private printValue(node: AnyNode, v: GoValue): void {
    this.at(node);
    if (v instanceof GoFunc) this.errorf(`can't print ${nodeToString(node)} of type ${v.typeName}`);
    if (v === undefined) this.write('<no value>');
    else this.write(formatValue(v, 'v', undefined, v instanceof GoStruct && v.opts.pointer ? 1 : 0));
  }

  private walkIfOrWith(dot: GoValue, node: BranchNode): void {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (truth(val)) this.walk(node.kind === 'with' ? val : dot, node.list);
      else if (node.elseList) this.walk(dot, node.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: GoValue, r: BranchNode): void {
    this.at(r);
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, r.pipe);
      const bodyMark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: GoValue, elem: GoValue): void => {
        this.step();
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.setTopVar(1, elem);
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.setTopVar(2, index);
        }
        try {
          this.walk(elem, r.list);
        } catch (e) {
          if (e !== CONTINUE) throw e;
        } finally {
          this.vars.length = bodyMark;
        }
      };
      let ran = false;
      try {
        if (val instanceof GoSlice) {
          val.items.forEach((e, i) => {
            ran = true;
            one(BigInt(i), e);
          });
        } else if (val instanceof GoMap) {
          for (const k of [...val.entries.keys()].sort()) {
            ran = true;
            one(k, val.entries.get(k));
          }
        } else if (typeof val === 'bigint') {
          if (decl.length > 1) this.errorf(`can't use ${val} to iterate over more than one variable`);
          for (let i = 0n; i < val; i++) {
            ran = true;
            one(i, i);
          }
        } else if (val !== undefined && val !== null) {
          this.errorf(`range can't iterate over ${formatValue(val, 'v')}`);
        }
      } catch (e) {
        if (e === BREAK) return;
        throw e;
      }
      if (!ran && r.elseList) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = mark;
    }
  }

  private walkTemplate(dot: GoValue, t: TemplateNode): void {
    this.at(t);
    const tree: ListNode | undefined = this.parsed.trees.get(t.name);
    if (!tree) this.errorf(`template ${goQuote(t.name)} not defined`);
    if (this.depth >= this.maxDepth) this.errorf(`exceeded maximum template depth (${this.maxDepth})`, 'limit');
    const newDot = this.evalPipeline(dot, t.pipe);
    const saved = { name: this.tmplName, vars: this.vars };
    this.tmplName = t.name;
    this.vars = [{ name: '$', value: newDot }];
    this.depth++;
    try {
      this.walk(newDot, tree);
    } finally {
      this.depth--;
      this.tmplName = saved.name;
      this.vars = saved.vars;
    }
  }

  // ---- expressions ------------------------------------------------------------------

  private evalPipeline(dot: GoValue, pipe: PipeNode | undefined): GoValue {
    if (!pipe) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) {
      value = this.evalCommand(dot, cmd, value);
      if (value === null) value = undefined; // interface{} holding nil → no value
    }
    const v = value === MISSING ? undefined : value;
    for (const variable of pipe.decl) {
      if (pipe.isAssign) this.setVar(variable.ident[0]!, v);
      else this.push(variable.ident[0]!, v);
    }
    return v;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeToString(args[0]!)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    this.step();
    const first = cmd.args[0]!;
    switch (first.kind) {
      case 'field':
        return this.evalFieldNode(dot, first, cmd.args, final);
      case 'chain':
        return this.evalChainNode(dot, first, cmd.args, final);
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final);
      case 'pipe':
        this.notAFunction(cmd.args, final);
        return this.evalPipeline(dot, first);
      case 'variable':
        return this.evalVariableNode(dot, first, cmd.args, final);
      default:
        break;
    }
    this.at(first);
    this.notAFunction(cmd.args, final);
    switch (first.kind) {
      case 'bool':
        return first.value;
      case 'dot':
        return dot;
      case 'nil':
        return this.errorf('nil is not a command');
      case 'number':
        return this.idealConstant(first);
      case 'string':
        return first.text;
      default:
        return assertNever(first, 'command word');
    }
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    if (n.floatLiteral && n.float !== undefined) return n.float;
    if (n.int !== undefined) return n.int;
    if (n.uintOnly) this.errorf(`${n.text} overflows int`);
    return n.float;
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: readonly ArgNode[], final: Final): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: GoValue, chain: ChainNode, args: readonly ArgNode[] | undefined, final: Final): GoValue {
    this.at(chain);
    if (chain.node.kind === 'nil') this.errorf(`indirection through explicit nil in ${nodeToString(chain)}`);
    const pipe = this.evalArg(dot, 'value', chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: GoValue, v: VariableNode, args: readonly ArgNode[] | undefined, final: Final): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: GoValue, receiver: GoValue, node: AnyNode, ident: readonly string[], args: readonly ArgNode[] | undefined, final: Final): GoValue {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, undefined, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  private evalField(dot: GoValue, name: string, node: AnyNode, args: readonly ArgNode[] | undefined, final: Final, receiver: GoValue): GoValue {
    if (receiver === undefined || receiver === null) return undefined;
    if (receiver instanceof GoStruct) {
      const m = receiver.opts.methods?.[name];
      if (m) return this.evalCall(dot, m, false, node, name, args, final);
    }
    const hasArgs = (args !== undefined && args.length > 1) || final !== MISSING;
    if (receiver instanceof GoStruct && receiver.fields.has(name)) {
      if (hasArgs) this.errorf(`${name} has arguments but cannot be invoked as function`);
      return receiver.fields.get(name);
    }
    if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${name} is not a method but has arguments`);
      if (receiver.entries.has(name)) return receiver.entries.get(name);
      return this.missingKeyZero ? receiver.zero : undefined;
    }
    return this.errorf(`can't evaluate field ${name} in type ${typeName(receiver)}`);
  }

  private evalFunction(dot: GoValue, node: IdentifierNode, cmd: AnyNode, args: readonly ArgNode[] | undefined, final: Final): GoValue {
    this.at(node);
    const fn = this.opts.funcs.get(node.name);
    if (!fn) this.errorf(`${goQuote(node.name)} is not a defined function`);
    return this.evalCall(dot, fn, this.builtins.has(node.name), cmd, node.name, args, final);
  }

  private evalCall(dot: GoValue, fn: GoCallable, isBuiltin: boolean, node: AnyNode, name: string, args: readonly ArgNode[] | undefined, final: Final): GoValue {
    const argNodes = args ? args.slice(1) : [];
    const numIn = argNodes.length + (final !== MISSING ? 1 : 0);
    let numFixed = argNodes.length;
    if (fn.variadic !== undefined) {
      numFixed = fn.params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${numFixed} got ${argNodes.length}`);
    } else if (numIn !== fn.params.length) {
      this.errorf(`wrong number of args for ${name}: want ${fn.params.length} got ${numIn}`);
    }
    if (isBuiltin && (name === 'and' || name === 'or')) {
      let v: GoValue;
      for (const a of argNodes) {
        v = this.evalArg(dot, 'value', a);
        if (truth(v) === (name === 'or')) return v;
      }
      if (final !== MISSING) v = final;
      return v;
    }
    const argv: GoValue[] = [];
    let i = 0;
    for (; i < numFixed && i < argNodes.length; i++) argv.push(this.evalArg(dot, fn.params[i]!, argNodes[i]!));
    if (fn.variadic !== undefined) for (; i < argNodes.length; i++) argv.push(this.evalArg(dot, fn.variadic, argNodes[i]!));
    if (final !== MISSING) {
      let t: ParamType;
      if (fn.variadic !== undefined) t = numIn - 1 < numFixed ? fn.params[numIn - 1]! : fn.variadic;
      else t = fn.params[fn.params.length - 1]!;
      argv.push(this.validateType(final, t));
    }
    let result: GoValue;
    try {
      result = fn.call(argv);
    } catch (e) {
      if (e instanceof TemplateError || e instanceof ExecInterrupt) throw e;
      this.at(node);
      return this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`, 'exec', e);
    }
    if (typeof result === 'string' && result.length > this.maxOut) {
      this.at(node);
      this.errorf(`result of ${name} exceeds the limit of ${this.maxOut} bytes`, 'limit');
    }
    return result;
  }

  private evalArg(dot: GoValue, t: ParamType, n: ArgNode): GoValue {
    this.at(n);
    switch (n.kind) {
      case 'dot':
        return this.validateType(dot, t);
      case 'nil':
        if (t === 'any' || t === 'sample' || t === 'queryResult' || t === 'value') return null;
        return this.errorf(`cannot assign nil to ${goTypeOf(t)}`);
      case 'field':
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), t);
      case 'variable':
        return this.validateType(this.evalVariableNode(dot, n, undefined, MISSING), t);
      case 'pipe':
        return this.validateType(this.evalPipeline(dot, n), t);
      case 'identifier':
        return this.validateType(this.evalFunction(dot, n, n, undefined, MISSING), t);
      case 'chain':
        return this.validateType(this.evalChainNode(dot, n, undefined, MISSING), t);
      default:
        break;
    }
    switch (t) {
      case 'bool':
        if (n.kind === 'bool') return n.value;
        return this.errorf(`expected bool; found ${nodeToString(n)}`);
      case 'string':
        if (n.kind === 'string') return n.text;
        return this.errorf(`expected string; found ${nodeToString(n)}`);
      case 'int':
        if (n.kind === 'number' && n.int !== undefined) return n.int;
        return this.errorf(`expected integer; found ${nodeToString(n)}`);
      case 'float64':
        if (n.kind === 'number' && n.float !== undefined) return n.float;
        return this.errorf(`expected float; found ${nodeToString(n)}`);
      case 'any':
      case 'value':
        if (n.kind === 'bool') return n.value;
        if (n.kind === 'string') return n.text;
        return this.idealConstant(n);
      case 'sample':
      case 'queryResult':
        return this.errorf(`can't handle ${nodeToString(n)} for arg of type ${goTypeOf(t)}`);
      default:
        return assertNever(t, 'param type');
    }
  }

  private validateType(v: GoValue, t: ParamType): GoValue {
    if (t === 'value') return v;
    if (v === undefined || v === null) {
      if (t === 'any' || t === 'sample' || t === 'queryResult') return null;
      return this.errorf(`invalid value; expected ${goTypeOf(t)}`);
    }
    let ok: boolean;
    switch (t) {
      case 'any':
        ok = true;
        break;
      case 'string':
        ok = typeof v === 'string';
        break;
      case 'float64':
        ok = typeof v === 'number';
        break;
      case 'int':
        ok = typeof v === 'bigint';
        break;
      case 'bool':
        ok = typeof v === 'boolean';
        break;
      case 'sample':
        ok = v instanceof GoStruct && v.typeName === '*template.sample';
        break;
      case 'queryResult':
        ok = v instanceof GoSlice && v.typeName === 'template.queryResult';
        break;
      default:
        return assertNever(t, 'param type');
    }
    if (!ok) this.errorf(`wrong type for value; expected ${goTypeOf(t)}; got ${typeName(v)}`);
    return v;
  }
}
