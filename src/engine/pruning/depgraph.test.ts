import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { disposeModel, initParams, param } from '../models';
import { DEPGRAPH_DEFAULTS, createDepGraph } from './depgraph';
import { groupImportance, groupL2, trainedMembers } from './groups';
import { microResidualDef } from './harness';

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe('DepGraph scores from group norms', () => {
  it('equal the L2 group importance over both roles, normalised by the family mean', async () => {
    const model = initParams(microResidualDef(), 3);
    const pruner = createDepGraph(model, DEPGRAPH_DEFAULTS);
    const norms: Float32Array[] = [];
    const direct: Float32Array[] = [];
    for (const fam of model.def.families) {
      const n = groupL2(trainedMembers(model.def, fam), (p) => param(model, p), fam.channels);
      const imp = groupImportance(model, fam, 2, ['out', 'in'], true);
      norms.push((await n.data()) as Float32Array);
      direct.push((await imp.data()) as Float32Array);
      tf.dispose([n, imp]);
    }
    const scores = pruner.scoresFromNorms!(norms);
    scores.forEach((s, f) => s.forEach((v, c) => expect(v).toBeCloseTo(direct[f][c], 5)));
    // L1, or out-role only, need the tensors themselves.
    expect(createDepGraph(model, { ...DEPGRAPH_DEFAULTS, norm: 'l1' }).scoresFromNorms).toBeUndefined();
    expect(createDepGraph(model, { ...DEPGRAPH_DEFAULTS, inRole: false }).scoresFromNorms).toBeUndefined();
    pruner.dispose();
    disposeModel(model);
  });
});
