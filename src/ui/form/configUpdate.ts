import type { ExperimentConfig } from '../../engine/experiment';

type Section = 'data' | 'train' | 'prune';

/** A copy of the config with one field of one section replaced (the form's only write). */
export function withField<S extends Section, K extends keyof ExperimentConfig[S]>(
  config: ExperimentConfig,
  section: S,
  key: K,
  value: ExperimentConfig[S][K],
): ExperimentConfig {
  return { ...config, [section]: { ...config[section], [key]: value } };
}

/** Files the data drop zone takes: CIFAR-10's archive, its binary batches, and batches.meta.txt. */
export function acceptedDataFile(name: string): boolean {
  return /\.(tar\.gz|tgz|bin|txt)$/i.test(name) || /-ubyte(\.gz)?$/i.test(name);
}
