import { decode, encode } from '../../url/codec';
import { FIELD_BY_KEY } from '../../url/fields';
import type { IgnoredNotice, SessionState } from '../../store/sessionStore';
import type { StoreApi } from 'zustand';

/**
 * The page's config lives in the URL: read once on load, written back (replaceState, so the
 * back button is not flooded) whenever the config changes.
 */

export function describeIgnored(ignored: { key: string; value: string; reason: string }[]): IgnoredNotice[] {
  return ignored.map(({ key, value, reason }) => {
    const spec = FIELD_BY_KEY.get(key);
    const field = spec ? (spec.section === 'root' ? `${key} (${spec.name})` : `${key} (${spec.section}.${spec.name})`) : key;
    return { field, value, reason };
  });
}

export function loadConfigFromUrl(session: StoreApi<SessionState>, search: string): void {
  const { config, ignored } = decode(search);
  session.getState().setConfig(config);
  session.getState().setUrlIgnored(describeIgnored(ignored));
}

/** Keeps location.search equal to the encoded config; returns the unsubscribe function. */
export function reflectConfigInUrl(session: StoreApi<SessionState>, history: History, location: Location): () => void {
  const write = (state: SessionState) => {
    const query = `?${encode(state.config)}`;
    if (location.search !== query) history.replaceState(history.state, '', `${location.pathname}${query}${location.hash}`);
  };
  write(session.getState());
  return session.subscribe((state, prev) => {
    if (state.config !== prev.config) write(state);
  });
}
