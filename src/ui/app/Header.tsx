import { useState } from 'react';
import { sessionStore, useSession } from '../../store/sessionStore';
import { shareUrl } from '../../url/codec';

function BackendBadge() {
  const backend = useSession((s) => s.backend);
  const label = backend ? backend.backend : 'not started';
  const fellBack = backend ? backend.backend !== backend.requested : false;
  return (
    <span className="backend">
      <span className={`badge badge-${backend?.backend ?? 'none'} ${fellBack ? 'badge-fallback' : ''}`} data-testid="backend-badge" title={backend?.notice ?? 'The compute backend the engine uses'}>
        {label}
      </span>
      {backend?.notice && (
        <span className="backend-notice" data-testid="backend-notice">
          {backend.notice}
        </span>
      )}
    </span>
  );
}

async function copyText(text: string): Promise<boolean> {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    return false;
  }
}

function ShareButton() {
  const [state, setState] = useState<'idle' | 'copied' | 'failed'>('idle');
  const [fallbackUrl, setFallbackUrl] = useState<string | null>(null);
  const onClick = async () => {
    const url = shareUrl(sessionStore.getState().config, window.location);
    const ok = await copyText(url);
    setState(ok ? 'copied' : 'failed');
    setFallbackUrl(ok ? null : url);
    window.setTimeout(() => setState('idle'), 2000);
  };
  return (
    <span className="share">
      <button type="button" className="button button-secondary" data-testid="share-button" onClick={onClick} aria-live="polite">
        {state === 'copied' ? 'copied' : 'Share'}
      </button>
      {fallbackUrl && (
        <input className="share-fallback" readOnly value={fallbackUrl} aria-label="Link to this experiment (copy it by hand)" onFocus={(e) => e.currentTarget.select()} />
      )}
    </span>
  );
}

export function Header() {
  return (
    <header className="app-header">
      <div className="brand">
        <h1>DPM Playground</h1>
        <span className="tagline">train, prune, and watch every channel decay</span>
      </div>
      <div className="header-actions">
        <BackendBadge />
        <ShareButton />
      </div>
    </header>
  );
}
