import { CIFAR10_MEAN, CIFAR10_STD } from '../data/batches';
import { BN_EPSILON, type Model, type ModelDef, type Op } from '../models/graph';
import { readWeights } from '../train/checkpoint';
import { ProtoWriter } from './protobuf';

/**
 * A dense, slimmed or gated model in eval mode as an ONNX file (opset 13, IR version 8), written
 * with our own protobuf encoder (protobuf.ts; the schema is onnx/onnx.proto).
 *
 * Contract: input "input", float32 NCHW [N, 3, 32, 32] (N dynamic), normalised exactly as the
 * app normalises training images (pixel/255, minus CIFAR-10's mean, over its std; an imported
 * network's own normalisation is its affine op, exported too); output "logits", [N, 10].
 *
 * Each op maps to ONNX ops over NCHW tensors; the traps are the layouts (HWIO -> OIHW) and TF's
 * 'same' padding, which for a stride-2 conv on an even input pads bottom/right only: explicit
 * pads [top, left, bottom, right] carry that, computed from the tracked spatial sizes.
 */
export interface OnnxOptions {
  /**
   * Fold each BatchNorm into the conv that alone feeds it (weights w*s, bias beta - mean*s,
   * s = gamma/sqrt(var+eps)); a BN fed by anything else stays a BatchNormalization node.
   * false keeps every BN as a node (the network as trained, for inspection). Default true.
   */
  foldBatchNorm?: boolean;
}

export const ONNX_OPSET = 13;
export const ONNX_IR_VERSION = 8;
export const ONNX_INPUT = 'input';
export const ONNX_OUTPUT = 'logits';

/** A float tensor: an initializer of the graph. */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

export type OnnxAttribute = { name: string; int: number } | { name: string; float: number } | { name: string; ints: number[] };

export interface OnnxNode {
  opType: string;
  name: string;
  inputs: string[];
  outputs: string[];
  attributes: OnnxAttribute[];
}

/** The graph before encoding: plain data, so tests can read what was built. */
export interface OnnxGraph {
  name: string;
  nodes: OnnxNode[];
  initializers: OnnxInitializer[];
  inputShape: [number, number, number];
  numClasses: number;
  metadata: Record<string, string>;
}

type Weights = Record<string, { shape: number[]; data: Float32Array }>;

export async function exportOnnx(model: Model, opts: OnnxOptions = {}): Promise<Uint8Array> {
  return encodeOnnx(buildOnnxGraph(model.def, await readWeights(model.vars), opts));
}

/** Per tensor: channels and spatial size (h = w = 1 once flattened). */
interface Shape {
  c: number;
  h: number;
  w: number;
}

export function buildOnnxGraph(def: ModelDef, weights: Weights, { foldBatchNorm = true }: OnnxOptions = {}): OnnxGraph {
  const nodes: OnnxNode[] = [];
  const initializers: OnnxInitializer[] = [];
  const names = new Set<string>([ONNX_INPUT]);
  const claim = (name: string): string => {
    if (names.has(name)) throw new Error(`ONNX export of ${def.name}: the name ${name} is defined twice`);
    names.add(name);
    return name;
  };
  const tensorName = (t: string): string => (t === def.output ? ONNX_OUTPUT : t);
  const constant = (name: string, dims: number[], data: Float32Array): string => {
    initializers.push({ name: claim(name), dims, data });
    return name;
  };
  const weight = (name: string) => {
    const w = weights[name];
    if (!w) throw new Error(`ONNX export of ${def.name}: no value for parameter ${name}`);
    return w;
  };
  const node = (opType: string, name: string, inputs: string[], output: string, attributes: OnnxAttribute[] = []): void => {
    nodes.push({ opType, name, inputs, outputs: [claim(output)], attributes });
  };
  /** A per-channel vector as a [C, 1, 1] constant, which broadcasts over N and H, W. */
  const channelConstant = (name: string, values: ArrayLike<number>): string => constant(name, [values.length, 1, 1], Float32Array.from(values));

  const consumers = new Map<string, Op[]>();
  for (const op of def.ops) for (const input of op.kind === 'add' ? [op.a, op.b] : [op.input]) consumers.set(input, [...(consumers.get(input) ?? []), op]);
  /** The BN that is a conv's only consumer, when folding applies. */
  const foldTarget = (conv: string): Extract<Op, { kind: 'bn' }> | null => {
    const users = consumers.get(conv) ?? [];
    return foldBatchNorm && conv !== def.output && users.length === 1 && users[0].kind === 'bn' ? users[0] : null;
  };
  const folded = new Set<string>();

  const [H, W, C] = def.inputShape;
  const shapes = new Map<string, Shape>([['input', { c: C, h: H, w: W }]]);
  const shapeOf = (t: string): Shape => {
    const s = shapes.get(t);
    if (!s) throw new Error(`ONNX export of ${def.name}: tensor ${t} used before it is made`);
    return s;
  };

  for (const op of def.ops) {
    if (folded.has(op.out)) continue;
    const out = tensorName(op.out);
    const input = op.kind === 'add' ? '' : tensorName(op.input);
    const inShape = op.kind === 'add' ? shapeOf(op.a) : shapeOf(op.input);
    let shape: Shape = inShape;
    switch (op.kind) {
      case 'conv': {
        const w = weight(op.weight);
        const [kh, kw, ci, co] = w.shape;
        const [padH, outH] = convPadding(inShape.h, kh, op.stride, op.pad ?? 'same');
        const [padW, outW] = convPadding(inShape.w, kw, op.stride, op.pad ?? 'same');
        let oihw = hwioToOihw(w.data, w.shape);
        let bias: Float32Array | null = null;
        const bn = foldTarget(op.out);
        let result = out;
        if (bn) {
          ({ weight: oihw, bias } = foldBn(oihw, co, weight(bn.gamma).data, weight(bn.beta).data, weight(bn.mean).data, weight(bn.variance).data));
          folded.add(bn.out);
          result = tensorName(bn.out);
          shapes.set(bn.out, { c: co, h: outH, w: outW });
        }
        const inputs = [input, constant(`${op.weight}:oihw`, [co, ci, kh, kw], oihw)];
        if (bias) inputs.push(constant(`${op.weight}:bias`, [co], bias));
        node('Conv', op.out, inputs, result, [
          { name: 'kernel_shape', ints: [kh, kw] },
          { name: 'strides', ints: [op.stride, op.stride] },
          { name: 'pads', ints: [padH[0], padW[0], padH[1], padW[1]] },
        ]);
        shape = { c: co, h: outH, w: outW };
        break;
      }
      case 'bn':
        node('BatchNormalization', op.out, [input, ...[op.gamma, op.beta, op.mean, op.variance].map((p) => constant(p, [inShape.c], weight(p).data))], out, [
          { name: 'epsilon', float: BN_EPSILON },
        ]);
        break;
      case 'gate':
        node('Mul', op.out, [input, channelConstant(op.gate, weight(op.gate).data)], out);
        break;
      case 'affine': {
        const scaled = `${op.out}:scaled`;
        node('Mul', scaled, [input, channelConstant(`${op.out}:scale`, op.scale)], scaled);
        node('Add', op.out, [scaled, channelConstant(`${op.out}:shift`, op.shift)], out);
        break;
      }
      case 'relu':
        node('Relu', op.out, [input], out);
        break;
      case 'add':
        node('Add', op.out, [tensorName(op.a), tensorName(op.b)], out);
        break;
      case 'maxpool':
        node('MaxPool', op.out, [input], out, [
          { name: 'kernel_shape', ints: [2, 2] },
          { name: 'strides', ints: [2, 2] },
        ]);
        shape = { c: inShape.c, h: Math.floor(inShape.h / 2), w: Math.floor(inShape.w / 2) };
        break;
      case 'subsample':
        // A 1x1 average pool with a stride keeps every stride-th pixel, as the tfjs forward does.
        node('AveragePool', op.out, [input], out, [
          { name: 'kernel_shape', ints: [1, 1] },
          { name: 'strides', ints: [op.stride, op.stride] },
        ]);
        shape = { c: inShape.c, h: Math.ceil(inShape.h / op.stride), w: Math.ceil(inShape.w / op.stride) };
        break;
      case 'gap': {
        const pooled = `${op.out}:pooled`;
        node('GlobalAveragePool', pooled, [input], pooled);
        node('Flatten', op.out, [pooled], out, [{ name: 'axis', int: 1 }]);
        shape = { c: inShape.c, h: 1, w: 1 };
        break;
      }
      case 'dense': {
        // Our [in, out] layout is Gemm's B as it stands: Y = A B + C, no transpose.
        const w = weight(op.weight);
        const inputs = [input, constant(op.weight, w.shape, w.data)];
        if (op.bias) inputs.push(constant(op.bias, weight(op.bias).shape, weight(op.bias).data));
        node('Gemm', op.out, inputs, out);
        shape = { c: w.shape[1], h: 1, w: 1 };
        break;
      }
    }
    shapes.set(op.out, shape);
  }
  if (!names.has(ONNX_OUTPUT)) throw new Error(`ONNX export of ${def.name}: no op makes the output ${def.output}`);
  return {
    name: def.name,
    nodes,
    initializers,
    inputShape: [C, H, W],
    numClasses: def.numClasses,
    metadata: {
      model: def.name,
      layout: 'NCHW',
      normalization: JSON.stringify({ pixelScale: 1 / 255, mean: CIFAR10_MEAN, std: CIFAR10_STD }),
      families: JSON.stringify(Object.fromEntries(def.families.map((f) => [f.id, f.channels]))),
    },
  };
}

/**
 * [before, after] padding and the output size along one axis. TF's 'same': out = ceil(in/s),
 * the padding the window needs split with the odd pixel at the end; 'torch': (k-1)/2 each side.
 */
export function convPadding(size: number, k: number, stride: number, pad: 'same' | 'torch'): [[number, number], number] {
  if (pad === 'torch') {
    const p = (k - 1) / 2;
    return [[p, p], Math.floor((size + 2 * p - k) / stride) + 1];
  }
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  return [[Math.floor(total / 2), total - Math.floor(total / 2)], out];
}

function hwioToOihw(src: Float32Array, [H, W, I, O]: number[]): Float32Array {
  const out = new Float32Array(src.length);
  for (let h = 0; h < H; h++)
    for (let w = 0; w < W; w++)
      for (let i = 0; i < I; i++) for (let o = 0; o < O; o++) out[((o * I + i) * H + h) * W + w] = src[((h * W + w) * I + i) * O + o];
  return out;
}

/** Eval-mode BN after a bias-free conv, folded into it: in float64, rounded once. */
function foldBn(oihw: Float32Array, co: number, gamma: Float32Array, beta: Float32Array, mean: Float32Array, variance: Float32Array) {
  const per = oihw.length / co;
  const weight = new Float32Array(oihw.length);
  const bias = new Float32Array(co);
  for (let o = 0; o < co; o++) {
    const s = gamma[o] / Math.sqrt(variance[o] + BN_EPSILON);
    for (let j = 0; j < per; j++) weight[o * per + j] = oihw[o * per + j] * s;
    bias[o] = beta[o] - mean[o] * s;
  }
  return { weight, bias };
}

// --- Encoding (field numbers from onnx/onnx.proto) ----------------------------------------------

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTR_FLOAT = 1;
const ATTR_INT = 2;
const ATTR_INTS = 7;

export function encodeOnnx(g: OnnxGraph): Uint8Array {
  const model = new ProtoWriter()
    .varint(1, ONNX_IR_VERSION)
    .string(2, 'dpm-playground')
    .string(3, '1')
    .message(7, (graph) => {
      for (const n of g.nodes) graph.message(1, (w) => writeNode(w, n));
      graph.string(2, g.name);
      for (const t of g.initializers) graph.message(5, (w) => writeTensor(w, t));
      graph.message(11, (w) => writeValueInfo(w, ONNX_INPUT, ['N', ...g.inputShape]));
      graph.message(12, (w) => writeValueInfo(w, ONNX_OUTPUT, ['N', g.numClasses]));
    })
    .message(8, (opset) => opset.string(1, '').varint(2, ONNX_OPSET));
  for (const [key, value] of Object.entries(g.metadata)) model.message(14, (w) => w.string(1, key).string(2, value));
  return model.finish();
}

function writeNode(w: ProtoWriter, n: OnnxNode): void {
  for (const i of n.inputs) w.string(1, i);
  for (const o of n.outputs) w.string(2, o);
  w.string(3, n.name).string(4, n.opType);
  for (const a of n.attributes) {
    w.message(5, (attr) => {
      attr.string(1, a.name);
      if ('int' in a) attr.varint(3, a.int).varint(20, ATTR_INT);
      else if ('float' in a) attr.float(2, a.float).varint(20, ATTR_FLOAT);
      else attr.packedVarints(8, a.ints).varint(20, ATTR_INTS);
    });
  }
}

function writeTensor(w: ProtoWriter, t: OnnxInitializer): void {
  if (t.dims.reduce((a, b) => a * b, 1) !== t.data.length) throw new Error(`ONNX tensor ${t.name}: dims [${t.dims}] do not hold ${t.data.length} values`);
  w.packedVarints(1, t.dims).varint(2, FLOAT).string(8, t.name).bytes(9, littleEndianFloats(t.data));
}

function writeValueInfo(w: ProtoWriter, name: string, dims: (number | string)[]): void {
  w.string(1, name).message(2, (type) =>
    type.message(1, (tensor) =>
      tensor.varint(1, FLOAT).message(2, (shape) => {
        for (const d of dims) shape.message(1, (dim) => (typeof d === 'string' ? dim.string(2, d) : dim.varint(1, d)));
      }),
    ),
  );
}

/** raw_data is little-endian whatever the host's byte order. */
function littleEndianFloats(data: Float32Array): Uint8Array {
  const out = new Uint8Array(data.length * 4);
  const view = new DataView(out.buffer);
  for (let i = 0; i < data.length; i++) view.setFloat32(i * 4, data[i], true);
  return out;
}
