import * as tf from '@tensorflow/tfjs';
import { pathToFileURL } from 'node:url';
import type { EngineEvent } from '../src/engine/events';
import { buildModelDef, disposeModel, initParams, trainableVars, forward, type Model } from '../src/engine/models';
import { noPruning } from '../src/engine/pruning/engine';
import { fakeBatch } from '../src/engine/pruning/harness';
import type { PruningHooks } from '../src/engine/pruning/types';
import { SgdMomentum } from '../src/engine/train/optimizer';
import type { BenchOptions, FigureInput } from './common';
import { DPM_BENCH_NOTE, dpmBenchHooks } from './dpm-setup';

/**
 * What DPM's bookkeeping costs per step: the time spent in its hooks (beforeUpdate: score
 * accumulation; afterUpdate: norm projection, criteria readback, telemetry readback) with
 * Self-Rectifying decay in progress and per-step telemetry, as a fraction of a plain training
 * step on the same model and backend. The whole-step difference is reported too, but it
 * mixes in the pruned channels' effect on the compute (zeroed inputs are skipped by some
 * kernels) and run-to-run noise, so the hooks' own time is the figure the target is about.
 */
async function timedSteps(model: Model, hooks: PruningHooks, steps: number, warmup: number, batch: number): Promise<{ step: number; hooks: number }> {
  const opt = new SgdMomentum(0.9, 5e-4);
  const { x, y } = fakeBatch(model, batch);
  let total = 0;
  let inHooks = 0;
  for (let s = 0; s < warmup + steps; s++) {
    const t0 = performance.now();
    const vars = [...trainableVars(model), ...hooks.extraTrainable()];
    const { value, grads } = tf.variableGrads(() => tf.losses.softmaxCrossEntropy(y, forward(model, x, true)) as tf.Scalar, vars);
    // Wait for the gradients so beforeUpdate's time is its own, not the backlog's.
    await value.data();
    const b0 = performance.now();
    const g2 = hooks.beforeUpdate(s, grads);
    const b1 = performance.now();
    opt.apply(vars, g2, 0.01, () => true);
    // Likewise for the update before afterUpdate.
    const probe = tf.tidy(() => tf.add(vars[0]!, 0));
    await probe.data();
    probe.dispose();
    const t1 = performance.now();
    await hooks.afterUpdate(s, g2, 0.01);
    const t2 = performance.now();
    tf.dispose([value, ...Object.values(grads), ...Object.values(g2)]);
    if (s >= warmup) {
      total += t2 - t0;
      inHooks += b1 - b0 + (t2 - t1);
    }
  }
  opt.dispose();
  tf.dispose([x, y]);
  return { step: total / steps, hooks: inHooks / steps };
}

export async function run(opts: BenchOptions): Promise<FigureInput[]> {
  const model = opts.model ?? 'tiny';
  const batch = opts.batch ?? (opts.quick ? 2 : 16);
  const steps = opts.steps ?? (opts.quick ? 2 : 10);
  const warmup = opts.warmup ?? (opts.quick ? 1 : 3);
  const def = buildModelDef(model);

  const plainModel = initParams(def, 1);
  const plain = await timedSteps(plainModel, noPruning(plainModel), steps, warmup, batch);
  disposeModel(plainModel);

  const dpmModel = initParams(buildModelDef(model), 1);
  const events: EngineEvent[] = [];
  const hooks = dpmBenchHooks(dpmModel, (e) => events.push(e));
  const dpm = await timedSteps(dpmModel, hooks, steps, warmup, batch);
  hooks.dispose();
  disposeModel(dpmModel);

  const note = `${steps} steps after ${warmup} warm-up, batch ${batch}; ${DPM_BENCH_NOTE}`;
  return [
    { figure: 'plain training step', value: plain.step, unit: 'ms', model, batch, note },
    { figure: 'training step with DPM sr + telemetry', value: dpm.step, unit: 'ms', model, batch, note },
    { figure: 'DPM hooks (sr + telemetry)', value: dpm.hooks, unit: 'ms', model, batch, note },
    { figure: 'DPM overhead', value: dpm.hooks / plain.step, unit: 'fraction of a plain step', model, batch, note: `${note}; target <= 0.03` },
    { figure: 'whole-step difference', value: (dpm.step - plain.step) / plain.step, unit: 'fraction of a plain step', model, batch, note: `${note}; includes the pruned channels' effect on compute and noise` },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await tf.setBackend(process.env.TF_BACKEND ?? 'cpu');
  const quick = process.argv.includes('--quick');
  const figures = await run({ backend: 'cpu', quick });
  for (const f of figures) console.log(JSON.stringify({ bench: 'dpm-overhead', backend: tf.getBackend(), date: new Date().toISOString(), ...f }));
}
