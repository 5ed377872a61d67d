import './decay.css';

export { DecayMap, type DecayMapProps, type RowReduce } from './DecayMap';
export { mapGeometry, zoomRange, MIN_SPAN_STEPS, type MapGeometry, type MapHit } from './mapGeometry';
export { drawOverlay, type OverlayScene } from './mapOverlay';
export { Trajectories, type TrajectoriesProps } from './Trajectories';
export { RectificationTimeline, type RectificationTimelineProps } from './RectificationTimeline';
export { LayerSummary, type LayerSummaryProps } from './LayerSummary';

export type { ChannelRef, RectificationRef, EventLog } from './types';
export { channelKey } from './types';
export type { ColorMode, MapView, DirtySpan } from './mapRaster';
export { MapRaster } from './mapRaster';
export { TelemetryStore, defaultMaxColumns, type Metric, type TelemetryStoreOptions } from './telemetryStore';
export { syncTelemetry, findModel, type TelemetrySnapshot } from './telemetryLog';
export {
  METRIC_REDUCER,
  binRanges,
  downsampleSeries,
  pixelColumnRanges,
  reduceGrid,
  rowRanges,
  type Reducer,
  type SeriesPoint,
} from './downsample';
export {
  extractTrajectories,
  familyChannels,
  rectifyEvents,
  type TrajectoryLine,
  type TrajectorySet,
  type TrajectoryOptions,
} from './trajectories';
export {
  applyLayerEvent,
  createLayerSummaryState,
  snapshotLayerSummary,
  summarizeLayers,
  type FamilySummary,
  type LayerSummaryData,
  type LayerSummaryState,
} from './layerSummary';
export { collectTimeline, binActivity, type RectificationRow, type TimelineData } from './rectifications';
