/**
 * A small, deterministic ONNX graph builder: named inputs/outputs with static or symbolic
 * (`dim_param`) dimensions, float32/int64 initializers, and helpers for the handful of operators
 * vigil's models use. Node and tensor names are generated from a counter, so the same calls
 * produce the same graph.
 */

/** A dimension: a fixed size, or a symbolic name such as `"N"` (dynamic batch). */
export type Dim = number | string;

/** An attribute value of a node. */
export type AttrValue =
  | { readonly kind: 'float'; readonly value: number }
  | { readonly kind: 'int'; readonly value: number }
  | { readonly kind: 'string'; readonly value: string }
  | { readonly kind: 'floats'; readonly value: readonly number[] }
  | { readonly kind: 'ints'; readonly value: readonly number[] };

/** A graph node. */
export interface NodeSpec {
  readonly opType: string;
  readonly name: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes: Readonly<Record<string, AttrValue>>;
}

/** A constant tensor stored in the graph. */
export type InitializerSpec =
  | { readonly kind: 'float'; readonly name: string; readonly dims: readonly number[]; readonly data: Float32Array }
  | { readonly kind: 'int64'; readonly name: string; readonly dims: readonly number[]; readonly data: readonly number[] };

/** A declared graph input or output (float32 tensors only). */
export interface ValueSpec {
  readonly name: string;
  readonly dims: readonly Dim[];
}

/** A complete graph, ready for {@link encodeModel}. */
export interface GraphSpec {
  readonly name: string;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly initializers: readonly InitializerSpec[];
  readonly nodes: readonly NodeSpec[];
}

/** Incrementally builds a {@link GraphSpec}. Every helper returns the name of its output. */
export class GraphBuilder {
  private readonly inputs: ValueSpec[] = [];
  private readonly outputs: ValueSpec[] = [];
  private readonly inits: InitializerSpec[] = [];
  private readonly nodes: NodeSpec[] = [];
  private readonly names = new Set<string>();
  private seq = 0;

  constructor(readonly name: string) {}

  private fresh(prefix: string): string {
    let n: string;
    do n = `${prefix}_${this.seq++}`;
    while (this.names.has(n));
    this.names.add(n);
    return n;
  }

  private claim(name: string): string {
    if (this.names.has(name)) throw new Error(`duplicate ONNX value name ${JSON.stringify(name)}`);
    this.names.add(name);
    return name;
  }

  /** Declares a float32 graph input. */
  input(name: string, dims: readonly Dim[]): string {
    this.inputs.push({ name: this.claim(name), dims: [...dims] });
    return name;
  }

  /** Declares `value` as a float32 graph output named `name` (an Identity node renames it). */
  output(name: string, value: string, dims: readonly Dim[]): string {
    this.nodes.push({ opType: 'Identity', name: this.fresh('n'), inputs: [value], outputs: [this.claim(name)], attributes: {} });
    this.outputs.push({ name, dims: [...dims] });
    return name;
  }

  /** A float32 constant. `data.length` must equal the product of `dims`. */
  floats(data: Float32Array | readonly number[], dims: readonly number[], prefix = 'w'): string {
    const arr = data instanceof Float32Array ? new Float32Array(data) : Float32Array.from(data);
    const size = dims.reduce((a, b) => a * b, 1);
    if (arr.length !== size) throw new Error(`initializer has ${arr.length} values, dims ${JSON.stringify(dims)} need ${size}`);
    const name = this.fresh(prefix);
    this.inits.push({ kind: 'float', name, dims: [...dims], data: arr });
    return name;
  }

  /** A float32 scalar-like constant of shape `[1]`. */
  scalar(v: number): string {
    return this.floats([v], [1], 'c');
  }

  /** An int64 1-D constant (shapes, axes, slice bounds). */
  ints(data: readonly number[]): string {
    const name = this.fresh('i');
    this.inits.push({ kind: 'int64', name, dims: [data.length], data: [...data] });
    return name;
  }

  /** Adds a node with one output and returns the output name. */
  op(opType: string, inputs: readonly string[], attributes: Readonly<Record<string, AttrValue>> = {}): string {
    const out = this.fresh(opType.toLowerCase());
    this.nodes.push({ opType, name: this.fresh('n'), inputs: [...inputs], outputs: [out], attributes });
    return out;
  }

  /** `MatMul(a, b)`. */
  matmul(a: string, b: string): string {
    return this.op('MatMul', [a, b]);
  }
  /** `Add(a, b)` with broadcasting. */
  add(a: string, b: string): string {
    return this.op('Add', [a, b]);
  }
  /** `Sub(a, b)` with broadcasting. */
  sub(a: string, b: string): string {
    return this.op('Sub', [a, b]);
  }
  /** `Mul(a, b)` with broadcasting. */
  mul(a: string, b: string): string {
    return this.op('Mul', [a, b]);
  }
  /** `Div(a, b)` with broadcasting. */
  div(a: string, b: string): string {
    return this.op('Div', [a, b]);
  }
  /** `Abs(x)`. */
  abs(x: string): string {
    return this.op('Abs', [x]);
  }
  /** `Relu(x)`. */
  relu(x: string): string {
    return this.op('Relu', [x]);
  }
  /** `Sqrt(x)`. */
  sqrt(x: string): string {
    return this.op('Sqrt', [x]);
  }
  /** `Max(a, b)`. */
  max(a: string, b: string): string {
    return this.op('Max', [a, b]);
  }
  /** `ReduceMean` over `axes` (opset 17: axes is an attribute). */
  reduceMean(x: string, axes: readonly number[], keepdims = true): string {
    return this.op('ReduceMean', [x], { axes: { kind: 'ints', value: axes }, keepdims: { kind: 'int', value: keepdims ? 1 : 0 } });
  }
  /** `Concat` along `axis`. */
  concat(xs: readonly string[], axis: number): string {
    return this.op('Concat', xs, { axis: { kind: 'int', value: axis } });
  }
  /** `Slice(x, starts, ends, axes)`. */
  slice(x: string, starts: readonly number[], ends: readonly number[], axes: readonly number[]): string {
    return this.op('Slice', [x, this.ints(starts), this.ints(ends), this.ints(axes)]);
  }
  /** `Reshape(x, shape)`. */
  reshape(x: string, shape: readonly number[]): string {
    return this.op('Reshape', [x, this.ints(shape)]);
  }
  /** `Gemm(a, b, c)` = alpha·a·b + beta·c. */
  gemm(a: string, b: string, c: string): string {
    return this.op('Gemm', [a, b, c]);
  }

  /** The finished graph. */
  build(): GraphSpec {
    return { name: this.name, inputs: [...this.inputs], outputs: [...this.outputs], initializers: [...this.inits], nodes: [...this.nodes] };
  }
}
