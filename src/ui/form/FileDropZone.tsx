import { useId, useState, type ReactNode } from 'react';

/**
 * A drop zone with a "Choose…" button over a hidden file input: the one way the page takes
 * files (data sets, checkpoints). `onFiles` gets the dropped or chosen list; the input is
 * reset so choosing the same file again fires once more.
 */
export function FileDropZone({
  prompt,
  chooseLabel,
  accept,
  multiple = false,
  disabled = false,
  testId,
  ariaLabel,
  onFiles,
  children,
}: {
  prompt: ReactNode;
  chooseLabel: string;
  accept: string;
  multiple?: boolean;
  disabled?: boolean;
  testId: string;
  ariaLabel: string;
  onFiles: (files: FileList | null) => void;
  /** Shown inside the zone after the input (a rejection message, say). */
  children?: ReactNode;
}) {
  const inputId = useId();
  const [dragging, setDragging] = useState(false);
  return (
    <div
      className={`drop-zone ${dragging ? 'drop-zone-active' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setDragging(true);
      }}
      onDragLeave={() => setDragging(false)}
      onDrop={(e) => {
        e.preventDefault();
        setDragging(false);
        onFiles(e.dataTransfer.files);
      }}
    >
      <p>{prompt}</p>
      <label htmlFor={inputId} className="button button-secondary">
        {chooseLabel}
      </label>
      <input
        id={inputId}
        className="visually-hidden"
        type="file"
        multiple={multiple}
        accept={accept}
        data-testid={testId}
        aria-label={ariaLabel}
        disabled={disabled}
        onChange={(e) => {
          onFiles(e.target.files);
          e.target.value = '';
        }}
      />
      {children}
    </div>
  );
}
