import { useSession } from '../../store/sessionStore';
import { Notice } from '../common/Notice';

export function UrlNotice() {
  const ignored = useSession((s) => s.urlIgnored);
  const dismiss = useSession((s) => s.dismissUrlNotice);
  if (ignored.length === 0) return null;
  return (
    <Notice tone="warning" title="Some settings in the link were not used; their defaults apply:" onDismiss={dismiss} testId="url-notice">
      <ul className="ignored-list">
        {ignored.map((item, i) => (
          <li key={i}>
            <code>{item.field}</code>
            {item.value !== '' && (
              <>
                {' = '}
                <code>{item.value}</code>
              </>
            )}
            {': '}
            {item.reason}
          </li>
        ))}
      </ul>
    </Notice>
  );
}

export function EngineErrorNotice() {
  const error = useSession((s) => s.engineError);
  const clear = useSession((s) => s.setEngineError);
  if (!error) return null;
  return (
    <Notice tone="error" title="Engine problem" onDismiss={() => clear(null)} testId="engine-error">
      {error}
    </Notice>
  );
}
