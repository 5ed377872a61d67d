import type { ReactNode } from 'react';

export type NoticeTone = 'info' | 'warning' | 'error' | 'success';

/** A message box; text only, with an optional dismiss button. */
export function Notice({
  tone = 'info',
  title,
  children,
  onDismiss,
  testId,
}: {
  tone?: NoticeTone;
  title?: string;
  children?: ReactNode;
  onDismiss?: () => void;
  testId?: string;
}) {
  return (
    <div className={`notice notice-${tone}`} role={tone === 'error' ? 'alert' : 'status'} data-testid={testId}>
      <div className="notice-body">
        {title && <strong className="notice-title">{title}</strong>}
        {children}
      </div>
      {onDismiss && (
        <button type="button" className="notice-dismiss" onClick={onDismiss} aria-label="Dismiss">
          ×
        </button>
      )}
    </div>
  );
}
