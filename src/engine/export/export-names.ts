import { fileSlug } from '../file-slug';

/**
 * What a finished run can be exported as, and the files' names. No tfjs here: the page's UI
 * imports it (the exporters themselves run in the worker).
 */

export const EXPORT_FORMATS = ['onnx', 'safetensors', 'tfjs'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];
/** dense: full width, pruned channels zero; slim: pruned channels removed. */
export const EXPORT_VARIANTS = ['dense', 'slim'] as const;
export type ExportVariant = (typeof EXPORT_VARIANTS)[number];

export interface ExportedFile {
  name: string;
  /** A MIME type for the download. */
  type: string;
  bytes: Uint8Array;
}

/** `tiny · depgraph SP+SR → 50% flops · seed 1`, slim -> `tiny-depgraph-sp-sr-50-flops-seed-1-slim`. */
export function exportBaseName(runName: string, variant: ExportVariant): string {
  return `${fileSlug(runName) || 'dpm-run'}-${variant}`;
}

/** Whether a file name is one of this app's safetensors exports of a run (how a shared link names an earlier run's weights). */
export const isRunSafetensorsExport = (fileName: string): boolean => /-(dense|slim)\.safetensors$/.test(fileName);
