import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { EngineEvent } from '../engine/events';
import type { ExperimentConfig } from '../engine/experiment';
import { runFileFromRun, serializeRunFile, summaryFromEvents } from '../persist/run-file';
import { runName } from '../store/compare';

/**
 * `--record PATH`: a CLI run written in the app's own run-file format (src/persist/run-file.ts),
 * so the app can open it (runs list → Import, or a lesson's recording) and redraw every view.
 */
export async function writeRunRecord(path: string, config: ExperimentConfig, events: EngineEvent[]): Promise<void> {
  const file = runFileFromRun({ name: `${runName(config)} · CLI`, createdAt: Date.now(), config, summary: summaryFromEvents(events) }, events);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, serializeRunFile(file));
}
