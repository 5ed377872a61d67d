import { useId, useState } from 'react';
import type { ZodType } from 'zod';

/**
 * Form fields bound to one config value. A number field keeps the text being typed and
 * commits only values its zod schema accepts, so the config (and the URL) never holds an
 * invalid value while the user is mid-edit.
 */

export function NumberField({
  label,
  value,
  schema,
  onChange,
  step,
  hint,
  disabled,
  name,
}: {
  label: string;
  value: number;
  schema: ZodType;
  onChange: (value: number) => void;
  step?: number | 'any';
  hint?: string;
  disabled?: boolean;
  name: string;
}) {
  const id = useId();
  const [draft, setDraft] = useState<{ text: string; for: number } | null>(null);
  // The draft belongs to the value it was typed against: a new value from outside wins.
  const text = draft && draft.for === value ? draft.text : String(value);
  const parsed = text.trim() === '' ? Number.NaN : Number(text);
  const check = schema.safeParse(parsed);
  const error = check.success ? null : Number.isNaN(parsed) ? 'enter a number' : (check.error.issues[0]?.message ?? 'invalid');

  return (
    <label className={`field ${error ? 'field-invalid' : ''}`} htmlFor={id}>
      <span className="field-label">{label}</span>
      <input
        id={id}
        name={name}
        type="number"
        inputMode="decimal"
        step={step ?? 'any'}
        value={text}
        disabled={disabled}
        aria-invalid={error ? true : undefined}
        aria-describedby={error || hint ? `${id}-help` : undefined}
        onChange={(e) => {
          const next = e.target.value;
          const n = Number(next);
          const ok = next.trim() !== '' && schema.safeParse(n).success;
          if (ok && n !== value) {
            setDraft({ text: next, for: n });
            onChange(n);
          } else setDraft({ text: next, for: value });
        }}
        onBlur={() => setDraft(null)}
      />
      {(error || hint) && (
        <span id={`${id}-help`} className={error ? 'field-error' : 'field-hint'}>
          {error ?? hint}
        </span>
      )}
    </label>
  );
}

export function SelectField<T extends string>({
  label,
  value,
  options,
  onChange,
  disabled,
  name,
  hint,
}: {
  label: string;
  value: T;
  options: readonly { value: T; label: string }[];
  onChange: (value: T) => void;
  disabled?: boolean;
  name: string;
  hint?: string;
}) {
  const id = useId();
  return (
    <label className="field" htmlFor={id}>
      <span className="field-label">{label}</span>
      <select
        id={id}
        name={name}
        value={value}
        disabled={disabled}
        onChange={(e) => {
          const next = options.find((o) => o.value === e.target.value);
          if (next) onChange(next.value);
        }}
      >
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint && <span className="field-hint">{hint}</span>}
    </label>
  );
}

export function CheckboxField({ label, checked, onChange, disabled, name }: { label: string; checked: boolean; onChange: (v: boolean) => void; disabled?: boolean; name: string }) {
  return (
    <label className="field field-check">
      <input type="checkbox" name={name} checked={checked} disabled={disabled} onChange={(e) => onChange(e.target.checked)} />
      <span className="field-label">{label}</span>
    </label>
  );
}

export function TextField({
  label,
  value,
  onChange,
  disabled,
  name,
  placeholder,
  hint,
}: {
  label: string;
  value: string;
  onChange: (v: string) => void;
  disabled?: boolean;
  name: string;
  placeholder?: string;
  hint?: string;
}) {
  const id = useId();
  return (
    <label className="field field-wide" htmlFor={id}>
      <span className="field-label">{label}</span>
      <input id={id} name={name} type="text" value={value} placeholder={placeholder} disabled={disabled} onChange={(e) => onChange(e.target.value)} />
      {hint && <span className="field-hint">{hint}</span>}
    </label>
  );
}
