import { experimentSchema, type ExperimentConfig, type ScheduleName } from '../engine/experiment';

/**
 * The guided lessons: each is a preset experiment (tiny model, Fashion-MNIST, about a minute
 * on a laptop GPU) plus the text that says what to watch, what you should see and why. This
 * module is the one source of each lesson's config: the app opens it from `?lesson=<id>`,
 * `npm run lessons:record` turns it into CLI flags to record the shipped runs in
 * public/lessons/, and the tests check those recordings against it and against what the
 * text claims.
 */

export const LESSON_IDS = ['abrupt-vs-smooth', 'self-rectifying', 'mid-decay-dip'] as const;
export type LessonId = (typeof LESSON_IDS)[number];

/** The views a lesson points at; the page outlines them while the lesson is open. */
export type LessonFocus = 'damage' | 'compare' | 'accuracy' | 'loss' | 'decay' | 'rectifications';

export interface Lesson {
  id: LessonId;
  title: string;
  /** The question the lesson answers, in one line. */
  question: string;
  /** What to watch, in the order to look at it. */
  watch: string[];
  /** What the recorded run shows (the tests check these claims on the shipped recording). */
  see: string;
  why: string;
  /** The preset; `prune.schedule` is the first of `schedules`. */
  config: ExperimentConfig;
  /** One run per schedule, same seed and config otherwise; the recording holds each. */
  schedules: ScheduleName[];
  /** The run the views open on (one of `schedules`). */
  view: ScheduleName;
  focus: LessonFocus[];
}

/**
 * What every lesson shares: 512 Fashion-MNIST training images, a 500-image test split, batch
 * 16, no augmentation, one pruning point 40 % into the run. Small enough to record on a CPU in
 * about a minute per run, large enough that the loss is well below chance (2.30) when the
 * point comes.
 */
const BASE = {
  data: { dataset: 'fashion-mnist', trainLimit: 512, testLimit: 500, augment: false },
  train: { model: 'tiny', epochs: 4, batchSize: 16, seed: 1 },
  prune: { pruner: 'depgraph', target: 0.3, startAt: 0.4, points: 1, decaySteps: 20, telemetryEvery: 2 },
} as const;

function preset(overrides: { data?: object; train?: object; prune?: object }): ExperimentConfig {
  return experimentSchema.parse({
    data: { ...BASE.data, ...overrides.data },
    train: { ...BASE.train, ...overrides.train },
    prune: { ...BASE.prune, ...overrides.prune },
  });
}

export const LESSONS: readonly Lesson[] = [
  {
    id: 'abrupt-vs-smooth',
    title: 'Abrupt vs smooth pruning at the same target',
    question: 'The same network, seed and batches are cut to 30 % of their FLOPs once: all at once, or decayed over 20 steps. What does each do to training?',
    watch: [
      'The Loss chart at the pruning point (marked on the chart): a jump for abrupt, a bend for SP.',
      'What pruning did: the peak rise of the smoothed loss and the steps it takes to come back, per run (switch runs with View run).',
      'Compare runs: kept FLOPs fall at the point for abrupt, and for SP only when its 20-step decay ends (a decaying channel still costs its FLOPs); test accuracy per epoch on the same axes.',
    ],
    see: 'Abrupt pruning makes the training loss jump right after the point: its peak rise in What pruning did is larger than SP’s and takes more steps to recover from, while SP’s channels fade over 20 steps and the rest of the network takes over their work. Both end at the same kept FLOPs.',
    why: 'Removing 70 % of the FLOPs at once takes away features the next layers were using; the loss rises until training re-learns them. Smooth Pruning multiplies the same channels by a factor that falls to zero over N steps, so every step’s change is small and the gradient can move their work elsewhere as they fade.',
    config: preset({ prune: { schedule: 'abrupt' } }),
    schedules: ['abrupt', 'sp'],
    view: 'abrupt',
    focus: ['damage', 'loss', 'compare'],
  },
  {
    id: 'self-rectifying',
    title: 'What Self-Rectifying rescues',
    question: 'While chosen channels decay, some push back: their gradient grows them against the decay. Self-Rectifying gives those back to the network. What does that rescue, and what does it cost?',
    watch: [
      'The rectification timeline under the decay map: each release, when it happened and how far the channel had decayed.',
      'Click a release: its channel’s trajectory shows its norm falling with the decay and then training on.',
      'The decay map: a released channel’s row stops fading; the pruner picks a replacement, which starts its own decay.',
      'Compare runs: SP and SP+SR from the same seed, side by side; the Loss chart of SP+SR late in the run.',
    ],
    see: 'Ten steps into the decay, the SP+SR run gives back one channel the pruner had chosen (a stem channel at 55 % of its norm: its update grew it by 1.2 plain gradient steps, with a gradient 1.6 times its layer’s), while the SP run decays every chosen channel to zero. The pruner picks a replacement in another layer, which decays in its place, so both runs end at the target (29 % and 27.5 % of the FLOPs) and within about a point of each other in test accuracy. SR does not win here: on this short run it changes which channels go, not how well the network does.',
    why: 'SR watches every decaying channel during the first half of its decay. When an update pushed its norm back up against the decay (C_rate above T_rate) with a gradient large for its layer (C_len above T_len), the loss wants that channel: SR stops its decay and lets it train on, and the pruner meets the target with the next-best channel instead. The criteria are scale-free and these are their default thresholds (T_rate 1, T_len 1.5; docs/method.md). Later in a decay the network has adapted to the channel’s absence, and in the last N steps of a run a replacement could not finish decaying, so SR releases nothing there.',
    config: preset({ prune: { schedule: 'sp' } }),
    schedules: ['sp', 'sr'],
    view: 'sr',
    focus: ['rectifications', 'decay', 'compare'],
  },
  {
    id: 'mid-decay-dip',
    title: 'Why mid-decay evaluation dips',
    question: 'Smooth Pruning never cuts anything at once, yet an evaluation made during a decay can fall sharply. Is the network really worse?',
    watch: [
      'Accuracy per epoch: epochs are 16 steps here, and the evaluation of epoch 6 falls two thirds into the 24-step decay.',
      'The callout: each epoch that ended mid-decay, with its test accuracy (evaluation mode) beside its training accuracy (the same network on its own batches).',
      'What pruning did: the training loss barely rises during the decay.',
    ],
    see: 'The test accuracy of an epoch that ends mid-decay falls below the epoch before the pruning point while the training accuracy of the same epoch stays level or rises, and test accuracy is back once the decay is over.',
    why: 'Evaluation normalises each channel with batch norm’s running mean and variance, an average over the last ~10 training steps. During a decay the channels shrink every step, so at evaluation those statistics describe larger channels than the ones there; training mode normalises with the current batch and does not see the lag. Recalibrating the statistics on a few batches before evaluating would show the network as it is.',
    // A higher learning rate and a later point: accuracy has levelled off when the decay starts,
    // and epoch 6 ends 16 steps into the 24-step decay, when its channels shrink fastest.
    config: preset({ data: { trainLimit: 256 }, train: { epochs: 10, lr: 0.2 }, prune: { schedule: 'sp', startAt: 0.5, decaySteps: 24 } }),
    schedules: ['sp'],
    view: 'sp',
    focus: ['accuracy', 'damage'],
  },
];

export const LESSON_BY_ID: ReadonlyMap<string, Lesson> = new Map(LESSONS.map((l) => [l.id, l]));

/** The lesson's config for one of its runs. */
export function lessonRunConfig(lesson: Pick<Lesson, 'config'>, schedule: ScheduleName, config: ExperimentConfig = lesson.config): ExperimentConfig {
  return { ...config, prune: { ...config.prune, schedule } };
}

/**
 * Where a lesson run's recording is, relative to the page (public/lessons/ in the repository);
 * '{schedule}' gives the pattern `cli compare --record` fills in.
 */
export function recordingPath(id: LessonId, schedule: ScheduleName | '{schedule}'): string {
  return `lessons/${id}.${schedule}.json`;
}

/** The URL key that opens a lesson; every other key is a config field (src/url/fields.ts). */
export const LESSON_KEY = 'lesson';

/** A link that opens the lesson on the page at `location` (same origin and path, so sub-path deploys keep working). */
export function lessonUrl(id: LessonId, location: Pick<Location, 'origin' | 'pathname'>): string {
  return `${location.origin}${location.pathname}?${LESSON_KEY}=${id}`;
}
