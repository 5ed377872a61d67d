/**
 * Records every guided lesson's runs with the CLI, from the lesson presets themselves
 * (src/lessons/lessons.ts), into public/lessons/<lesson>.<schedule>.json: the app shows these
 * at once when a lesson opens, and src/lessons/recordings.test.ts checks what each lesson
 * claims against them.
 *
 *   npm run lessons:record [-- --only abrupt-vs-smooth,mid-decay-dip] [-- --data DIR]
 *
 * Each lesson is one `cli compare` over its schedules (same seed, same batches), on tfjs's CPU
 * backend and the real Fashion-MNIST files (default: Debian's dataset-fashion-mnist).
 */
import { spawnSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { flagsFromConfig } from '../src/cli/args';
import { FASHION_MNIST_SYSTEM_DIR } from '../src/engine/data/fashion-mnist';
import { LESSONS, recordingPath } from '../src/lessons/lessons';

const { values } = parseArgs({ options: { only: { type: 'string' }, data: { type: 'string' } } });
const only = values.only ? new Set(values.only.split(',')) : null;
const unknown = [...(only ?? [])].filter((id) => !LESSONS.some((l) => l.id === id));
if (unknown.length > 0) throw new Error(`--only: no lesson ${unknown.join(', ')} (lessons: ${LESSONS.map((l) => l.id).join(', ')})`);

for (const lesson of LESSONS) {
  if (only && !only.has(lesson.id)) continue;
  const args = [
    'compare',
    '--schedules', lesson.schedules.join(','),
    ...flagsFromConfig({ ...lesson.config, backend: 'cpu' }),
    '--data', values.data ?? FASHION_MNIST_SYSTEM_DIR,
    '--record', `public/${recordingPath(lesson.id, '{schedule}')}`,
  ];
  process.stdout.write(`\n# ${lesson.id}\nnpm run cli -- ${args.join(' ')}\n`);
  const started = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${lesson.id}: the CLI exited with ${r.status ?? r.signal}`);
  const sizes = lesson.schedules.map((s) => `public/${recordingPath(lesson.id, s)} (${(statSync(`public/${recordingPath(lesson.id, s)}`).size / 1024).toFixed(0)} KB)`);
  process.stdout.write(`# ${lesson.id}: ${((performance.now() - started) / 1000).toFixed(0)} s; wrote ${sizes.join(', ')}\n`);
}
