import { useCallback, useMemo, useState } from 'react';
import { syncTelemetry, type TelemetrySnapshot } from './telemetryLog';
import type { EventLog } from './types';

/**
 * A prop the page may control (value + onChange) or leave to the component (value undefined):
 * the page owns zoom and selection when it wants views to follow each other.
 */
export function useControllable<T>(
  value: T | undefined,
  onChange: ((next: T) => void) | undefined,
  initial: T,
): [T, (next: T) => void] {
  const [own, setOwn] = useState<T>(initial);
  const controlled = value !== undefined;
  const current = controlled ? value : own;
  const set = useCallback(
    (next: T) => {
      if (!controlled) setOwn(next);
      onChange?.(next);
    },
    [controlled, onChange],
  );
  return [current, set];
}

/** The run's shared telemetry store, synced with the log (only new events are read). */
export function useTelemetry(events: EventLog): TelemetrySnapshot {
  return useMemo(() => syncTelemetry(events), [events]);
}
