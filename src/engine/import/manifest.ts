import { effectiveShapes } from '../cost';
import { DataError } from '../data/types';
import type { ModelDef } from '../models/graph';
import type { Architecture } from './layouts';
import type { Normalization } from './import-weights';

/**
 * What an exported safetensors file needs besides its tensors to be rebuilt: the architecture,
 * the channels each family kept, the input normalisation, and (option A) each widening
 * shortcut's zero padding. Stored as JSON next to the file and in its __metadata__, so the app
 * re-imports its own exports from the one file.
 */
export interface ExportManifest {
  format: 'dpm-playground-torch-export';
  version: 1;
  model: string;
  arch: Architecture;
  normalization: Normalization;
  /** Family id -> channels kept. */
  families: Record<string, number>;
  /** Option A: "layer2"/"layer3" -> channels zero-padded [before, after] the block input. */
  shortcutPad?: Record<string, [number, number]>;
  /** Output channels of every PyTorch conv (key without ".weight"): the slimmed widths. */
  convOut: Record<string, number>;
}

export const MANIFEST_METADATA_KEY = 'dpm_playground';

export function parseManifest(file: string, text: string): ExportManifest {
  let m: ExportManifest;
  try {
    m = JSON.parse(text) as ExportManifest;
  } catch {
    throw new DataError(file, `its ${MANIFEST_METADATA_KEY} metadata is not JSON`);
  }
  const archOk =
    m?.arch?.kind === 'resnet'
      ? Number.isInteger(m.arch.blocks) && m.arch.blocks >= 1 && m.arch.blocks <= 50 && Number.isInteger(m.arch.width) && m.arch.width >= 4 && m.arch.width <= 256 && (m.arch.shortcut === 'A' || m.arch.shortcut === 'B')
      : m?.arch?.kind === 'vgg16'
        ? Array.isArray(m.arch.hidden) && m.arch.hidden.length <= 2 && Array.isArray(m.arch.classifier)
        : m?.arch?.kind === 'tiny';
  if (m?.format !== 'dpm-playground-torch-export' || m.version !== 1 || !archOk || typeof m.families !== 'object' || !m.normalization) {
    throw new DataError(file, `its ${MANIFEST_METADATA_KEY} metadata is not a DPM Playground export manifest (version 1)`);
  }
  return m;
}

/** The architecture's dense def with each family cut to its kept channel count. */
export function slimmedDef(file: string, dense: ModelDef, families: Record<string, number>): ModelDef {
  const kept = new Map<string, number>();
  for (const [id, k] of Object.entries(families)) {
    const f = dense.families.find((x) => x.id === id);
    if (!f) throw new DataError(file, `the manifest names a channel family "${id}" that ${dense.name} does not have`);
    if (!Number.isInteger(k) || k < 1 || k > f.channels) throw new DataError(file, `the manifest keeps ${k} channels of family ${id}, which has 1..${f.channels}`);
    kept.set(id, k);
  }
  const shapes = effectiveShapes(dense, kept);
  return {
    ...dense,
    params: dense.params.map((p) => ({ ...p, shape: shapes.get(p.name)! })),
    families: dense.families.map((f) => ({ ...f, channels: kept.get(f.id) ?? f.channels })),
  };
}
