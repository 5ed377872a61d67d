import type { EngineEvent, EventOf } from '../../engine/events';

/** One channel of one family, addressed the way the engine's prune/rectify events do. */
export interface ChannelRef {
  /** FamilyLayout.id */
  family: string;
  /** Index inside the family (0-based). */
  channel: number;
}

/** What a click in the rectification timeline points at. */
export interface RectificationRef extends ChannelRef {
  step: number;
}

/** Every component here takes the run's event log as it stands; it must only ever grow. */
export type EventLog = readonly EngineEvent[];

export type ModelEvent = EventOf<'model'>;
export type RectifyEvent = EventOf<'rectify'>;

export function channelKey(ref: ChannelRef): string {
  return `${ref.family}#${ref.channel}`;
}
