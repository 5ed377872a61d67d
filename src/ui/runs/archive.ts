import { createMemoryStore } from '../../persist/memory-store';
import { openRunStore } from '../../persist/idb-store';
import { runsStore } from '../../store/runsStore';
import { sessionStore } from '../../store/sessionStore';
import { createRunArchive, type ArchivePort } from './runArchive';
import { exportRunToFile, importRunFromFile } from './runFile';

const port: ArchivePort = {
  async open() {
    const opened = await openRunStore();
    if ('unavailable' in opened) return { store: createMemoryStore(), memoryOnly: opened.unavailable };
    return { store: opened, memoryOnly: null };
  },
  exportRun: exportRunToFile,
  importRun: importRunFromFile,
};

function download(fileName: string, blob: Blob) {
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
  port,
  runs: runsStore,
  liveRunId: () => sessionStore.getState().engineRunId,
  download,
});
