import { importRun, openPageStore, parseRunFile, runFileBlob, runFileFromRun, runFileName } from '../../persist';
import { runsStore } from '../../store/runsStore';
import { sessionStore } from '../../store/sessionStore';
import { createRunArchive, type ArchivePort } from './runArchive';

export const pagePort: ArchivePort = {
  async open() {
    const { store, notice } = await openPageStore();
    return { store, memoryOnly: notice };
  },
  async exportRun(store, runId) {
    const run = await store.getRun(runId);
    if (!run) throw new Error('the run no longer exists');
    const events = await store.loadEvents(runId);
    return { fileName: runFileName(run.name), blob: runFileBlob(runFileFromRun(run, events)) };
  },
  async importRun(store, file) {
    const parsed = await parseRunFile(file);
    if (!parsed.ok) throw new Error(parsed.error);
    return importRun(store, parsed.file);
  },
};

export function download(fileName: string, blob: Blob) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = fileName;
  document.body.append(a);
  a.click();
  a.remove();
  // Give the browser a moment to start the download before the URL goes away.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** The page's run archive (IndexedDB, or memory when the browser refuses IndexedDB). */
export const runArchive = createRunArchive({
  port: pagePort,
  runs: runsStore,
  liveRunId: () => sessionStore.getState().engineRunId,
  download,
});
