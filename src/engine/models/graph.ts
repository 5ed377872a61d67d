import * as tf from '@tensorflow/tfjs';
import { addRelu } from '../kernels/webgpu/add-relu';
import { bnTrain } from '../kernels/webgpu/batchnorm';
import { fastWebGpu } from '../kernels/webgpu/install';

/**
 * A model is data: a list of ops over named tensors, the parameters they read, and the
 * coupled channel families the pruner works on. Shapes come from the parameters, so a slimmed
 * model (smaller tensors) runs through the same graph unchanged. Nothing here special-cases a
 * model by name.
 */

export type Op =
  /**
   * pad 'same' is TF's (for stride 2 on an even input it pads only bottom/right); 'torch' pads
   * (k-1)/2 on every side as PyTorch's Conv2d(padding=k//2) does. They differ only for strided
   * 3x3 convs, where imported PyTorch weights need 'torch'. Absent = 'same'.
   */
  | { kind: 'conv'; out: string; input: string; weight: string; stride: number; pad?: ConvPad }
  | {
      kind: 'bn';
      out: string;
      input: string;
      gamma: string;
      beta: string;
      mean: string;
      variance: string;
    }
  /** Per-channel multiplier (Gate Decorator's gate); its parameter is created by the pruner. */
  | { kind: 'gate'; out: string; input: string; gate: string }
  | { kind: 'relu'; out: string; input: string }
  | { kind: 'add'; out: string; a: string; b: string }
  | { kind: 'maxpool'; out: string; input: string }
  | { kind: 'gap'; out: string; input: string }
  /**
   * Per-channel x * scale + shift with constants: converts the app's input normalisation to the
   * one an imported checkpoint was trained with.
   */
  | { kind: 'affine'; out: string; input: string; scale: number[]; shift: number[] }
  /** x[:, ::stride, ::stride, :] — the option-A ResNet shortcut's spatial subsampling. */
  | { kind: 'subsample'; out: string; input: string; stride: number }
  /** A partial product of a classifier whose input spans several families has no bias. */
  | { kind: 'dense'; out: string; input: string; weight: string; bias?: string };

export type ConvPad = 'same' | 'torch';

export type ParamInit = 'he' | 'zeros' | 'ones' | 'dense';

export interface ParamSpec {
  name: string;
  shape: number[];
  init: ParamInit;
  /** BatchNorm running statistics are state, not trained (and get no weight decay). */
  trainable: boolean;
  /** Whether weight decay applies (PyTorch recipes decay every trained tensor; BN stats never). */
  decay: boolean;
}

/** One parameter's slice that belongs to a channel: index c along `axis`. */
export interface FamilyMember {
  param: string;
  axis: number;
  /**
   * 'out': this tensor produces the channel (conv output, BN vectors); its weights carry the
   * channel's importance. 'in': it consumes the channel (next conv's or dense's input).
   */
  role: 'out' | 'in';
}

/**
 * Channels coupled through the graph: removing channel c removes slice c of every member.
 * For ResNet, every layer tied by a residual add is one family.
 */
export interface ChannelFamily {
  id: string;
  label: string;
  channels: number;
  members: FamilyMember[];
  /** BN ops whose output channels are this family (where Gate Decorator puts its gates). */
  bns: string[];
}

export interface ModelDef {
  name: string;
  inputShape: [number, number, number];
  numClasses: number;
  ops: Op[];
  /** Name of the tensor holding the logits. */
  output: string;
  params: ParamSpec[];
  families: ChannelFamily[];
}

export interface Model {
  def: ModelDef;
  vars: Map<string, tf.Variable>;
}

export const BN_EPSILON = 1e-5;
export const BN_MOMENTUM = 0.1;

// tfjs needs globally unique variable names; several models (a run and its slimmed copy) coexist.
let nextVariableId = 0;

/** Deterministic init: Kaiming-normal (fan-out, as torchvision) for convs, PyTorch's uniform for dense. */
export function initParams(def: ModelDef, seed: number): Model {
  const vars = new Map<string, tf.Variable>();
  def.params.forEach((p, i) => {
    const value = tf.tidy(() => {
      switch (p.init) {
        case 'zeros':
          return tf.zeros(p.shape);
        case 'ones':
          return tf.ones(p.shape);
        case 'he': {
          const [kh, kw, , out] = p.shape;
          const std = Math.sqrt(2 / (kh * kw * out));
          return tf.randomNormal(p.shape, 0, std, 'float32', seed * 1000 + i);
        }
        case 'dense': {
          const fanIn = p.shape[0];
          const bound = 1 / Math.sqrt(fanIn);
          return tf.randomUniform(p.shape, -bound, bound, 'float32', seed * 1000 + i);
        }
      }
    });
    vars.set(p.name, tf.variable(value, p.trainable, `${def.name}/${p.name}#${nextVariableId++}`));
    value.dispose();
  });
  return { def, vars };
}

export function param(model: Model, name: string): tf.Variable {
  const v = model.vars.get(name);
  if (!v) throw new Error(`model ${model.def.name} has no parameter ${name}`);
  return v;
}

export function trainableVars(model: Model): tf.Variable[] {
  return model.def.params.filter((p) => p.trainable && model.vars.has(p.name)).map((p) => param(model, p.name));
}

export function disposeModel(model: Model): void {
  for (const v of model.vars.values()) v.dispose();
  model.vars.clear();
}

/**
 * Runs the graph. In training mode BatchNorm uses batch statistics and updates its running
 * averages in place (assign is not differentiated, so this is safe inside a gradient tape).
 * On WebGPU (fastWebGpu) training BN is one fused op, and a BN or residual add computes the
 * ReLU that alone consumes it (see reluFusions).
 */
export function forward(model: Model, x: tf.Tensor4D, training: boolean): tf.Tensor2D {
  return tf.tidy(() => {
    const env = new Map<string, tf.Tensor>([['input', x]]);
    const get = (name: string): tf.Tensor => {
      const t = env.get(name);
      if (!t) throw new Error(`graph ${model.def.name}: tensor ${name} used before it is made`);
      return t;
    };
    const fused = training && fastWebGpu() ? reluFusions(model.def) : NO_FUSION;
    for (const op of model.def.ops) {
      env.set(op.out, runOp(model, op, get, training, fused));
    }
    return get(model.def.output) as tf.Tensor2D;
  });
}

const NO_FUSION: ReadonlySet<string> = new Set();
const fusionPlans = new WeakMap<ModelDef, ReadonlySet<string>>();

/**
 * The BN and residual-add outputs whose only consumer is a ReLU: those ops apply the ReLU
 * themselves (one dispatch each way instead of two) and the ReLU op passes their output
 * through. A Gate Decorator gate between BN and ReLU leaves the pair unfused. Computed once
 * per def.
 */
export function reluFusions(def: ModelDef): ReadonlySet<string> {
  let plan = fusionPlans.get(def);
  if (plan) return plan;
  const consumers = new Map<string, Op[]>();
  for (const op of def.ops) {
    for (const input of opInputs(op)) consumers.set(input, [...(consumers.get(input) ?? []), op]);
  }
  const onlyByRelu = (name: string): boolean => {
    const users = consumers.get(name) ?? [];
    return name !== def.output && users.length === 1 && users[0].kind === 'relu';
  };
  plan = new Set(def.ops.filter((op) => (op.kind === 'bn' || op.kind === 'add') && onlyByRelu(op.out)).map((op) => op.out));
  fusionPlans.set(def, plan);
  return plan;
}

function opInputs(op: Op): string[] {
  return op.kind === 'add' ? [op.a, op.b] : [op.input];
}

function runOp(model: Model, op: Op, get: (n: string) => tf.Tensor, training: boolean, fused: ReadonlySet<string>): tf.Tensor {
  switch (op.kind) {
    case 'conv': {
      const w = param(model, op.weight) as tf.Variable<tf.Rank.R4>;
      return tf.conv2d(get(op.input) as tf.Tensor4D, w, op.stride, op.pad === 'torch' ? (w.shape[0] - 1) / 2 : 'same');
    }
    case 'affine':
      return tf.add(tf.mul(get(op.input), tf.tensor1d(op.scale)), tf.tensor1d(op.shift));
    case 'subsample':
      // A 1x1 average pool with a stride is exactly x[::s, ::s], and unlike stridedSlice it has a gradient.
      return tf.avgPool(get(op.input) as tf.Tensor4D, 1, op.stride, 'valid');
    case 'bn': {
      const input = get(op.input) as tf.Tensor4D;
      const mean = param(model, op.mean);
      const variance = param(model, op.variance);
      const gamma = param(model, op.gamma);
      const beta = param(model, op.beta);
      if (training && fastWebGpu()) {
        return bnTrain(input, gamma as tf.Tensor1D, beta as tf.Tensor1D, fused.has(op.out), {
          eps: BN_EPSILON,
          running: { mean, variance, momentum: BN_MOMENTUM },
        }).y;
      }
      let m: tf.Tensor = mean;
      let v: tf.Tensor = variance;
      if (training) {
        const moments = tf.moments(input, [0, 1, 2]);
        m = moments.mean;
        v = moments.variance;
        const n = input.size / input.shape[3];
        // Running variance is the unbiased estimate, as PyTorch keeps it.
        const unbiased = tf.mul(v, n / Math.max(1, n - 1));
        mean.assign(tf.add(tf.mul(mean, 1 - BN_MOMENTUM), tf.mul(m, BN_MOMENTUM)));
        variance.assign(tf.add(tf.mul(variance, 1 - BN_MOMENTUM), tf.mul(unbiased, BN_MOMENTUM)));
      }
      return tf.batchNorm(input, m, v, beta, gamma, BN_EPSILON);
    }
    case 'gate':
      return tf.mul(get(op.input), param(model, op.gate));
    case 'relu':
      // A fused BN already applied this ReLU.
      return fused.has(op.input) ? get(op.input) : tf.relu(get(op.input));
    case 'add':
      return fused.has(op.out) ? addRelu(get(op.a), get(op.b)) : tf.add(get(op.a), get(op.b));
    case 'maxpool':
      return tf.maxPool(get(op.input) as tf.Tensor4D, 2, 2, 'valid');
    case 'gap':
      return tf.mean(get(op.input), [1, 2]);
    case 'dense': {
      const y = tf.matMul(get(op.input) as tf.Tensor2D, param(model, op.weight) as tf.Variable<tf.Rank.R2>);
      return op.bias ? tf.add(y, param(model, op.bias)) : y;
    }
  }
}
