import { runsStore } from '../../store/runsStore';
import { sessionStore } from '../../store/sessionStore';
import { createEngineClient } from '../../worker/client';
import { createEngineController } from './engineController';
import { download, runArchive } from '../runs/archive';

/** The page's one engine controller, wired to the real worker, stores and run archive. */
export const engine = createEngineController({
  createClient: createEngineClient,
  runs: runsStore,
  session: sessionStore,
  newRunId: () => crypto.randomUUID(),
  loadStoredEvents: (runId) => runArchive.loadEvents(runId),
  onRunStarted: () => void runArchive.refresh(),
  onRunEnded: (runId) => void runArchive.recordEndedRun(runId),
  download,
});
