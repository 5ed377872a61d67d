import type { EngineEvent } from '../engine/events';
import type { ExperimentConfig } from '../engine/experiment';
import type { ExportFormat, ExportVariant, ExportedFile } from '../engine/export/export-names';
import type { WeightsEvaluation, WeightsReport } from '../engine/import/start-weights';

export type { ExportFormat, ExportVariant, ExportedFile, WeightsEvaluation, WeightsReport };

/**
 * The typed boundary between the page and the engine worker (wrapped with comlink). The page
 * never imports tfjs or the training code; it sends configs and files, and receives events.
 */

/** A user-supplied data file, transferred (not copied) to the worker. */
export interface DataFile {
  name: string;
  bytes: ArrayBuffer;
}

export interface DatasetSummary {
  name: string;
  train: number;
  test: number;
  /** Files that were read, and any that were skipped with the reason. */
  files: { name: string; records: number }[];
  warnings: string[];
}

export interface StartRequest {
  runId: string;
  config: ExperimentConfig;
  /** Resume from this run's last checkpoint instead of starting fresh. */
  resume?: boolean;
  /**
   * The page's base URL (document.baseURI), which relative data URLs resolve against: in the
   * worker, `location` is the worker script's, and the app may be served from any sub-path.
   */
  pageUrl?: string;
}

/** "Start from weights": a dropped checkpoint (transferred) or a URL the worker fetches. */
export interface WeightsRequest {
  file?: DataFile;
  url?: string;
  /** The page's address, which a relative `url` (and the evaluation's data URL) resolves against. */
  pageUrl?: string;
  /** Supplies inputNorm, and the data set and backend of the evaluation. */
  config: ExperimentConfig;
  /** Refuse bytes with another SHA-256 (the file a shared link names). */
  expectSha256?: string;
}

/** "Start from weights" with an earlier run: its slimmed network, as its safetensors export. */
export interface RunWeightsRequest {
  runId: string;
  pageUrl?: string;
  config: ExperimentConfig;
  expectSha256?: string;
}

/** A finished run's dense (full width, pruned channels zero) or slimmed network in one format. */
export interface ExportRequest {
  runId: string;
  variant: ExportVariant;
  format: ExportFormat;
}

export interface WeightsResult {
  report: WeightsReport;
  /** The imported network's accuracy on the test set, or why it could not be measured. */
  evaluation: WeightsEvaluation | { error: string };
}

export interface EngineApi {
  /** Parses and imports a checkpoint in the worker and evaluates it; rejects with the refusal (the weights loaded before stay). */
  importWeights(req: WeightsRequest): Promise<WeightsResult>;
  /** An earlier run's final network as the starting weights: the same report and evaluation as a dropped file. */
  importRunWeights(req: RunWeightsRequest): Promise<WeightsResult>;
  /** Forgets the imported weights: runs start from the seeded initialisation again. */
  clearWeights(): void;
  /** Parses CIFAR-10 files (tar.gz or .bin) in the worker; they become the cifar10 data set. Rejects with a DataError message. */
  loadFiles(files: DataFile[]): Promise<DatasetSummary>;
  /** Starts (or resumes) a run; events arrive through the listener given to `listen`. Resolves when the run ends. */
  start(req: StartRequest): Promise<void>;
  pause(): void;
  resume(): void;
  stop(): void;
  /** Registers the event listener (a comlink proxy). */
  listen(listener: (events: EngineEvent[]) => void): void;
  /**
   * A finished run's network as files to download (the run this worker just finished, or one in
   * the run store); rejects with a sentence saying why when there is nothing to export.
   */
  exportModel(req: ExportRequest): Promise<ExportedFile[]>;
}
