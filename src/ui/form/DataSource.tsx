import { useState } from 'react';
import { dataConfigSchema, type ExperimentConfig } from '../../engine/experiment';
import { useSession } from '../../store/sessionStore';
import { compactNumber } from '../common/format';
import { acceptedDataFile, withField } from './configUpdate';
import { FileDropZone } from './FileDropZone';
import { CheckboxField, NumberField, SelectField, TextField } from './fields';

/** Where the images come from: the set and how it arrives ('files'/'url' are CIFAR-10, kept for existing links and tests). */
type Source = 'synthetic' | 'files' | 'url' | 'fashion-files' | 'fashion-url';

const fromUrl = (s: Source) => s === 'url' || s === 'fashion-url';
const isFashion = (s: Source) => s === 'fashion-files' || s === 'fashion-url';

function DataStatus() {
  const dataset = useSession((s) => s.dataset);
  const config = useSession((s) => s.config);
  let body: string;
  let tone = 'info';
  if (dataset.state === 'loading') body = `Reading ${dataset.files.join(', ')}…`;
  else if (dataset.state === 'ready') {
    const { summary } = dataset;
    body = `${summary.name}: ${compactNumber(summary.train)} training and ${compactNumber(summary.test)} test images from ${summary.files.map((f) => `${f.name} (${f.records})`).join(', ')}`;
    tone = 'success';
  } else if (dataset.state === 'error') {
    // The engine's DataError message already names the file at fault.
    body = `Could not load the files: ${dataset.message}`;
    if (dataset.previous) body += ` — still using the ${dataset.previous.name} set loaded before (${compactNumber(dataset.previous.train)} training images).`;
    tone = 'error';
  } else if (config.data.dataset === 'synthetic') body = `Built-in synthetic set: ${compactNumber(config.data.syntheticSize)} training images, generated from the seed.`;
  else if (config.data.dataset === 'fashion-mnist') {
    body = config.data.url
      ? 'Fashion-MNIST is downloaded from the URL when the run starts.'
      : 'No Fashion-MNIST files loaded yet: drop train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz here.';
  } else if (config.data.url) body = `CIFAR-10 is downloaded from the URL when the run starts.`;
  else body = 'No CIFAR-10 files loaded yet: drop cifar-10-binary.tar.gz or the .bin batches here.';
  const warnings = dataset.state === 'ready' ? dataset.summary.warnings : [];
  return (
    <div className={`data-status data-status-${tone}`} data-testid="data-status" role={tone === 'error' ? 'alert' : 'status'}>
      <p>{body}</p>
      {warnings.length > 0 && (
        <ul>
          {warnings.map((w, i) => (
            <li key={i}>{w}</li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function DataSource({
  config,
  onChange,
  onFiles,
}: {
  config: ExperimentConfig;
  onChange: (c: ExperimentConfig) => void;
  onFiles: (files: File[]) => void;
}) {
  const [rejected, setRejected] = useState<string[]>([]);
  const [chosen, setChosen] = useState<Source | null>(null);
  const fashion = config.data.dataset === 'fashion-mnist';
  const implied: Source = fashion ? (config.data.url ? 'fashion-url' : 'fashion-files') : config.data.url ? 'url' : 'files';
  // A choice made here wins over what the config implies only while it names the same data set.
  const source: Source = config.data.dataset === 'synthetic' ? 'synthetic' : chosen && isFashion(chosen) === fashion ? chosen : implied;
  const data = config.data;

  const take = (list: FileList | null) => {
    const files = Array.from(list ?? []);
    const ok = files.filter((f) => acceptedDataFile(f.name));
    setRejected(files.filter((f) => !acceptedDataFile(f.name)).map((f) => f.name));
    if (ok.length > 0) onFiles(ok);
  };

  return (
    <fieldset className="form-group">
      <legend>Data</legend>
      <SelectField<Source>
        name="data.source"
        label="Data set"
        value={source}
        options={[
          { value: 'synthetic', label: 'Built-in synthetic (10 classes, 32×32)' },
          { value: 'files', label: 'CIFAR-10 from files' },
          { value: 'url', label: 'CIFAR-10 from a URL' },
          { value: 'fashion-files', label: 'Fashion-MNIST from files' },
          { value: 'fashion-url', label: 'Fashion-MNIST from a URL' },
        ]}
        onChange={(v) => {
          setChosen(v === 'synthetic' ? null : v);
          const next = withField(config, 'data', 'dataset', v === 'synthetic' ? 'synthetic' : isFashion(v) ? 'fashion-mnist' : 'cifar10');
          onChange(fromUrl(v) ? next : withField(next, 'data', 'url', ''));
        }}
      />
      {source === 'synthetic' && (
        <NumberField name="data.syntheticSize" label="Synthetic images" value={data.syntheticSize} schema={dataConfigSchema.shape.syntheticSize} step={100} onChange={(v) => onChange(withField(config, 'data', 'syntheticSize', v))} />
      )}
      {(source === 'files' || source === 'fashion-files') && (
        <FileDropZone
          prompt={source === 'files' ? 'Drop cifar-10-binary.tar.gz, or data_batch_*.bin / test_batch.bin, here' : 'Drop the four Fashion-MNIST files (train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, t10k-…), gzipped or not, here'}
          chooseLabel="Choose files…"
          multiple
          accept={source === 'files' ? '.gz,.tgz,.bin,.txt' : '.gz,.idx3-ubyte,.idx1-ubyte'}
          testId="data-file-input"
          ariaLabel={source === 'files' ? 'CIFAR-10 files' : 'Fashion-MNIST files'}
          onFiles={take}
        >
          {rejected.length > 0 && <p className="field-error">Not data set files (need .tar.gz, .bin or .txt for CIFAR-10, the -ubyte(.gz) files for Fashion-MNIST): {rejected.join(', ')}</p>}
        </FileDropZone>
      )}
      {fromUrl(source) && (
        <TextField
          name="data.url"
          label={source === 'url' ? 'URL of the CIFAR-10 folder or archive' : 'URL of the folder holding the Fashion-MNIST .gz files'}
          value={data.url}
          placeholder={source === 'url' ? 'https://example.org/cifar-10-batches-bin/' : 'data/fashion-mnist/'} onChange={(v) => onChange(withField(config, 'data', 'url', v.slice(0, 2048)))} />
      )}
      {source !== 'synthetic' && (
        <div className="field-row">
          <NumberField name="data.trainLimit" label="Training images (0 = all)" value={data.trainLimit} schema={dataConfigSchema.shape.trainLimit} step={1000} onChange={(v) => onChange(withField(config, 'data', 'trainLimit', v))} />
          <NumberField name="data.testLimit" label="Test images (0 = all)" value={data.testLimit} schema={dataConfigSchema.shape.testLimit} step={1000} onChange={(v) => onChange(withField(config, 'data', 'testLimit', v))} />
        </div>
      )}
      <CheckboxField name="data.augment" label="Augment (random crop + flip)" checked={data.augment} onChange={(v) => onChange(withField(config, 'data', 'augment', v))} />
      <DataStatus />
    </fieldset>
  );
}
