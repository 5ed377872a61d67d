/**
 * Which runs are really training right now, across tabs. The worker holds a Web Lock named
 * for its run while it trains; the browser releases it when the worker or tab dies. On load,
 * the page marks as interrupted only the 'running' runs whose lock nobody holds, so opening a
 * second tab does not mislabel a run that is training in the first.
 */

export function runLockName(runId: string): string {
  return `dpm-playground:run:${runId}`;
}

const RUN_LOCK_PREFIX = runLockName('');

function lockManager(): LockManager | null {
  const nav = (globalThis as { navigator?: { locks?: LockManager } }).navigator;
  return nav?.locks ?? null;
}

/** Runs `work` while holding the run's lock (worker side). Without the Web Locks API it just runs it. */
export async function holdRunLock<T>(runId: string, work: () => Promise<T>): Promise<T> {
  const locks = lockManager();
  if (!locks) return work();
  return locks.request(runLockName(runId), { mode: 'exclusive' }, () => work()) as Promise<T>;
}

/** Ids of runs whose lock some tab or worker holds; empty where the Web Locks API is missing. */
export async function liveRunIds(): Promise<Set<string>> {
  const locks = lockManager();
  if (!locks) return new Set();
  try {
    const snapshot = await locks.query();
    const ids = new Set<string>();
    for (const lock of snapshot.held ?? []) {
      if (lock.name?.startsWith(RUN_LOCK_PREFIX)) ids.add(lock.name.slice(RUN_LOCK_PREFIX.length));
    }
    return ids;
  } catch {
    return new Set();
  }
}
