import {
  BACKEND_NAMES,
  MODEL_NAMES,
  PRUNER_NAMES,
  pruneConfigSchema,
  trainConfigSchema,
  type BackendName,
  type ExperimentConfig,
  type ModelName,
  type PrunerName,
  type ScheduleName,
} from '../../engine/experiment';
import { withField } from './configUpdate';
import { DataSource } from './DataSource';
import { WeightsSource } from './WeightsSource';
import { CheckboxField, NumberField, SelectField } from './fields';

const MODEL_LABELS: Record<ModelName, string> = {
  tiny: 'Tiny (4 conv, for quick looks)',
  resnet20: 'ResNet-20',
  resnet56: 'ResNet-56',
  resnet20a: 'ResNet-20, option-A shortcuts',
  resnet56a: 'ResNet-56, option-A shortcuts',
  vgg16: 'VGG16-BN',
};
const PRUNER_LABELS: Record<PrunerName, string> = {
  none: 'None (dense training)',
  depgraph: 'DepGraph (weight norm)',
  otov2: 'OTOv2 (gradient information)',
  gate: 'Gate Decorator (BN scale)',
};
const SCHEDULE_OPTIONS: { value: ScheduleName; label: string }[] = [
  { value: 'abrupt', label: 'Abrupt (one step)' },
  { value: 'sp', label: 'DPM Smooth Pruning (SP)' },
  { value: 'sr', label: 'DPM SP + Self-Rectifying (SR)' },
];
const BACKEND_LABELS: Record<BackendName, string> = { webgpu: 'WebGPU', webgl: 'WebGL', cpu: 'CPU' };

const T = trainConfigSchema.shape;
const P = pruneConfigSchema.shape;

/** Every field of the experiment config; each edit produces a new config (and URL). */
export function ConfigForm({ config, onChange, onFiles }: { config: ExperimentConfig; onChange: (c: ExperimentConfig) => void; onFiles: (files: File[]) => void }) {
  const { train, prune } = config;
  const dense = prune.pruner === 'none';
  const set = <S extends 'train' | 'prune', K extends keyof ExperimentConfig[S]>(section: S, key: K) => (value: ExperimentConfig[S][K]) => onChange(withField(config, section, key, value));

  return (
    <form className="config-form" aria-label="Experiment settings" onSubmit={(e) => e.preventDefault()}>
      <DataSource config={config} onChange={onChange} onFiles={onFiles} />
      <WeightsSource config={config} onChange={onChange} />

      <fieldset className="form-group">
        <legend>Model and training</legend>
        <SelectField<ModelName> name="train.model" label="Model" value={train.model} options={MODEL_NAMES.map((m) => ({ value: m, label: MODEL_LABELS[m] }))} onChange={set('train', 'model')} />
        <div className="field-row">
          <NumberField name="train.epochs" label="Epochs" value={train.epochs} schema={T.epochs} step={1} onChange={set('train', 'epochs')} />
          <NumberField name="train.batchSize" label="Batch size" value={train.batchSize} schema={T.batchSize} step={1} onChange={set('train', 'batchSize')} />
        </div>
        <div className="field-row">
          <NumberField name="train.lr" label="Learning rate" value={train.lr} schema={T.lr} onChange={set('train', 'lr')} />
          <SelectField<'cosine' | 'step' | 'constant'>
            name="train.lrSchedule"
            label="LR schedule"
            value={train.lrSchedule}
            options={[
              { value: 'cosine', label: 'cosine' },
              { value: 'step', label: 'step (÷10 at milestones)' },
              { value: 'constant', label: 'constant' },
            ]}
            onChange={set('train', 'lrSchedule')}
          />
        </div>
        <div className="field-row">
          <NumberField name="train.momentum" label="Momentum" value={train.momentum} schema={T.momentum} onChange={set('train', 'momentum')} />
          <NumberField name="train.weightDecay" label="Weight decay" value={train.weightDecay} schema={T.weightDecay} onChange={set('train', 'weightDecay')} />
        </div>
        <NumberField name="train.seed" label="Seed" value={train.seed} schema={T.seed} step={1} onChange={set('train', 'seed')} />
      </fieldset>

      <fieldset className="form-group">
        <legend>Pruning</legend>
        <SelectField<PrunerName> name="prune.pruner" label="Pruner" value={prune.pruner} options={PRUNER_NAMES.map((p) => ({ value: p, label: PRUNER_LABELS[p] }))} onChange={set('prune', 'pruner')} />
        <SelectField<ScheduleName> name="prune.schedule" label="Schedule" value={prune.schedule} options={SCHEDULE_OPTIONS} disabled={dense} onChange={set('prune', 'schedule')} />
        <div className="field-row">
          <SelectField<'flops' | 'params'>
            name="prune.targetKind"
            label="Target"
            value={prune.targetKind}
            disabled={dense}
            options={[
              { value: 'flops', label: 'FLOPs kept' },
              { value: 'params', label: 'parameters kept' },
            ]}
            onChange={set('prune', 'targetKind')}
          />
          <NumberField name="prune.target" label="Fraction kept (0–1]" value={prune.target} schema={P.target} disabled={dense} onChange={set('prune', 'target')} />
        </div>
        <div className="field-row">
          <NumberField name="prune.startAt" label="First point (fraction of run)" value={prune.startAt} schema={P.startAt} disabled={dense} onChange={set('prune', 'startAt')} />
          <NumberField name="prune.points" label="Pruning points" value={prune.points} schema={P.points} step={1} disabled={dense} onChange={set('prune', 'points')} />
        </div>
        <NumberField name="prune.every" label="Steps between points" value={prune.every} schema={P.every} step={1} disabled={dense} onChange={set('prune', 'every')} />
        <div className="field-row">
          <NumberField name="prune.decaySteps" label="N (decay steps)" value={prune.decaySteps} schema={P.decaySteps} step={1} disabled={dense || prune.schedule === 'abrupt'} onChange={set('prune', 'decaySteps')} />
          <NumberField name="prune.telemetryEvery" label="Telemetry every (steps)" value={prune.telemetryEvery} schema={P.telemetryEvery} step={1} onChange={set('prune', 'telemetryEvery')} />
          <NumberField name="prune.align" label="Align channels to (4 = fast WebGPU kernels)" value={prune.align} schema={P.align} step={1} onChange={set('prune', 'align')} />
        </div>
        <div className="field-row">
          <NumberField
            name="prune.tRate"
            label="T_rate"
            value={prune.tRate}
            schema={P.tRate}
            disabled={dense || prune.schedule !== 'sr'}
            hint="C_rate: the norm the update gave back against the decay, in plain gradient steps (above 1 needs momentum that keeps pushing out)."
            onChange={set('prune', 'tRate')}
          />
          <NumberField
            name="prune.tLen"
            label="T_len"
            value={prune.tLen}
            schema={P.tLen}
            disabled={dense || prune.schedule !== 'sr'}
            hint="C_len: the channel's gradient over its live peers' mean, at the size it had before decaying. Release needs both above their thresholds."
            onChange={set('prune', 'tLen')}
          />
        </div>
        <div className="field-row">
          <SelectField<'l1' | 'l2'>
            name="prune.norm"
            label="Importance norm"
            value={prune.norm}
            disabled={dense}
            options={[
              { value: 'l2', label: 'L2' },
              { value: 'l1', label: 'L1' },
            ]}
            onChange={set('prune', 'norm')}
          />
          <SelectField<'global' | 'layer'>
            name="prune.scope"
            label="Ranking"
            value={prune.scope}
            disabled={dense}
            options={[
              { value: 'global', label: 'global' },
              { value: 'layer', label: 'per layer' },
            ]}
            onChange={set('prune', 'scope')}
          />
        </div>
        <div className="field-row">
          <CheckboxField name="prune.sparse" label="Sparse learning (group lasso)" checked={prune.sparse} disabled={dense} onChange={set('prune', 'sparse')} />
          <NumberField name="prune.sparseReg" label="Sparse strength" value={prune.sparseReg} schema={P.sparseReg} disabled={dense || !prune.sparse} onChange={set('prune', 'sparseReg')} />
        </div>
      </fieldset>

      <fieldset className="form-group">
        <legend>Backend</legend>
        <SelectField<BackendName>
          name="backend"
          label="Preferred backend"
          value={config.backend}
          options={BACKEND_NAMES.map((b) => ({ value: b, label: BACKEND_LABELS[b] }))}
          hint="If it is unavailable the engine falls back and says so in the header."
          onChange={(backend) => onChange({ ...config, backend })}
        />
      </fieldset>
    </form>
  );
}
