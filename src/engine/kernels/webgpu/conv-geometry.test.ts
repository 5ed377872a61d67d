import { describe, expect, it } from 'vitest';
import { buildModelDef } from '../../models';
import { convGradGeometry, modelConvCases, stockConvGradGeometry } from './conv-geometry';
import { MAX_SERIAL_MACS } from './conv-grad-plan';

const BATCH = 128;
const MODELS = ['resnet56', 'vgg16'] as const;

describe('conv gradient geometry at batch 128', () => {
  it('walks every conv of the models with the spatial size it sees', () => {
    const resnet = modelConvCases(buildModelDef('resnet56'), BATCH);
    // Stem, 3 stages x 9 blocks x 2 convs, and two option-B downsample convs.
    expect(resnet).toHaveLength(1 + 54 + 2);
    expect(resnet.filter((c) => c.k === 1).map((c) => [c.inH, c.stride, c.inC, c.outC])).toEqual([
      [32, 2, 16, 32],
      [16, 2, 32, 64],
    ]);
    expect(resnet.filter((c) => !c.inputGrad).map((c) => c.name)).toEqual(['stem.w']);
    const vgg = modelConvCases(buildModelDef('vgg16'), BATCH);
    expect(vgg).toHaveLength(13);
    expect(vgg.map((c) => c.inH)).toEqual([32, 32, 16, 16, 8, 8, 8, 4, 4, 4, 2, 2, 2]);
  });

  it.each(MODELS)('%s: no invocation of ours does more than 4,096 serial multiply-adds (stock: up to 131,072)', (name) => {
    const cases = modelConvCases(buildModelDef(name), BATCH);
    const ours = cases.flatMap(convGradGeometry);
    const stock = cases.flatMap(stockConvGradGeometry);
    expect(Math.max(...ours.map((p) => p.serialMacs))).toBeLessThanOrEqual(MAX_SERIAL_MACS);
    expect(Math.max(...stock.map((p) => p.serialMacs))).toBe(131072);
  });

  it.each(MODELS)('%s: 1 or 2 dispatches per gradient, each with enough invocations to fill a large GPU', (name) => {
    for (const c of modelConvCases(buildModelDef(name), BATCH)) {
      const programs = convGradGeometry(c);
      const filter = programs.filter((p) => p.program.startsWith('Conv2DBackpropFilter'));
      const input = programs.filter((p) => p.program.startsWith('Conv2DBackpropInput'));
      expect([1, 2]).toContain(filter.length);
      expect(c.inputGrad ? [1, 2] : [0]).toContain(input.length);
      // An H200 has 132 SMs of up to 2,048 resident invocations: 8,192 or more (64 per SM)
      // keep every SM busy while the 4 x 4 register tiles hide latency. The summing programs
      // are short (at most 64 adds each, memory-bound), so their width matters little.
      for (const p of programs) {
        if (p.program.includes('sum of')) expect(p.serialMacs, `${c.name} ${p.program}`).toBeLessThanOrEqual(64);
        else expect(p.invocations, `${c.name} ${p.program}`).toBeGreaterThanOrEqual(8192);
      }
    }
  });
});
