/**
 * A labelled image split kept resident as uint8 NHWC (32x32x3 per image): 3 KB an image,
 * so 50k CIFAR-10 training images stay at ~150 MB instead of 600 MB as float32.
 */
export interface ImageSplit {
  /** count * 32 * 32 * 3 bytes, NHWC order (row-major, RGB interleaved). */
  images: Uint8Array;
  /** count bytes, each 0..9. */
  labels: Uint8Array;
  count: number;
}

export interface Dataset {
  name: string;
  classNames: string[];
  train: ImageSplit;
  test: ImageSplit;
}

export const IMAGE_SIZE = 32;
export const IMAGE_CHANNELS = 3;
export const IMAGE_BYTES = IMAGE_SIZE * IMAGE_SIZE * IMAGE_CHANNELS;
export const NUM_CLASSES = 10;

/** A data problem the user can act on: names the file and says what is wrong. */
export class DataError extends Error {
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'DataError';
  }
}
