import { useMemo } from 'react';
import type { RunEntry } from '../../store/runsStore';
import { useRuns } from '../../store/runsStore';
import { toArray } from '../../store/series';
import { useElementWidth } from '../common/useElementWidth';
import { DecayMap, LayerSummary, RectificationTimeline, Trajectories } from '../decay';

/**
 * The pruning views of one run, all reading its event log and sharing one selection (zoomed
 * family, picked channels, picked rectification) from the runs store, so clicking in one
 * moves the others.
 */
export function DecayArea({ run }: { run: RunEntry }) {
  // The views key their caches on the log array: a new array per store update, same prefix.
  const events = useMemo(() => toArray(run.derived.events), [run.derived.events]);
  const selection = useRuns((s) => s.selection);
  const selectChannels = useRuns((s) => s.selectChannels);
  const selectFamily = useRuns((s) => s.selectFamily);
  const highlight = useRuns((s) => s.highlightRectification);
  const viewStep = useRuns((s) => s.viewStep);
  const [ref, width] = useElementWidth<HTMLDivElement>(720);
  const latency = run.derived.latency;
  const viewWidth = Math.max(280, width - 150);

  return (
    <div className="decay-area" data-testid="decay-area" ref={ref}>
      <h3>Channel decay map</h3>
      <DecayMap
        events={events}
        selected={selection.channels}
        onSelectChannels={selectChannels}
        zoomFamily={selection.familyId}
        onZoomFamilyChange={selectFamily}
        highlightStep={selection.rectification?.step ?? null}
        cursorStep={run.live ? null : viewStep}
        width={viewWidth}
        height={320}
      />
      <h3>Trajectories of the selected channels</h3>
      <Trajectories events={events} selected={selection.channels} width={Math.max(280, width - 20)} height={200} />
      <RectificationTimeline events={events} selected={selection.rectification} onSelect={highlight} width={Math.max(280, width - 20)} />
      <h3>Layers</h3>
      <LayerSummary
        events={events}
        denseMsPerImage={latency?.denseMsPerImage ?? null}
        slimMsPerImage={latency?.slimMsPerImage ?? null}
        onSelectFamily={(family) => selectFamily(family === selection.familyId ? null : family)}
      />
    </div>
  );
}
