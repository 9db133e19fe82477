/**
 * Encodes a {@link GraphSpec} as an ONNX `ModelProto` (deterministic: the same spec gives the
 * same bytes) and decodes the header fields vigil validates (IR version, opsets, metadata).
 */
import { DataType, AttributeType, modelProtoType } from './schema.js';
import type { AttrValue, Dim, GraphSpec, InitializerSpec, ValueSpec } from './builder.js';

/** Default ONNX IR version written by vigil. */
export const IR_VERSION = 8;
/** Default default-domain opset written by vigil. */
export const OPSET_VERSION = 17;

/** Model-level fields of {@link encodeModel}. */
export interface ModelOptions {
  readonly irVersion?: number;
  readonly opset?: number;
  readonly producerName?: string;
  readonly producerVersion?: string;
  readonly modelVersion?: number;
  readonly docString?: string;
  /** Key/value metadata (written sorted by key). */
  readonly metadata?: Readonly<Record<string, string>>;
}

function leFloat32(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) dv.setFloat32(i * 4, data[i]!, true);
  return out;
}

function leInt64(data: readonly number[]): Uint8Array {
  const out = new Uint8Array(data.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) dv.setBigInt64(i * 8, BigInt(data[i]!), true);
  return out;
}

function tensor(init: InitializerSpec): Record<string, unknown> {
  return {
    dims: [...init.dims],
    data_type: init.kind === 'float' ? DataType.FLOAT : DataType.INT64,
    name: init.name,
    raw_data: init.kind === 'float' ? leFloat32(init.data) : leInt64(init.data),
  };
}

function valueInfo(v: ValueSpec): Record<string, unknown> {
  return {
    name: v.name,
    type: {
      tensor_type: {
        elem_type: DataType.FLOAT,
        shape: { dim: v.dims.map((d: Dim) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) },
      },
    },
  };
}

function attribute(name: string, a: AttrValue): Record<string, unknown> {
  switch (a.kind) {
    case 'float':
      return { name, type: AttributeType.FLOAT, f: a.value };
    case 'int':
      return { name, type: AttributeType.INT, i: a.value };
    case 'string':
      return { name, type: AttributeType.STRING, s: new TextEncoder().encode(a.value) };
    case 'floats':
      return { name, type: AttributeType.FLOATS, floats: [...a.value] };
    case 'ints':
      return { name, type: AttributeType.INTS, ints: [...a.value] };
    default: {
      const never: never = a;
      throw new Error(`unexpected attribute ${JSON.stringify(never)}`);
    }
  }
}

/** Serialises `graph` into ONNX `ModelProto` bytes. */
export function encodeModel(graph: GraphSpec, opts: ModelOptions = {}): Uint8Array {
  const type = modelProtoType();
  const meta = Object.entries(opts.metadata ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const msg = {
    ir_version: opts.irVersion ?? IR_VERSION,
    producer_name: opts.producerName ?? 'vigil',
    producer_version: opts.producerVersion ?? '0.1.0',
    model_version: opts.modelVersion ?? 1,
    doc_string: opts.docString ?? '',
    graph: {
      name: graph.name,
      node: graph.nodes.map((n) => ({
        input: [...n.inputs],
        output: [...n.outputs],
        name: n.name,
        op_type: n.opType,
        domain: '',
        attribute: Object.keys(n.attributes)
          .sort()
          .map((k) => attribute(k, n.attributes[k]!)),
      })),
      initializer: graph.initializers.map(tensor),
      input: graph.inputs.map(valueInfo),
      output: graph.outputs.map(valueInfo),
    },
    opset_import: [{ domain: '', version: opts.opset ?? OPSET_VERSION }],
    metadata_props: meta.map(([key, value]) => ({ key, value })),
  };
  const err = type.verify(msg);
  if (err) throw new Error(`invalid ONNX model: ${err}`);
  return type.encode(type.fromObject(msg)).finish();
}

/** The header of a decoded model. */
export interface ModelHeader {
  readonly irVersion: number;
  readonly opsets: ReadonlyMap<string, number>;
  readonly producerName: string;
  readonly metadata: Readonly<Record<string, string>>;
  readonly inputs: readonly ValueSpec[];
  readonly outputs: readonly ValueSpec[];
  readonly ops: readonly string[];
}

function num(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v && typeof v === 'object' && 'toNumber' in v && typeof (v as { toNumber: unknown }).toNumber === 'function') {
    return (v as { toNumber(): number }).toNumber();
  }
  return Number(v ?? 0);
}

interface DecodedValueInfo {
  name?: string;
  type?: { tensor_type?: { shape?: { dim?: { dim_value?: unknown; dim_param?: string }[] } } };
}

function decodeValue(v: DecodedValueInfo): ValueSpec {
  const dims = v.type?.tensor_type?.shape?.dim ?? [];
  return { name: v.name ?? '', dims: dims.map((d) => (d.dim_param !== undefined && d.dim_param !== '' ? d.dim_param : num(d.dim_value))) };
}

/** Decodes the header fields of ONNX bytes; throws when the bytes are not a `ModelProto`. */
export function decodeModelHeader(bytes: Uint8Array): ModelHeader {
  const m = modelProtoType().decode(bytes) as unknown as {
    ir_version?: unknown;
    producer_name?: string;
    opset_import?: { domain?: string; version?: unknown }[];
    metadata_props?: { key?: string; value?: string }[];
    graph?: { input?: DecodedValueInfo[]; output?: DecodedValueInfo[]; node?: { op_type?: string }[] };
  };
  const opsets = new Map<string, number>();
  for (const o of m.opset_import ?? []) opsets.set(o.domain ?? '', num(o.version));
  const metadata: Record<string, string> = {};
  for (const p of m.metadata_props ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  return {
    irVersion: num(m.ir_version),
    opsets,
    producerName: m.producer_name ?? '',
    metadata,
    inputs: (m.graph?.input ?? []).map(decodeValue),
    outputs: (m.graph?.output ?? []).map(decodeValue),
    ops: [...new Set((m.graph?.node ?? []).map((n) => n.op_type ?? ''))].sort(),
  };
}
