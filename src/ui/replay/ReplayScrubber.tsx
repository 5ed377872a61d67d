import './replay.css';
import { useEffect, useMemo, useState } from 'react';
import { selectActiveRun, useRuns } from '../../store/runsStore';
import { toArray } from '../../store/series';
import { isReplayable, lastTimelineStep, nextPlayStep } from '../../store/viewStep';

/** Playback covers a run in about this many ticks, whatever its length. */
const PLAY_TICKS = 200;
const TICK_MS = 50;

/**
 * A step slider with play/pause over a finished or imported run. It only sets the store's
 * view step; every view reads the run through useViewedRun, so they all move together.
 */
export function ReplayScrubber() {
  const run = useRuns(selectActiveRun);
  const viewStep = useRuns((s) => s.viewStep);
  const setViewStep = useRuns((s) => s.setViewStep);
  const [playing, setPlaying] = useState(false);
  const replayable = isReplayable(run);
  const end = useMemo(() => (run ? lastTimelineStep(toArray(run.derived.events)) : 0), [run]);
  const at = viewStep === null ? end : Math.min(viewStep, end);
  const stride = Math.max(1, Math.ceil(end / PLAY_TICKS));

  const running = playing && replayable && at < end;

  useEffect(() => {
    if (!running) return;
    const id = setTimeout(() => {
      const next = nextPlayStep(at, end, stride);
      setViewStep(next);
      if (next >= end) setPlaying(false);
    }, TICK_MS);
    return () => clearTimeout(id);
  }, [running, at, end, stride, setViewStep]);

  if (!replayable || end <= 0) return null;

  const togglePlay = () => {
    if (running) return setPlaying(false);
    if (at >= end) setViewStep(0);
    setPlaying(true);
  };

  return (
    <div className="replay-scrubber" data-testid="replay-scrubber" role="group" aria-label="Replay">
      <button type="button" className="replay-play" data-testid="replay-play" aria-pressed={running} onClick={togglePlay}>
        {running ? 'Pause' : 'Play'}
      </button>
      <input
        type="range"
        aria-label="Replay step"
        data-testid="replay-step"
        min={0}
        max={end}
        step={1}
        value={at}
        onChange={(e) => {
          setPlaying(false);
          const s = Number(e.target.value);
          setViewStep(s >= end ? null : s);
        }}
      />
      <span className="replay-label" data-testid="replay-label">
        step {at} of {end}
      </span>
      <button
        type="button"
        className="replay-end"
        disabled={viewStep === null}
        onClick={() => {
          setPlaying(false);
          setViewStep(null);
        }}
      >
        Whole run
      </button>
    </div>
  );
}
