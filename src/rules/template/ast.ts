/**
 * AST of Go `text/template` as used by Prometheus alert templates.
 *
 * Positions (`pos`) are UTF-16 offsets into the full parsed text (the same text for every
 * template defined by one parse); error messages convert them to Go's line:byte-column form.
 */

import { assertNever } from '../../model/errors.js';

/** A number literal, with the interpretations Go's parser allows for it. */
export interface NumberNode {
  readonly kind: 'number';
  readonly pos: number;
  /** Source text, e.g. `0x1F`, `1e3`, `'a'`. */
  readonly text: string;
  /** Integer value if the literal is an integer that fits int64. */
  readonly int?: bigint;
  /** Float value if the literal can be a float64. */
  readonly float?: number;
  /** True when Go would treat the literal as a float constant (contains `.eEpP`, not hex/char). */
  readonly floatLiteral: boolean;
  /** True when the literal only fits uint64 (Go rejects it as an int at execution). */
  readonly uintOnly?: boolean;
}

/** A string literal (interpreted or raw). */
export interface StringNode {
  readonly kind: 'string';
  readonly pos: number;
  /** Source text including quotes. */
  readonly quoted: string;
  /** Unquoted value. */
  readonly text: string;
}

/** `true` / `false`. */
export interface BoolNode {
  readonly kind: 'bool';
  readonly pos: number;
  readonly value: boolean;
}

/** The untyped `nil`. */
export interface NilNode {
  readonly kind: 'nil';
  readonly pos: number;
}

/** The cursor `.`. */
export interface DotNode {
  readonly kind: 'dot';
  readonly pos: number;
}

/** A field chain on dot: `.A.B` → `['A', 'B']`. */
export interface FieldNode {
  readonly kind: 'field';
  readonly pos: number;
  readonly ident: readonly string[];
}

/** A variable with optional field chain: `$x.a.b` → `['$x', 'a', 'b']`. */
export interface VariableNode {
  readonly kind: 'variable';
  readonly pos: number;
  readonly ident: readonly string[];
}

/** A function name. */
export interface IdentifierNode {
  readonly kind: 'identifier';
  readonly pos: number;
  readonly name: string;
}

/** Fields applied to a non-field term: `(pipeline).A.B`. */
export interface ChainNode {
  readonly kind: 'chain';
  readonly pos: number;
  readonly node: ArgNode;
  readonly field: readonly string[];
}

/** One element of a pipeline: `fn arg arg` or a single operand. */
export interface CommandNode {
  readonly kind: 'command';
  readonly pos: number;
  readonly args: readonly ArgNode[];
}

/** A pipeline, optionally declaring (`:=`) or assigning (`=`) variables. */
export interface PipeNode {
  readonly kind: 'pipe';
  readonly pos: number;
  readonly line: number;
  readonly isAssign: boolean;
  readonly decl: readonly VariableNode[];
  readonly cmds: readonly CommandNode[];
}

/** Operands of a command. */
export type ArgNode =
  | NumberNode
  | StringNode
  | BoolNode
  | NilNode
  | DotNode
  | FieldNode
  | VariableNode
  | IdentifierNode
  | ChainNode
  | PipeNode;

/** Plain text. */
export interface TextNode {
  readonly kind: 'text';
  readonly pos: number;
  readonly text: string;
}

/** `{{pipeline}}`: prints the value unless the pipeline declares variables. */
export interface ActionNode {
  readonly kind: 'action';
  readonly pos: number;
  readonly line: number;
  readonly pipe: PipeNode;
}

/** `{{if}}`, `{{with}}`, `{{range}}` with optional `{{else}}` list. */
export interface BranchNode {
  readonly kind: 'if' | 'with' | 'range';
  readonly pos: number;
  readonly line: number;
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList?: ListNode;
}

/** `{{break}}` / `{{continue}}` inside a range. */
export interface LoopControlNode {
  readonly kind: 'break' | 'continue';
  readonly pos: number;
  readonly line: number;
}

/** `{{template "name" pipeline}}` (also produced by `{{block}}`). */
export interface TemplateNode {
  readonly kind: 'template';
  readonly pos: number;
  readonly line: number;
  readonly name: string;
  readonly pipe?: PipeNode;
}

/** A sequence of nodes. */
export interface ListNode {
  readonly kind: 'list';
  readonly pos: number;
  readonly nodes: readonly Node[];
}

/** Statement-level nodes. */
export type Node = TextNode | ActionNode | BranchNode | LoopControlNode | TemplateNode | ListNode;

/** Any node (for error contexts). */
export type AnyNode = Node | ArgNode | CommandNode;

/** Result of parsing one template text: its templates by name. */
export interface ParsedTemplates {
  /** Name given to the top-level template. */
  readonly name: string;
  /** The full text (positions refer to it). */
  readonly text: string;
  /** All templates: the top-level one and every `define`/`block`. */
  readonly trees: ReadonlyMap<string, ListNode>;
}

/** Renders a node the way Go's `Node.String()` does (used in error contexts). */
export function nodeToString(n: AnyNode): string {
  switch (n.kind) {
    case 'number':
      return n.text;
    case 'string':
      return n.quoted;
    case 'bool':
      return n.value ? 'true' : 'false';
    case 'nil':
      return 'nil';
    case 'dot':
      return '.';
    case 'field':
      return n.ident.map((f) => '.' + f).join('');
    case 'variable':
      return n.ident.join('.');
    case 'identifier':
      return n.name;
    case 'chain': {
      const base = n.node.kind === 'pipe' ? `(${nodeToString(n.node)})` : nodeToString(n.node);
      return base + n.field.map((f) => '.' + f).join('');
    }
    case 'command':
      return n.args.map((a) => (a.kind === 'pipe' ? `(${nodeToString(a)})` : nodeToString(a))).join(' ');
    case 'pipe': {
      let s = '';
      if (n.decl.length > 0) s = n.decl.map((d) => nodeToString(d)).join(', ') + (n.isAssign ? ' = ' : ' := ');
      return s + n.cmds.map((c) => nodeToString(c)).join(' | ');
    }
    case 'text':
      return n.text;
    case 'action':
      return `{{${nodeToString(n.pipe)}}}`;
    case 'if':
    case 'with':
    case 'range': {
      const els = n.elseList ? `{{else}}${nodeToString(n.elseList)}` : '';
      return `{{${n.kind} ${nodeToString(n.pipe)}}}${nodeToString(n.list)}${els}{{end}}`;
    }
    case 'break':
    case 'continue':
      return `{{${n.kind}}}`;
    case 'template':
      return n.pipe ? `{{template ${JSON.stringify(n.name)} ${nodeToString(n.pipe)}}}` : `{{template ${JSON.stringify(n.name)}}}`;
    case 'list':
      return n.nodes.map((c) => nodeToString(c)).join('');
    default:
      return assertNever(n, 'template node');
  }
}
