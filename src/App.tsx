import { useMemo } from 'react';
import { ActiveRunPanel } from './ui/app/ActiveRunPanel';
import { Header } from './ui/app/Header';
import { EngineErrorNotice, UrlNotice } from './ui/app/Notices';
import { RunControls } from './ui/app/RunControls';
import { CompareChart } from './ui/charts/CompareChart';
import { Section } from './ui/common/Section';
import { ConfigForm } from './ui/form/ConfigForm';
import { RunsList } from './ui/runs/RunsList';
import { engine } from './ui/app/engine';
import { useRuns, type RunEntry } from './store/runsStore';
import { useSession } from './store/sessionStore';
import { LessonPanel, useLessonFocus } from './ui/lessons/LessonPanel';

function ComparisonSection() {
  const comparison = useRuns((s) => s.comparison);
  const runs = useRuns((s) => s.runs);
  const toggle = useRuns((s) => s.toggleComparison);
  const order = useRuns((s) => s.order);
  const entries = useMemo(() => comparison.map((id) => runs[id]).filter((r): r is RunEntry => r !== undefined), [comparison, runs]);
  return (
    <Section title="Compare runs" className="compare">
      <p className="hint">Tick runs here or in the runs list; their test accuracy and kept FLOPs share the axes below.</p>
      {order.length > 0 && (
        <ul className="compare-picks">
          {order.map((id) => (
            <li key={id}>
              <label>
                <input type="checkbox" checked={comparison.includes(id)} onChange={() => toggle(id)} /> {runs[id].name}
              </label>
            </li>
          ))}
        </ul>
      )}
      {entries.length > 0 ? <CompareChart runs={entries} /> : <p className="empty">No runs ticked yet.</p>}
    </Section>
  );
}

export function App() {
  const config = useSession((s) => s.config);
  const setConfig = useSession((s) => s.setConfig);
  const lessonFocus = useLessonFocus();
  return (
    <div className="app" data-lesson-focus={lessonFocus}>
      <Header />
      <div className="notices">
        <UrlNotice />
        <EngineErrorNotice />
      </div>
      <main className="layout">
        <aside className="sidebar">
          <Section title="Experiment">
            <ConfigForm config={config} onChange={setConfig} onFiles={(files) => void engine.loadFiles(files)} />
          </Section>
        </aside>
        <div className="content">
          <LessonPanel />
          <Section title="Run">
            <RunControls />
          </Section>
          <ActiveRunPanel />
          <ComparisonSection />
          <RunsList />
        </div>
      </main>
    </div>
  );
}
