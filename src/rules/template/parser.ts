/**
 * Parser for Go `text/template` syntax, following the grammar and the error messages of Go's
 * `text/template/parse` package: actions, pipelines, variables, `if`/`else if`/`with`/`range`
 * (with `else`, `break`, `continue`), `define`/`template`/`block`.
 */

import type {
  ArgNode,
  BranchNode,
  CommandNode,
  ListNode,
  Node,
  ParsedTemplates,
  PipeNode,
  TemplateNode,
  VariableNode,
} from './ast.js';
import { TemplateError } from './errors.js';
import { LiteralError, parseNumberLiteral, unquote } from './literals.js';
import { lex, tokenString, type Token, type TokenType } from './lexer.js';

/** Options of {@link parseTemplate}. */
export interface ParseOptions {
  /** Names of the functions that may be called (Go checks this at parse time). */
  readonly funcs: ReadonlySet<string>;
  /** Maximum input length in characters (default 256 KiB). */
  readonly maxLength?: number;
  /** Maximum nesting of control structures and parentheses (default 200). */
  readonly maxDepth?: number;
}

/** Internal marker returned for `{{end}}` / `{{else}}`. */
interface Marker {
  readonly kind: 'end' | 'else';
  readonly pos: number;
  readonly line: number;
}

/**
 * Parses `text` as template `name`; returns the top-level template and every defined one.
 * Throws {@link TemplateError} (phase `parse`) with Go's message format.
 */
export function parseTemplate(name: string, text: string, opts: ParseOptions): ParsedTemplates {
  const maxLength = opts.maxLength ?? 256 * 1024;
  if (text.length > maxLength) {
    throw new TemplateError(`template: ${name}: template text is ${text.length} characters, over the limit of ${maxLength}`, name, 'parse');
  }
  const p = new Parser(name, text, opts.funcs, opts.maxDepth ?? 200);
  return p.parseAll();
}

function isMarker(n: Node | Marker): n is Marker {
  return n.kind === 'end' || n.kind === 'else';
}

class Parser {
  private readonly tokens: Token[];
  private i = 0;
  private lastLine = 1;
  private vars: string[] = ['$'];
  private rangeDepth = 0;
  private depth = 0;
  private actionLine = 0;
  private readonly trees = new Map<string, ListNode>();

  constructor(
    private readonly name: string,
    private readonly text: string,
    private readonly funcs: ReadonlySet<string>,
    private readonly maxDepth: number,
  ) {
    this.tokens = lex(text);
  }

  parseAll(): ParsedTemplates {
    const nodes: Node[] = [];
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim') {
        const save = this.i;
        const delim = this.next();
        if (this.nextNonSpace().type === 'define') {
          this.actionLine = delim.line;
          this.parseDefinition();
          this.actionLine = 0;
          continue;
        }
        this.i = save;
      }
      const n = this.textOrAction();
      if (isMarker(n)) this.errorf(`unexpected {{${n.kind}}}`);
      nodes.push(n);
    }
    this.addTree(this.name, { kind: 'list', pos: 0, nodes });
    return { name: this.name, text: this.text, trees: this.trees };
  }

  // ---- token navigation -------------------------------------------------------------

  private next(): Token {
    const t = this.tokens[Math.min(this.i, this.tokens.length - 1)]!;
    if (this.i < this.tokens.length) this.i++;
    this.lastLine = t.line;
    return t;
  }

  private backup(n = 1): void {
    this.i -= n;
  }

  private peek(): Token {
    return this.tokens[Math.min(this.i, this.tokens.length - 1)]!;
  }

  private nextNonSpace(): Token {
    let t: Token;
    do t = this.next();
    while (t.type === 'space');
    return t;
  }

  private peekNonSpace(): Token {
    const t = this.nextNonSpace();
    this.backup();
    return t;
  }

  private errorf(msg: string): never {
    throw new TemplateError(`template: ${this.name}:${this.lastLine}: ${msg}`, this.name, 'parse', this.lastLine);
  }

  private unexpected(t: Token, context: string): never {
    if (t.type === 'error') {
      let extra = '';
      if (this.actionLine !== 0 && this.actionLine !== t.line) {
        extra = ` in action started at ${this.name}:${this.actionLine}`;
        if (t.val.endsWith(' action')) extra = extra.slice(' in action'.length);
      }
      this.errorf(`${t.val}${extra}`);
    }
    this.errorf(`unexpected ${tokenString(t)} in ${context}`);
  }

  private expect(type: TokenType, context: string): Token {
    const t = this.nextNonSpace();
    if (t.type !== type) this.unexpected(t, context);
    return t;
  }

  private enter(): void {
    if (++this.depth > this.maxDepth) this.errorf(`max nesting depth ${this.maxDepth} exceeded`);
  }

  private leave(): void {
    this.depth--;
  }

  private addTree(name: string, root: ListNode): void {
    const old = this.trees.get(name);
    if (old === undefined || isEmptyTree(old)) {
      this.trees.set(name, root);
      return;
    }
    if (!isEmptyTree(root)) this.errorf(`template: multiple definition of template ${JSON.stringify(name)}`);
  }

  // ---- structure ----------------------------------------------------------------------

  private parseDefinition(): void {
    const context = 'define clause';
    const nameTok = this.nextNonSpace();
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, context);
    const name = this.unquoteTok(nameTok);
    this.expect('rightDelim', context);
    const savedVars = this.vars;
    this.vars = ['$'];
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected {{${end.kind}}} in ${context}`);
    this.vars = savedVars;
    this.addTree(name, list);
  }

  private itemList(): [ListNode, Marker] {
    this.enter();
    const pos = this.peekNonSpace().pos;
    const nodes: Node[] = [];
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction();
      if (isMarker(n)) {
        this.leave();
        return [{ kind: 'list', pos, nodes }, n];
      }
      nodes.push(n);
    }
    this.next();
    return this.errorf('unexpected EOF');
  }

  private textOrAction(): Node | Marker {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'text':
        return { kind: 'text', pos: t.pos, text: t.val };
      case 'leftDelim': {
        const saved = this.actionLine;
        this.actionLine = t.line;
        const n = this.action();
        this.actionLine = saved;
        return n;
      }
      default:
        return this.unexpected(t, 'input');
    }
  }

  private action(): Node | Marker {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'block':
        return this.blockControl();
      case 'break':
      case 'continue':
        return this.loopControl(t);
      case 'else':
        return this.elseControl();
      case 'end':
        return { kind: 'end', pos: this.expect('rightDelim', 'end').pos, line: t.line };
      case 'if':
      case 'range':
      case 'with':
        return this.branch(t.type);
      case 'template':
        return this.templateControl();
      default:
        break;
    }
    this.backup();
    const first = this.peek();
    return { kind: 'action', pos: first.pos, line: first.line, pipe: this.pipeline('command', 'rightDelim') };
  }

  private loopControl(t: Token): Node {
    const tok = this.nextNonSpace();
    if (tok.type !== 'rightDelim') this.unexpected(tok, `{{${t.val}}}`);
    if (this.rangeDepth === 0) this.errorf(`{{${t.val}}} outside {{range}}`);
    return { kind: t.type === 'break' ? 'break' : 'continue', pos: t.pos, line: t.line };
  }

  private elseControl(): Marker {
    const peek = this.peekNonSpace();
    if (peek.type === 'if' || peek.type === 'with') return { kind: 'else', pos: peek.pos, line: peek.line };
    const t = this.expect('rightDelim', 'else');
    return { kind: 'else', pos: t.pos, line: t.line };
  }

  private branch(kind: 'if' | 'range' | 'with'): BranchNode {
    const savedVars = this.vars.length;
    this.enter();
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    let [list, next] = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (next.kind === 'else') {
      const pk = this.peek();
      if ((kind === 'if' && pk.type === 'if') || (kind === 'with' && pk.type === 'with')) {
        // `{{else if x}}` is `{{else}}{{if x}}...{{end}}` sharing the final {{end}}.
        this.next();
        elseList = { kind: 'list', pos: next.pos, nodes: [this.branch(kind)] };
      } else {
        [elseList, next] = this.itemList();
        if (next.kind !== 'end') this.errorf(`expected end; found {{${next.kind}}}`);
      }
    }
    this.leave();
    this.vars.length = savedVars;
    return { kind, pos: pipe.pos, line: pipe.line, pipe, list, elseList };
  }

  private templateName(t: Token, context: string): string {
    if (t.type !== 'string' && t.type !== 'rawString') this.unexpected(t, context);
    return this.unquoteTok(t);
  }

  private templateControl(): TemplateNode {
    const context = 'template clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    let pipe: PipeNode | undefined;
    if (this.nextNonSpace().type !== 'rightDelim') {
      this.backup();
      pipe = this.pipeline(context, 'rightDelim');
    }
    return { kind: 'template', pos: t.pos, line: t.line, name, pipe };
  }

  private blockControl(): TemplateNode {
    const context = 'block clause';
    const t = this.nextNonSpace();
    const name = this.templateName(t, context);
    const pipe = this.pipeline(context, 'rightDelim');
    const savedVars = this.vars;
    const savedRange = this.rangeDepth;
    this.vars = ['$'];
    this.rangeDepth = 0;
    const [list, end] = this.itemList();
    if (end.kind !== 'end') this.errorf(`unexpected {{${end.kind}}} in ${context}`);
    this.vars = savedVars;
    this.rangeDepth = savedRange;
    this.addTree(name, list);
    return { kind: 'template', pos: t.pos, line: t.line, name, pipe };
  }

  // ---- pipelines ----------------------------------------------------------------------

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const start = this.peekNonSpace();
    const decl: VariableNode[] = [];
    let isAssign = false;
    for (;;) {
      const v = this.peekNonSpace();
      if (v.type !== 'variable') break;
      const save = this.i;
      this.nextNonSpace();
      const nxt = this.peekNonSpace();
      if (nxt.type === 'assign' || nxt.type === 'declare') {
        isAssign = nxt.type === 'assign';
        this.nextNonSpace();
        decl.push({ kind: 'variable', pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        break;
      }
      if (nxt.type === 'char' && nxt.val === ',') {
        this.nextNonSpace();
        decl.push({ kind: 'variable', pos: v.pos, ident: [v.val] });
        this.vars.push(v.val);
        if (context === 'range' && decl.length < 2) {
          const pk = this.peekNonSpace().type;
          if (pk === 'variable' || pk === 'rightDelim' || pk === 'rightParen') continue;
          this.errorf('range can only initialize variables');
        }
        this.errorf(`too many declarations in ${context}`);
      }
      this.i = save;
      break;
    }
    const cmds: CommandNode[] = [];
    for (;;) {
      const t = this.nextNonSpace();
      if (t.type === end) {
        this.checkPipeline(cmds, context);
        return { kind: 'pipe', pos: start.pos, line: start.line, isAssign, decl, cmds };
      }
      switch (t.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.backup();
          cmds.push(this.command());
          break;
        default:
          this.unexpected(t, context);
      }
    }
  }

  private checkPipeline(cmds: readonly CommandNode[], context: string): void {
    if (cmds.length === 0) this.errorf(`missing value for ${context}`);
    for (let i = 1; i < cmds.length; i++) {
      const k = cmds[i]!.args[0]!.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.errorf(`non executable command in pipeline stage ${i + 1}`);
      }
    }
  }

  private command(): CommandNode {
    const pos = this.peekNonSpace().pos;
    const args: ArgNode[] = [];
    for (;;) {
      this.peekNonSpace();
      const op = this.operand();
      if (op) args.push(op);
      const t = this.next();
      if (t.type === 'space') continue;
      if (t.type === 'error') this.unexpected(t, 'operand');
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.backup();
      else if (t.type !== 'pipe') this.errorf(`unexpected ${tokenString(t)} in operand`);
      break;
    }
    if (args.length === 0) this.errorf('empty command');
    return { kind: 'command', pos, args };
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type !== 'field') return node;
    const pos = this.peek().pos;
    const fields: string[] = [];
    while (this.peek().type === 'field') fields.push(this.next().val.slice(1));
    switch (node.kind) {
      case 'field':
        return { kind: 'field', pos, ident: [...node.ident, ...fields] };
      case 'variable':
        return { kind: 'variable', pos, ident: [...node.ident, ...fields] };
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.errorf(`unexpected . after term ${JSON.stringify(termText(node))}`);
      default:
        return { kind: 'chain', pos, node, field: fields };
    }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'error':
        return this.unexpected(t, 'operand');
      case 'identifier':
        if (!this.funcs.has(t.val)) this.errorf(`function ${JSON.stringify(t.val)} not defined`);
        return { kind: 'identifier', pos: t.pos, name: t.val };
      case 'dot':
        return { kind: 'dot', pos: t.pos };
      case 'nil':
        return { kind: 'nil', pos: t.pos };
      case 'variable': {
        const ident = t.val.split('.');
        if (!this.vars.includes(ident[0]!)) this.errorf(`undefined variable ${JSON.stringify(ident[0])}`);
        return { kind: 'variable', pos: t.pos, ident };
      }
      case 'field':
        return { kind: 'field', pos: t.pos, ident: [t.val.slice(1)] };
      case 'bool':
        return { kind: 'bool', pos: t.pos, value: t.val === 'true' };
      case 'charConstant':
      case 'number':
        try {
          const n = parseNumberLiteral(t.val, t.type === 'charConstant');
          return { kind: 'number', pos: t.pos, text: t.val, int: n.int, float: n.float, floatLiteral: n.floatLiteral, uintOnly: n.uint !== undefined && n.int === undefined };
        } catch (e) {
          if (e instanceof LiteralError) this.errorf(e.message);
          throw e;
        }
      case 'leftParen': {
        this.enter();
        const pipe = this.pipeline('parenthesized pipeline', 'rightParen');
        this.leave();
        return pipe;
      }
      case 'string':
      case 'rawString':
        return { kind: 'string', pos: t.pos, quoted: t.val, text: this.unquoteTok(t) };
      default:
        this.backup();
        return undefined;
    }
  }

  private unquoteTok(t: Token): string {
    try {
      return unquote(t.val);
    } catch (e) {
      if (e instanceof LiteralError) this.errorf(e.message);
      throw e;
    }
  }
}

function termText(n: ArgNode): string {
  switch (n.kind) {
    case 'bool':
      return String(n.value);
    case 'string':
      return n.quoted;
    case 'number':
      return n.text;
    case 'nil':
      return 'nil';
    default:
      return '.';
  }
}

/** True if a tree holds only whitespace text (Go's IsEmptyTree, for redefinition). */
function isEmptyTree(list: ListNode): boolean {
  return list.nodes.every((n) => n.kind === 'text' && n.text.trim() === '');
}

/** Wraps unexpected failures (bugs, stack overflow) so callers only ever see TemplateError. */
export function asTemplateError(e: unknown, name: string): TemplateError {
  if (e instanceof TemplateError) return e;
  const msg = e instanceof Error ? e.message : String(e);
  return new TemplateError(`template: ${name}: internal error: ${msg}`, name, 'exec', undefined, { cause: e });
}
