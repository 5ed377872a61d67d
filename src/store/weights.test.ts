import { describe, expect, it } from 'vitest';
import { defaultExperiment } from '../engine/experiment';
import { decode, encode } from '../url/codec';
import type { WeightsResult } from '../worker/protocol';
import { configWithoutWeights, configWithWeights, missingWeights, requiredSha256, startsFromWeights } from './weights';

const HASH = '0123456789abcdef'.repeat(4);

function result(over: Partial<WeightsResult['report']> = {}): WeightsResult {
  return {
    report: {
      name: 'resnet56-4bfd9763.th', url: '', sha256: HASH, bytes: 3_500_000, model: 'resnet56a', label: 'ResNet-56 (option-A shortcuts)', format: 'pytorch', path: 'state_dict',
      strippedModulePrefix: true, matched: 340, missing: [], unexpected: [], misShaped: [], folded: 0, ignored: 57, normalization: { mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] }, normalizationSource: 'imagenet (guessed)',
      ...over,
    },
    evaluation: { acc: 0.93, loss: 0.3, images: 10000 },
  };
}

describe('starting weights in the experiment and its URL', () => {
  it('a dropped file is recorded by hash and name, and the model follows the checkpoint', () => {
    const c = configWithWeights(defaultExperiment(), result());
    expect(c.train).toMatchObject({ model: 'resnet56a', initUrl: '', initSha256: HASH, initName: 'resnet56-4bfd9763.th' });
    const q = encode(c);
    expect(q).toBe(`v=1&m=resnet56a&ih=${HASH}&in=resnet56-4bfd9763.th`);
    const back = decode(q);
    expect(back.ignored).toEqual([]);
    expect(back.config).toEqual(c);
  });

  it('a hash-only link names the missing file until that very file is loaded', () => {
    const c = decode(`v=1&m=resnet56a&ih=${HASH}&in=resnet56-4bfd9763.th`).config;
    expect(startsFromWeights(c)).toBe(true);
    expect(missingWeights(c, { state: 'none' })).toEqual({ name: 'resnet56-4bfd9763.th', sha256: HASH, fromRun: false });
    expect(missingWeights(c, { state: 'ready', result: result({ sha256: 'f'.repeat(64) }) })).not.toBeNull();
    expect(missingWeights(c, { state: 'ready', result: result() })).toBeNull();
    // A refused later file leaves the right one loaded.
    expect(missingWeights(c, { state: 'error', source: 'x.th', message: 'no', previous: result() })).toBeNull();
  });

  it('an import must match the linked hash only until the linked file is loaded', () => {
    const c = decode(`v=1&ih=${HASH}&iu=a.th`).config;
    expect(requiredSha256(c, { state: 'none' })).toBe(HASH);
    expect(requiredSha256(c, { state: 'error', source: 'a.th', message: 'x', previous: null })).toBe(HASH);
    expect(requiredSha256(c, { state: 'ready', result: result() })).toBeUndefined();
    expect(requiredSha256(defaultExperiment(), { state: 'none' })).toBeUndefined();
  });

  it('a URL link needs nothing supplied: the page fetches it', () => {
    const c = configWithWeights(defaultExperiment(), result({ url: 'checkpoints/resnet56.th' }));
    expect(encode(c)).toContain('iu=checkpoints%2Fresnet56.th');
    expect(missingWeights(decode(encode(c)).config, { state: 'none' })).toBeNull();
  });

  it('clearing forgets the source and keeps every other setting', () => {
    const c = configWithWeights(defaultExperiment(), result({ url: 'a.th' }));
    c.train.epochs = 9;
    const cleared = configWithoutWeights(c);
    expect(startsFromWeights(cleared)).toBe(false);
    expect(encode(cleared)).toBe('v=1&m=resnet56a&ep=9');
  });

  it('a malformed hash in a link is ignored with a reason, not trusted', () => {
    const { config, ignored } = decode('v=1&ih=xyz&inn=imagenet');
    expect(config.train.initSha256).toBe('');
    expect(config.train.inputNorm).toBe('imagenet');
    expect(ignored).toHaveLength(1);
    expect(ignored[0].key).toBe('ih');
  });

  it('a link to an earlier run\'s weights says which export to supply', () => {
    const c = configWithWeights(defaultExperiment(), result({ name: 'tiny-depgraph-abrupt-50-flops-seed-1-slim.safetensors', model: 'tiny' }));
    const back = decode(encode(c)).config;
    expect(missingWeights(back, { state: 'none' })).toEqual({ name: 'tiny-depgraph-abrupt-50-flops-seed-1-slim.safetensors', sha256: c.train.initSha256, fromRun: true });
    expect(missingWeights(decode(`v=1&ih=${HASH}&in=r20.th`).config, { state: 'none' })?.fromRun).toBe(false);
  });
});
