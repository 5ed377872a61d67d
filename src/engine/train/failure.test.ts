import { describe, expect, it } from 'vitest';
import { DataError } from '../data/types';
import { defaultExperiment } from '../experiment';
import { describeFailure } from './failure';

describe('describeFailure', () => {
  const cfg = defaultExperiment();
  it('explains GPU out-of-memory and suggests half the batch', () => {
    const f = describeFailure(new Error('Failed to allocate buffer of size 2147483648'), cfg);
    expect(f.recoverable).toBe(true);
    expect(f.message).toContain('ran out of memory');
    expect(f.hint).toContain(`batch size ${cfg.train.batchSize / 2}`);
  });
  it('recognises a lost device', () => {
    const f = describeFailure(new Error('GPUDevice was lost: destroyed'), cfg);
    expect(f.recoverable).toBe(true);
    expect(f.hint).toMatch(/resume/);
  });
  it('passes data errors through with the file name', () => {
    const f = describeFailure(new DataError('data_batch_1.bin', 'size is not a multiple of 3073'), cfg);
    expect(f.message).toBe('data_batch_1.bin: size is not a multiple of 3073');
    expect(f.recoverable).toBe(false);
  });
  it('leaves other errors as they are', () => {
    expect(describeFailure(new Error('boom'), cfg)).toEqual({ message: 'boom', recoverable: false });
  });
});
