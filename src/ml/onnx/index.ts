/** ONNX encoding: schema, graph builder, model encoder/decoder. */
export { GraphBuilder, type AttrValue, type Dim, type GraphSpec, type InitializerSpec, type NodeSpec, type ValueSpec } from './builder.js';
export { encodeModel, decodeModelHeader, IR_VERSION, OPSET_VERSION, type ModelHeader, type ModelOptions } from './encode.js';
export { onnxRoot, modelProtoType, DataType, AttributeType } from './schema.js';
