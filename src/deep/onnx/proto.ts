/**
 * A minimal encoder of ONNX models (protobuf wire format), enough to build the DQN's graphs in
 * code: no `protobufjs` dependency and no .onnx files in the repository.
 *
 * ONNX's schema is public (onnx/onnx.proto3, https://github.com/onnx/onnx). Only the fields used
 * here are encoded; their numbers are written next to them. Wire format
 * (https://protobuf.dev/programming-guides/encoding/): each field is a key varint
 * (field number << 3 | wire type) followed by a varint (type 0), or a length and bytes (type 2).
 */

/** Element types of TensorProto.DataType used here. */
export const FLOAT = 1
export const INT64 = 7

/** Protobuf bytes under construction. */
class Writer {
  private readonly chunks: Array<Uint8Array> = []
  private bytes: Array<number> = []

  private flush(): void {
    if (this.bytes.length > 0) {
      this.chunks.push(Uint8Array.from(this.bytes))
      this.bytes = []
    }
  }

  /** An unsigned or negative integer as a varint (negatives as 64-bit two's complement, 10 bytes). */
  varint(value: number | bigint): this {
    let v = BigInt.asUintN(64, BigInt(value))
    while (v >= 0x80n) {
      this.bytes.push(Number(v & 0x7fn) | 0x80)
      v >>= 7n
    }
    this.bytes.push(Number(v))
    return this
  }

  private key(field: number, wireType: 0 | 2 | 5): this {
    return this.varint((field << 3) | wireType)
  }

  int(field: number, value: number | bigint): this {
    return this.key(field, 0).varint(value)
  }

  float(field: number, value: number): this {
    this.key(field, 5)
    const b = new Uint8Array(4)
    new DataView(b.buffer).setFloat32(0, value, true)
    this.bytes.push(...b)
    return this
  }

  raw(field: number, data: Uint8Array): this {
    this.key(field, 2).varint(data.length)
    this.flush()
    this.chunks.push(data)
    return this
  }

  string(field: number, s: string): this {
    return this.raw(field, new TextEncoder().encode(s))
  }

  message(field: number, build: (w: Writer) => void): this {
    const inner = new Writer()
    build(inner)
    return this.raw(field, inner.finish())
  }

  finish(): Uint8Array {
    this.flush()
    const out = new Uint8Array(this.chunks.reduce((n, c) => n + c.length, 0))
    let at = 0
    for (const c of this.chunks) {
      out.set(c, at)
      at += c.length
    }
    return out
  }
}

/** An attribute of a node: an integer, a float, a list of integers or a tensor. */
export type Attribute = number | { readonly float: number } | ReadonlyArray<number> | Tensor

export interface Node {
  readonly op: string
  readonly inputs: ReadonlyArray<string>
  readonly outputs: ReadonlyArray<string>
  readonly attributes?: Readonly<Record<string, Attribute>>
}

/** A constant tensor (an initializer): float32 or int64 data. */
export interface Tensor {
  readonly name: string
  readonly dims: ReadonlyArray<number>
  readonly data: Float32Array | BigInt64Array
}

/** A graph input or output: its element type and dimensions (a string is a symbolic dimension). */
export interface ValueInfo {
  readonly name: string
  readonly type: typeof FLOAT | typeof INT64
  readonly dims: ReadonlyArray<number | string>
}

export interface Graph {
  readonly name: string
  readonly nodes: ReadonlyArray<Node>
  readonly initializers: ReadonlyArray<Tensor>
  readonly inputs: ReadonlyArray<ValueInfo>
  readonly outputs: ReadonlyArray<ValueInfo>
}

const isTensor = (a: Attribute): a is Tensor => typeof a === "object" && "data" in a

// TensorProto: dims = 1, data_type = 2, name = 8, raw_data = 9 (little-endian bytes).
const writeTensor = (w: Writer, t: Tensor): void => {
  for (const d of t.dims) w.int(1, d)
  w.int(2, t.data instanceof Float32Array ? FLOAT : INT64)
  w.string(8, t.name)
  w.raw(9, new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength).slice())
}

// AttributeProto: name = 1, f = 2, i = 3, t = 5, ints = 8, type = 20 (FLOAT 1, INT 2, TENSOR 4, INTS 7).
const writeAttribute = (w: Writer, name: string, a: Attribute): void => {
  w.string(1, name)
  if (typeof a === "number") w.int(3, a).int(20, 2)
  else if (isTensor(a)) w.message(5, (t) => writeTensor(t, a)).int(20, 4)
  else if ("float" in a) w.float(2, a.float).int(20, 1)
  else {
    for (const v of a) w.int(8, v)
    w.int(20, 7)
  }
}

// NodeProto: input = 1, output = 2, name = 3, op_type = 4, attribute = 5.
const writeNode = (w: Writer, n: Node, index: number): void => {
  for (const i of n.inputs) w.string(1, i)
  for (const o of n.outputs) w.string(2, o)
  w.string(3, `${n.op}_${index}`)
  w.string(4, n.op)
  for (const [k, v] of Object.entries(n.attributes ?? {})) w.message(5, (a) => writeAttribute(a, k, v))
}

// ValueInfoProto: name = 1, type = 2; TypeProto: tensor_type = 1; TypeProto.Tensor: elem_type = 1,
// shape = 2; TensorShapeProto: dim = 1; Dimension: dim_value = 1, dim_param = 2.
const writeValueInfo = (w: Writer, v: ValueInfo): void => {
  w.string(1, v.name)
  w.message(2, (type) =>
    type.message(1, (tensor) => {
      tensor.int(1, v.type)
      tensor.message(2, (shape) => {
        for (const d of v.dims) shape.message(1, (dim) => (typeof d === "number" ? dim.int(1, d) : dim.string(2, d)))
      })
    }))
}

/**
 * The bytes of a ModelProto holding `graph`: ir_version = 1, producer_name = 2, graph = 7,
 * opset_import = 8 (OperatorSetIdProto: domain = 1, version = 2). GraphProto: node = 1, name = 2,
 * initializer = 5, input = 11, output = 12.
 */
export const encodeModel = (graph: Graph, opset: number): Uint8Array => {
  const w = new Writer()
  w.int(1, 8) // IR version 8 (ONNX 1.10+), which opset 17 requires at least.
  w.string(2, "distmt")
  w.message(7, (g) => {
    graph.nodes.forEach((n, i) => g.message(1, (nw) => writeNode(nw, n, i)))
    g.string(2, graph.name)
    for (const t of graph.initializers) g.message(5, (tw) => writeTensor(tw, t))
    for (const v of graph.inputs) g.message(11, (vw) => writeValueInfo(vw, v))
    for (const v of graph.outputs) g.message(12, (vw) => writeValueInfo(vw, v))
  })
  w.message(8, (o) => o.string(1, "").int(2, opset))
  return w.finish()
}
