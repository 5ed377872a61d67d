import { z } from '../engine/zod';
import { BACKEND_NAMES, SCHEDULE_NAMES } from '../engine/experiment';

/**
 * The EngineEvent union (src/engine/events.ts) as a zod schema, for checking event logs that
 * come from outside (imported run files). event-schema.test.ts proves at compile time that
 * z.infer of this schema and EngineEvent are the same type, so the two cannot drift apart.
 */

/** Metrics may legitimately be NaN or infinite (a diverged loss); the file format carries them. */
const metric = z.custom<number>((v) => typeof v === 'number', { message: 'expected a number' });
const finite = z.number();
const count = z.number().int().min(0);
const counts = z.array(count);

const phaseSchema = z.enum([
  'loading-data',
  'building-model',
  'compiling',
  'training',
  'evaluating',
  'pruning',
  'slimming',
  'paused',
  'done',
  'stopped',
  'error',
]);

const familyLayoutSchema = z.object({ id: z.string(), label: z.string(), channels: count });
const costFiguresSchema = z.object({ params: finite.min(0), flops: finite.min(0) });
const backendSchema = z.enum(BACKEND_NAMES);

export const engineEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('status'), phase: phaseSchema, message: z.string(), progress: metric.optional() }),
  z.object({ type: z.literal('backend'), backend: backendSchema, requested: backendSchema, notice: z.string().optional() }),
  z.object({
    type: z.literal('model'),
    model: z.string(),
    families: z.array(familyLayoutSchema),
    dense: costFiguresSchema,
    totalSteps: count,
    stepsPerEpoch: count,
  }),
  z.object({ type: z.literal('step'), step: count, epoch: finite.min(0), loss: metric, lr: metric, imagesPerSec: metric }),
  z.object({
    type: z.literal('epoch'),
    epoch: finite.min(0),
    step: count,
    trainLoss: metric,
    trainAcc: metric,
    testLoss: metric,
    testAcc: metric,
  }),
  z.object({
    type: z.literal('cost'),
    step: count,
    flopsFraction: metric,
    paramsFraction: metric,
    params: finite.min(0),
    flops: finite.min(0),
  }),
  z.object({ type: z.literal('telemetry'), step: count, decay: z.array(metric), norm: z.array(metric) }),
  z.object({
    type: z.literal('prune'),
    step: count,
    family: z.string(),
    channels: counts,
    scores: z.array(metric),
    schedule: z.enum(SCHEDULE_NAMES),
  }),
  z.object({
    type: z.literal('rectify'),
    step: count,
    family: z.string(),
    channel: count,
    cRate: metric,
    cLen: metric,
    decay: metric,
  }),
  z.object({
    type: z.literal('criteria'),
    step: count,
    steps: count,
    family: z.string(),
    channel: count,
    cRate: metric,
    cLen: metric,
    tRate: metric,
    tLen: metric,
    closeness: metric,
  }),
  z.object({ type: z.literal('removed'), step: count, family: z.string(), channels: counts }),
  z.object({
    type: z.literal('damage'),
    step: count,
    schedule: z.enum(SCHEDULE_NAMES),
    channels: count,
    window: count,
    lossBefore: metric,
    peakRise: metric,
    peakStep: count,
    tolerance: metric,
    recoverySteps: count.nullable(),
    accBefore: metric.nullable(),
    accAfter: metric.nullable(),
  }),
  z.object({ type: z.literal('checkpoint'), step: count, epoch: finite.min(0), key: z.string() }),
  z.object({
    type: z.literal('slim'),
    before: costFiguresSchema,
    after: costFiguresSchema,
    maxAbsDiff: metric,
    kept: z.array(z.object({ family: z.string(), before: count, after: count })),
  }),
  z.object({ type: z.literal('latency'), batch: count, denseMsPerImage: metric, slimMsPerImage: metric }),
  z.object({
    type: z.literal('done'),
    testAcc: metric,
    flopsFraction: metric,
    paramsFraction: metric,
    rectifications: count,
    steps: count,
    seconds: metric,
  }),
  z.object({ type: z.literal('error'), message: z.string(), recoverable: z.boolean(), hint: z.string().optional() }),
]);

export const ENGINE_EVENT_TYPES: readonly string[] = engineEventSchema.options.map((o) => o.shape.type.value);
