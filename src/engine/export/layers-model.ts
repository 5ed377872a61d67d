import * as tf from '@tensorflow/tfjs';
import { BN_EPSILON, param, type Model, type Op } from '../models/graph';

export interface ModelArtifacts {
  /** model.json in TensorFlow.js's layers-model format, weights manifest pointing at weights.bin. */
  modelJson: string;
  weights: ArrayBuffer;
}

/**
 * Rebuilds a (slimmed) graph model as a tf.LayersModel and serialises it in TensorFlow.js's
 * model format, so anyone can load the pruned network with tf.loadLayersModel. Gates must be
 * folded into their BatchNorm first (slimming does that).
 */
export async function exportLayersModel(model: Model): Promise<ModelArtifacts> {
  const layersModel = toLayersModel(model);
  try {
    let saved: tf.io.ModelArtifacts | null = null;
    await layersModel.save(tf.io.withSaveHandler(async (artifacts) => {
      saved = artifacts;
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }));
    const a = saved as tf.io.ModelArtifacts | null;
    if (!a?.weightSpecs || !a.weightData) throw new Error('tfjs produced no weights for the exported model');
    const weights = Array.isArray(a.weightData) ? tf.io.concatenateArrayBuffers(a.weightData) : a.weightData;
    const modelJson = JSON.stringify({
      format: 'layers-model',
      generatedBy: `TensorFlow.js tfjs-layers v${tf.version_layers} (DPM Playground export)`,
      convertedBy: null,
      modelTopology: a.modelTopology,
      weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }],
    });
    return { modelJson, weights };
  } finally {
    layersModel.dispose();
  }
}

/** Loads exported artifacts back (tests, and users who re-open an exported model). */
export async function loadExported(artifacts: ModelArtifacts): Promise<tf.LayersModel> {
  const json = JSON.parse(artifacts.modelJson) as { modelTopology: object; weightsManifest: { weights: tf.io.WeightsManifestEntry[] }[] };
  return tf.loadLayersModel(tf.io.fromMemory({ modelTopology: json.modelTopology, weightSpecs: json.weightsManifest[0].weights, weightData: artifacts.weights }));
}

export function toLayersModel(model: Model): tf.LayersModel {
  const [h, w, c] = model.def.inputShape;
  const input = tf.input({ shape: [h, w, c], name: 'input' });
  const env = new Map<string, tf.SymbolicTensor>([['input', input]]);
  const pending: { layer: tf.layers.Layer; weights: tf.Tensor[] }[] = [];
  const get = (name: string) => {
    const t = env.get(name);
    if (!t) throw new Error(`export: tensor ${name} used before it is made`);
    return t;
  };
  const gateOf = new Map(model.def.ops.filter((o): o is Extract<Op, { kind: 'gate' }> => o.kind === 'gate').map((o) => [o.input, o]));
  for (const op of model.def.ops) {
    const name = op.out.replace(/[^A-Za-z0-9_]/g, '_');
    switch (op.kind) {
      case 'conv': {
        const kernel = param(model, op.weight);
        const [k, , , filters] = kernel.shape as number[];
        const torchPad = op.pad === 'torch' && k > 1;
        const layer = tf.layers.conv2d({ filters, kernelSize: k, strides: op.stride, padding: torchPad ? 'valid' : 'same', useBias: false, name });
        const x = torchPad ? (tf.layers.zeroPadding2d({ padding: (k - 1) / 2, name: `${name}_pad` }).apply(get(op.input)) as tf.SymbolicTensor) : get(op.input);
        env.set(op.out, layer.apply(x) as tf.SymbolicTensor);
        pending.push({ layer, weights: [kernel] });
        break;
      }
      case 'bn': {
        const layer = tf.layers.batchNormalization({ epsilon: BN_EPSILON, name });
        env.set(op.out, layer.apply(get(op.input)) as tf.SymbolicTensor);
        let gamma: tf.Tensor = param(model, op.gamma);
        let beta: tf.Tensor = param(model, op.beta);
        const gate = gateOf.get(op.out);
        if (gate) {
          // y = g * BN(x) = BN'(x) with gamma' = g*gamma, beta' = g*beta.
          const g = param(model, gate.gate);
          gamma = tf.mul(gamma, g);
          beta = tf.mul(beta, g);
        }
        pending.push({ layer, weights: [gamma, beta, param(model, op.mean), param(model, op.variance)] });
        break;
      }
      case 'gate':
        if (!env.has(op.input)) throw new Error(`export: gate ${op.out} has no input`);
        env.set(op.out, get(op.input));
        break;
      case 'relu':
        env.set(op.out, tf.layers.reLU({ name }).apply(get(op.input)) as tf.SymbolicTensor);
        break;
      case 'add':
        env.set(op.out, tf.layers.add({ name }).apply([get(op.a), get(op.b)]) as tf.SymbolicTensor);
        break;
      case 'maxpool':
        env.set(op.out, tf.layers.maxPooling2d({ poolSize: 2, strides: 2, padding: 'valid', name }).apply(get(op.input)) as tf.SymbolicTensor);
        break;
      case 'affine': {
        // A 1x1 depthwise conv with a bias is exactly a per-channel affine.
        const layer = tf.layers.depthwiseConv2d({ kernelSize: 1, useBias: true, name });
        env.set(op.out, layer.apply(get(op.input)) as tf.SymbolicTensor);
        pending.push({ layer, weights: [tf.tensor4d(op.scale, [1, 1, op.scale.length, 1]), tf.tensor1d(op.shift)] });
        break;
      }
      case 'subsample':
        // A 1x1 average pool with a stride picks x[::s, ::s]: the option-A shortcut.
        env.set(op.out, tf.layers.averagePooling2d({ poolSize: 1, strides: op.stride, padding: 'valid', name }).apply(get(op.input)) as tf.SymbolicTensor);
        break;
      case 'gap':
        env.set(op.out, tf.layers.globalAveragePooling2d({ name }).apply(get(op.input)) as tf.SymbolicTensor);
        break;
      case 'dense': {
        const kernel = param(model, op.weight);
        const layer = tf.layers.dense({ units: (kernel.shape as number[])[1], useBias: op.bias !== undefined, name });
        env.set(op.out, layer.apply(get(op.input)) as tf.SymbolicTensor);
        pending.push({ layer, weights: op.bias ? [kernel, param(model, op.bias)] : [kernel] });
        break;
      }
    }
  }
  const lm = tf.model({ inputs: input, outputs: get(model.def.output), name: model.def.name });
  for (const { layer, weights } of pending) {
    layer.setWeights(weights);
    // Folded gate products are temporaries; the model's own variables are left alone.
    for (const t of weights) if (!(t instanceof tf.Variable)) t.dispose();
  }
  return lm;
}
