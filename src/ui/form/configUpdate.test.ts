import { describe, expect, it } from 'vitest';
import { defaultExperiment, experimentSchema } from '../../engine/experiment';
import { acceptedDataFile, withField } from './configUpdate';

describe('config form helpers', () => {
  it('withField replaces one field and leaves the input untouched', () => {
    const config = defaultExperiment();
    const next = withField(config, 'prune', 'tRate', 0.9);
    expect(next.prune.tRate).toBe(0.9);
    expect(config.prune.tRate).toBe(1);
    expect(next.train).toBe(config.train);
    expect(experimentSchema.parse(next)).toEqual(next);
  });

  it('accepts only CIFAR-10 file kinds', () => {
    expect(acceptedDataFile('cifar-10-binary.tar.gz')).toBe(true);
    expect(acceptedDataFile('data_batch_1.BIN')).toBe(true);
    expect(acceptedDataFile('batches.meta.txt')).toBe(true);
    expect(acceptedDataFile('train-images-idx3-ubyte.gz')).toBe(true);
    expect(acceptedDataFile('t10k-labels-idx1-ubyte')).toBe(true);
    expect(acceptedDataFile('photo.png')).toBe(false);
    expect(acceptedDataFile('archive.tar')).toBe(false);
  });
});
