import { expect } from 'vitest';
import { DataError } from './types';

/** The DataError `fn` throws; fails the test if it throws something else or nothing. */
export function dataError(fn: () => unknown): DataError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}

/** The DataError `p` rejects with; fails the test if it rejects with something else or resolves. */
export async function rejectsWithDataError(p: Promise<unknown>): Promise<DataError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(DataError);
    return e as DataError;
  }
  throw new Error('expected a DataError');
}
