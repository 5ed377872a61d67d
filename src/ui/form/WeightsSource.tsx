import { useEffect, useRef, useState } from 'react';
import { useStore } from 'zustand';
import { INPUT_NORMS, type ExperimentConfig, type InputNorm } from '../../engine/experiment';
import { useSession } from '../../store/sessionStore';
import { missingWeights, startsFromWeights, weightsResult } from '../../store/weights';
import type { WeightsResult } from '../../worker/protocol';
import { engine } from '../app/engine';
import { percent } from '../common/format';
import { runArchive } from '../runs/archive';
import { withField } from './configUpdate';
import { FileDropZone } from './FileDropZone';
import { SelectField, TextField } from './fields';

const NORM_LABELS: Record<InputNorm, string> = {
  auto: 'Guess from the checkpoint',
  cifar10: 'This app’s CIFAR-10 statistics',
  'cifar10-kuangliu': 'CIFAR-10, std 0.2023/0.1994/0.2010 (kuangliu, chenyaofo, Torch-Pruning)',
  imagenet: 'ImageNet statistics (akamaster, chengyangfu)',
};

const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
const keyList = (keys: string[]) => keys.slice(0, 8).join(', ') + (keys.length > 8 ? `, … (${keys.length} in all)` : '');

function Report({ result }: { result: WeightsResult }) {
  const r = result.report;
  const ev = result.evaluation;
  const fmt = (v: number[]) => v.map((x) => x.toFixed(4)).join(', ');
  return (
    <div className="data-status data-status-success" data-testid="weights-report" role="status">
      <p>
        <strong>{r.label}</strong> from {r.url || r.name} ({r.format}
        {r.path ? `, under "${r.path}"` : ''}
        {r.strippedModulePrefix ? ', "module." prefix removed' : ''}), SHA-256 <code title={r.sha256}>{r.sha256.slice(0, 12)}…</code>
      </p>
      <ul>
        <li data-testid="weights-keys">
          {r.matched} keys matched, {r.missing.length} missing, {r.unexpected.length} unexpected, {r.misShaped.length} mis-shaped
          {r.folded ? `; ${r.folded} conv biases folded into BN` : ''}
          {r.ignored ? `; ${r.ignored} ignored (num_batches_tracked)` : ''}
        </li>
        {r.missing.length > 0 && <li>Missing: {keyList(r.missing)}</li>}
        {r.unexpected.length > 0 && <li>Unexpected: {keyList(r.unexpected)}</li>}
        <li>
          Input normalisation: mean {fmt(r.normalization.mean)}, std {fmt(r.normalization.std)} ({r.normalizationSource})
        </li>
      </ul>
      <p data-testid="weights-accuracy">
        {'error' in ev ? `Not evaluated: ${ev.error}` : `Test accuracy before pruning: ${pct(ev.acc)} on ${ev.images} images (loss ${ev.loss.toFixed(3)})`}
      </p>
    </div>
  );
}

/**
 * "Start from weights": a dropped checkpoint or a URL, imported and evaluated in the worker.
 * The import report and the accuracy before pruning are shown; Start then prunes and fine-tunes
 * from these weights. A link that names a file only by its hash asks for that file.
 */
export function WeightsSource({ config, onChange }: { config: ExperimentConfig; onChange: (c: ExperimentConfig) => void }) {
  const weights = useSession((s) => s.weights);
  const running = useSession((s) => s.engineRunId !== null);
  const [url, setUrl] = useState(config.train.initUrl);
  const missing = missingWeights(config, weights);
  const result = weightsResult(weights);
  // Finished runs whose last checkpoint is their final network (runs from before that was kept say so when picked).
  const earlier = useStore(runArchive.state, (a) => a.runs).filter((r) => r.status === 'done' && r.checkpoint !== undefined);

  // A shared link with a weights URL reproduces the import when the page opens.
  const opened = useRef(false);
  useEffect(() => {
    if (opened.current) return;
    opened.current = true;
    if (config.train.initUrl && weights.state === 'none') void engine.importWeights({ url: config.train.initUrl });
  }, [config.train.initUrl, weights.state]);

  const takeFile = (list: FileList | null) => {
    const file = list?.[0];
    if (file) void engine.importWeights({ file });
  };

  return (
    <fieldset className="form-group" data-testid="weights-source">
      <legend>Start from weights</legend>
      {missing && (
        <p className="data-status data-status-error" role="alert" data-testid="weights-missing">
          This experiment starts from the checkpoint “{missing.name}” (SHA-256 <code>{missing.sha256}</code>). The file itself is not in the link: drop that file here to run it.
          {missing.fromRun &&
            ' It is the network of an earlier run, exported by this app: on the machine that has that run, open it from Runs and use its “Export safetensors + JSON” button, then drop the .safetensors file here.'}
        </p>
      )}
      <FileDropZone
        prompt="Drop a PyTorch checkpoint (.pt, .pth, .th) or .safetensors file: CIFAR ResNet-20/56 (option A or B), VGG16-BN, or this app’s own safetensors export"
        chooseLabel="Choose checkpoint…"
        accept=".pt,.pth,.th,.tar,.safetensors,.bin"
        testId="weights-file-input"
        ariaLabel="Checkpoint file"
        disabled={running}
        onFiles={takeFile}
      />
      <div className="field-row">
        <TextField name="train.initUrl" label="…or its URL (this site's, or https with CORS)" value={url} placeholder="checkpoints/resnet56.th" onChange={(v) => setUrl(v.slice(0, 2048))} />
        <button type="button" className="button button-secondary" disabled={!url.trim() || running || weights.state === 'loading'} onClick={() => void engine.importWeights({ url: url.trim() })}>
          Load from URL
        </button>
      </div>
      <label className="field">
        <span className="field-label">…or an earlier run’s final network (slimmed if it was pruned)</span>
        <select
          data-testid="weights-run-select"
          value=""
          disabled={running || weights.state === 'loading' || earlier.length === 0}
          onChange={(e) => {
            const run = earlier.find((r) => r.id === e.target.value);
            if (run) void engine.importWeights({ run: { id: run.id, name: run.name } });
          }}
        >
          <option value="">{earlier.length ? 'Pick a finished run…' : 'No finished runs stored'}</option>
          {earlier.map((r) => (
            <option key={r.id} value={r.id}>
              {r.name} · test acc. {percent(r.summary?.testAcc, 1)}
            </option>
          ))}
        </select>
      </label>
      <SelectField<InputNorm>
        name="train.inputNorm"
        label="Input normalisation it was trained with"
        value={config.train.inputNorm}
        options={INPUT_NORMS.map((n) => ({ value: n, label: NORM_LABELS[n] }))}
        onChange={(v) => onChange(withField(config, 'train', 'inputNorm', v))}
        hint={result ? 'Changing it applies from the next load or run' : undefined}
      />
      {weights.state === 'loading' && (
        <p className="data-status" role="status">
          Importing {weights.source} and evaluating it on the test set…
        </p>
      )}
      {weights.state === 'error' && (
        <p className="data-status data-status-error" role="alert" data-testid="weights-error">
          Could not use {weights.source}: {weights.message}
          {weights.previous ? ` — still starting from ${weights.previous.report.name}.` : ''}
        </p>
      )}
      {result && <Report result={result} />}
      {(result || startsFromWeights(config)) && (
        <button type="button" className="button button-secondary" disabled={running} onClick={() => void engine.clearWeights()}>
          Clear weights (start from random initialisation)
        </button>
      )}
    </fieldset>
  );
}
