import type { Architecture } from '../import/layouts';
import * as tf from '@tensorflow/tfjs';
import { disposeModel, type Model, type ModelDef } from '../models/graph';
import { slimModel } from '../pruning/groups';
import type { TensorRecord } from '../train/checkpoint';
import { exportLayersModel } from './layers-model';
import { exportOnnx } from './onnx';
import { exportTorch } from './torch-export';
import type { ExportedFile, ExportFormat, ExportVariant } from './export-names';

export { exportBaseName, type ExportedFile, type ExportFormat, type ExportVariant } from './export-names';

/**
 * What a finished run leaves to export: its network as trained (full width, pruned channels
 * zeroed, gates unfolded) and which channels each family kept. Both the dense and the slimmed
 * network are rebuilt from this, in memory right after the run or from the run store later;
 * it is plain data (structured-cloneable), so it is stored as it is.
 */
export interface FinalModel {
  def: ModelDef;
  weights: Record<string, TensorRecord>;
  /** Family id -> kept channel indices (all of them for a family left whole). */
  keep: Record<string, number[]>;
  /** An imported network's checkpoint layout: its safetensors export keeps those key names. */
  arch?: Architecture;
}


/**
 * The dense or slimmed network (caller disposes). Dense is `slimModel` keeping every channel:
 * the same widths with Gate Decorator gates folded into their BN, which every exporter reads.
 */
export function buildFinalModel(final: FinalModel, variant: ExportVariant): Model {
  for (const p of final.def.params) {
    const w = final.weights[p.name];
    if (!w || w.shape.length !== p.shape.length || w.shape.some((d, i) => d !== p.shape[i])) throw new Error(`the run's final weights have no [${p.shape}] value for ${p.name}`);
  }
  // Every stored tensor, not only def.params: Gate Decorator gates live in the variables alone.
  const trained: Model = { def: final.def, vars: new Map(Object.entries(final.weights).map(([name, w]) => [name, tf.variable(tf.tensor(w.data, w.shape), false)])) };
  try {
    return slimModel(trained, variant === 'slim' ? new Map(Object.entries(final.keep)) : new Map());
  } finally {
    disposeModel(trained);
  }
}

const utf8 = (s: string) => new TextEncoder().encode(s);

/**
 * The files a download gives: ONNX one file; safetensors the file and its manifest (kept
 * channels, normalisation; docs/import.md); tfjs model.json and its weights, the weights path
 * inside model.json renamed to the downloaded name so tf.loadLayersModel finds it.
 */
export async function exportFinal(final: FinalModel, variant: ExportVariant, format: ExportFormat, baseName: string): Promise<ExportedFile[]> {
  const model = buildFinalModel(final, variant);
  try {
    if (format === 'onnx') return [{ name: `${baseName}.onnx`, type: 'application/octet-stream', bytes: await exportOnnx(model) }];
    if (format === 'safetensors') {
      const { safetensors, manifest } = await exportTorch(model, final.arch);
      return [
        { name: `${baseName}.safetensors`, type: 'application/octet-stream', bytes: safetensors },
        { name: `${baseName}.json`, type: 'application/json', bytes: utf8(`${JSON.stringify(manifest, null, 2)}\n`) },
      ];
    }
    return layersModelFiles(await exportLayersModel(model), baseName);
  } finally {
    disposeModel(model);
  }
}

/** tfjs model.json + weights as downloads, the weights path inside model.json renamed to match. */
export function layersModelFiles(artifacts: { modelJson: string; weights: ArrayBuffer }, baseName: string): ExportedFile[] {
  const json = JSON.parse(artifacts.modelJson) as { weightsManifest?: { paths: string[] }[] };
  if (json.weightsManifest?.[0]) json.weightsManifest[0].paths = [`${baseName}.weights.bin`];
  return [
    { name: `${baseName}.model.json`, type: 'application/json', bytes: utf8(JSON.stringify(json)) },
    { name: `${baseName}.weights.bin`, type: 'application/octet-stream', bytes: new Uint8Array(artifacts.weights.slice(0)) },
  ];
}

/** A FinalModel read back from storage, checked enough that a damaged record gives a message, not a crash. */
export function finalFromStored(value: unknown): FinalModel | null {
  const f = value as Partial<FinalModel> | null | undefined;
  if (!f || typeof f !== 'object') return null;
  const def = f.def;
  if (!def || typeof def.name !== 'string' || !Array.isArray(def.params) || !Array.isArray(def.ops) || !Array.isArray(def.families)) return null;
  if (!f.weights || typeof f.weights !== 'object' || !f.keep || typeof f.keep !== 'object') return null;
  if (!Object.values(f.keep).every((k) => Array.isArray(k) && k.every((c) => Number.isInteger(c)))) return null;
  return { def, weights: f.weights, keep: f.keep, arch: f.arch };
}
