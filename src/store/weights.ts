import { MODEL_NAMES, type ExperimentConfig, type ModelName } from '../engine/experiment';
import { isRunSafetensorsExport } from '../engine/export/export-names';
import type { WeightsResult } from '../worker/protocol';

/**
 * The page's side of "Start from weights": what the session holds, how a successful import
 * changes the experiment (and so its URL), and what a shared link still lacks. Plain functions,
 * so they are tested without a worker or React.
 */

export type WeightsState =
  | { state: 'none' }
  | { state: 'loading'; source: string }
  | { state: 'ready'; result: WeightsResult }
  | { state: 'error'; source: string; message: string; previous: WeightsResult | null };

export const weightsResult = (w: WeightsState): WeightsResult | null => (w.state === 'ready' ? w.result : w.state === 'error' ? w.previous : null);

/**
 * The experiment after an import: its model becomes the checkpoint's network, and the URL
 * records where the weights came from (the URL when given, always the content hash).
 */
export function configWithWeights(config: ExperimentConfig, result: WeightsResult): ExperimentConfig {
  const { report } = result;
  const model = (MODEL_NAMES as readonly string[]).includes(report.model) ? (report.model as ModelName) : config.train.model;
  return { ...config, train: { ...config.train, model, initUrl: report.url.slice(0, 2048), initSha256: report.sha256, initName: report.name.slice(0, 200) } };
}

export function configWithoutWeights(config: ExperimentConfig): ExperimentConfig {
  return { ...config, train: { ...config.train, initUrl: '', initSha256: '', initName: '' } };
}

export const startsFromWeights = (config: ExperimentConfig) => config.train.initUrl !== '' || config.train.initSha256 !== '';

/**
 * The hash an import must match: the one the experiment names while no loaded weights have it
 * (a shared link asking for its file, or its URL's content). Once they are loaded, a new file
 * replaces them freely.
 */
export function requiredSha256(config: ExperimentConfig, weights: WeightsState): string | undefined {
  const want = config.train.initSha256;
  if (!want || weightsResult(weights)?.report.sha256 === want) return undefined;
  return want;
}

/**
 * What the user must supply before the experiment can run, or null. A link with a URL needs
 * nothing (the page fetches it); one with only a hash needs that very file.
 */
export function missingWeights(config: ExperimentConfig, weights: WeightsState): { name: string; sha256: string; fromRun: boolean } | null {
  const t = config.train;
  if (!t.initSha256 || t.initUrl) return null;
  if (weightsResult(weights)?.report.sha256 === t.initSha256) return null;
  // An earlier run's weights travel as its safetensors export: the link can say how to get that file.
  return { name: t.initName || '(file name not recorded)', sha256: t.initSha256, fromRun: isRunSafetensorsExport(t.initName) };
}
