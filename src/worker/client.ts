import * as Comlink from 'comlink';
import type { EngineEvent } from '../engine/events';
import type { ExperimentConfig } from '../engine/experiment';
import type { DataFile, DatasetSummary, EngineApi, ExportedFile, ExportRequest, StartRequest, WeightsResult } from './protocol';

/**
 * The page's handle on the engine worker. Calls go through comlink; events come back through
 * a proxied listener. Each run gets its own listener (its own message port), so a run's last
 * events can never be mistaken for the next run's: they travel on a different channel from
 * start()'s reply, and channels are not ordered with each other. If the worker dies, every pending call rejects (comlink alone would
 * leave them hanging forever) and `onCrash` fires once; the client is then spent and the
 * caller creates a new one.
 */
export interface EngineClient {
  loadFiles(files: readonly File[]): Promise<DatasetSummary>;
  /** A dropped checkpoint or a URL (resolved against the page) to import and evaluate. */
  importWeights(source: { file: File } | { url: string }, config: ExperimentConfig, expectSha256?: string): Promise<WeightsResult>;
  /** An earlier run's final network as the starting weights. */
  importRunWeights(runId: string, config: ExperimentConfig, expectSha256?: string): Promise<WeightsResult>;
  clearWeights(): Promise<void>;
  start(req: StartRequest): Promise<void>;
  pause(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
  exportModel(req: ExportRequest): Promise<ExportedFile[]>;
  readonly crashed: boolean;
  dispose(): void;
}

export interface EngineClientHandlers {
  /** Events of run `runId`, or (null) ones the engine sent outside any run. */
  onEvents(runId: string | null, events: EngineEvent[]): void;
  onCrash(message: string): void;
}

export class EngineCrashedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EngineCrashedError';
  }
}

function crashMessage(event: Event): string {
  if (event instanceof ErrorEvent && event.message) return event.message;
  if (event.type === 'messageerror') return 'a message from the engine could not be read';
  return 'the engine worker failed to load or stopped unexpectedly';
}

/** Reads dropped files and hands their bytes over to the worker without copying them. */
export async function readDataFiles(files: readonly File[]): Promise<DataFile[]> {
  return Promise.all(files.map(async (f) => ({ name: f.name, bytes: await f.arrayBuffer() })));
}

/** What the client needs of a Worker (tests give it one end of a MessageChannel). */
export type EngineWorker = Pick<Worker, 'postMessage' | 'addEventListener' | 'removeEventListener' | 'terminate'>;

const engineWorker = (): EngineWorker => new Worker(new URL('./engine.worker.ts', import.meta.url), { type: 'module', name: 'dpm-engine' });

export function createEngineClient(handlers: EngineClientHandlers, makeWorker: () => EngineWorker = engineWorker): EngineClient {
  const worker = makeWorker();
  const remote = Comlink.wrap<EngineApi>(worker);
  let crashed: string | null = null;
  let disposed = false;
  const rejectors = new Set<(e: Error) => void>();

  const fail = (event: Event) => {
    if (crashed !== null || disposed) return;
    crashed = crashMessage(event);
    const error = new EngineCrashedError(crashed);
    for (const reject of rejectors) reject(error);
    rejectors.clear();
    worker.terminate();
    remote[Comlink.releaseProxy]();
    handlers.onCrash(crashed);
  };
  worker.addEventListener('error', fail);
  worker.addEventListener('messageerror', fail);

  /** Races a remote call against the worker dying. */
  const call = <T>(fn: () => Promise<T>): Promise<T> => {
    if (crashed !== null) return Promise.reject(new EngineCrashedError(crashed));
    if (disposed) return Promise.reject(new Error('the engine client was disposed'));
    return new Promise<T>((resolve, reject) => {
      rejectors.add(reject);
      fn().then(
        (v) => {
          rejectors.delete(reject);
          resolve(v);
        },
        (e: unknown) => {
          rejectors.delete(reject);
          reject(e instanceof Error ? e : new Error(String(e)));
        },
      );
    });
  };

  // start() waits for its listener to be installed before the worker's start() creates the
  // run's control; a Stop pressed in that window would reach a worker with no run and be lost,
  // so it is held here and sent right after start (the worker handles messages in order).
  let starting = false;
  let stopWhileStarting = false;

  const listenerFor = (runId: string | null) => Comlink.proxy((events: EngineEvent[]) => handlers.onEvents(runId, events));
  const idle = listenerFor(null);
  void call(() => remote.listen(idle)).catch(() => undefined);

  return {
    async loadFiles(files) {
      const data = await readDataFiles(files);
      return call(() => remote.loadFiles(Comlink.transfer(data, data.map((d) => d.bytes))));
    },
    async importWeights(source, config, expectSha256) {
      if ('file' in source) {
        const [file] = await readDataFiles([source.file]);
        return call(() => remote.importWeights(Comlink.transfer({ file, pageUrl: document.baseURI, config, expectSha256 }, [file.bytes])));
      }
      return call(() => remote.importWeights({ url: source.url, pageUrl: document.baseURI, config, expectSha256 }));
    },
    importRunWeights: (runId, config, expectSha256) => call(() => remote.importRunWeights({ runId, pageUrl: document.baseURI, config, expectSha256 })),
    clearWeights: () => call(() => remote.clearWeights()),
    async start(req) {
      starting = true;
      stopWhileStarting = false;
      try {
        await call(() => remote.listen(listenerFor(req.runId)));
        const pageUrl = req.pageUrl ?? (typeof document !== 'undefined' ? document.baseURI : undefined);
        const running = call(() => remote.start({ ...req, pageUrl }));
        starting = false;
        if (stopWhileStarting) void call(() => remote.stop()).catch(() => undefined);
        return await running;
      } finally {
        starting = false;
        if (crashed === null && !disposed) void call(() => remote.listen(idle)).catch(() => undefined);
      }
    },
    pause: () => call(() => remote.pause()),
    resume: () => call(() => remote.resume()),
    stop() {
      if (!starting) return call(() => remote.stop());
      stopWhileStarting = true;
      return Promise.resolve();
    },
    exportModel: (req) => call(() => remote.exportModel(req)),
    get crashed() {
      return crashed !== null;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const reject of rejectors) reject(new Error('the engine was shut down'));
      rejectors.clear();
      remote[Comlink.releaseProxy]();
      worker.terminate();
    },
  };
}
