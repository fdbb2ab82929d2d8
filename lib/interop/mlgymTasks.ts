import type { Direction } from '../config/schema.js';

export interface KnownMetric {
  name: string;
  direction: Direction;
}

/** What MLGym keeps outside its task YAMLs for a task: the priority metric first, then the others it reports. */
export interface KnownTaskMetrics {
  primary: KnownMetric;
  others: KnownMetric[];
}

const max = (name: string): KnownMetric => ({ name, direction: 'max' });
const min = (name: string): KnownMetric => ({ name, direction: 'min' });

/**
 * The 13 MLGym-Bench tasks' metrics, from MLGym's `mlgym/evaluation/utils.py:TASKS` (priority metric and
 * direction). The secondary metrics are those the tasks' evaluation scripts print next to it and their
 * YAMLs' baseline_scores name (3SATTime's Correct and Incorrect, the RL tasks' Reward Std).
 */
export const MLGYM_TASK_METRICS: Readonly<Record<string, KnownTaskMetrics>> = {
  regressionKaggleHousePrice: { primary: max('r2'), others: [min('rmse')] },
  '3SATTime': { primary: min('Time'), others: [max('Correct'), min('Incorrect'), min('Decisions')] },
  imageClassificationCifar10: { primary: max('accuracy'), others: [] },
  imageClassificationFMnist: { primary: max('accuracy'), others: [] },
  imageCaptioningCOCO: { primary: max('BLEU Score'), others: [] },
  languageModelingFineWeb: { primary: min('val_loss'), others: [] },
  naturalLanguageInferenceMNLI: { primary: max('validation_accuracy'), others: [] },
  battleOfSexes: { primary: max('Score'), others: [] },
  prisonersDilemma: { primary: max('Score'), others: [] },
  blotto: { primary: max('Score'), others: [] },
  rlBreakoutMinAtar: { primary: max('Reward Mean'), others: [min('Reward Std')] },
  rlMetaMazeMisc: { primary: max('Reward Mean'), others: [min('Reward Std')] },
  rlMountainCarContinuous: { primary: max('Reward Mean'), others: [min('Reward Std')] },
};

export function knownTaskMetrics(taskId: string): KnownTaskMetrics | undefined {
  return Object.hasOwn(MLGYM_TASK_METRICS, taskId) ? MLGYM_TASK_METRICS[taskId] : undefined;
}

/**
 * The MLGym-Bench task a task id varies, when it is one of them followed by more (MLGym's configs hold
 * variants such as a bench task's id with a suffix): the longest such id.
 */
export function benchTaskVaried(taskId: string): string | undefined {
  return Object.keys(MLGYM_TASK_METRICS)
    .filter((id) => taskId.length > id.length && taskId.startsWith(id))
    .sort((a, b) => b.length - a.length)[0];
}

/**
 * Metric names whose direction needs no telling (compared case-insensitively, with spaces, "-" and "_"
 * alike): errors, losses and times fall, accuracies, scores and rewards rise. A spread (Reward Std) is
 * counted as falling, as this repository's RL tasks declare it.
 */
const DIRECTION_BY_NAME: Readonly<Record<string, Direction>> = Object.fromEntries([
  ...[
    'accuracy', 'acc', 'validation_accuracy', 'val_accuracy', 'valid_accuracy', 'test_accuracy', 'balanced_accuracy', 'top1', 'top5',
    'f1', 'f1_score', 'macro_f1', 'micro_f1', 'precision', 'recall', 'auc', 'roc_auc', 'auroc', 'map', 'iou', 'miou', 'dice',
    'r2', 'r2_score', 'bleu', 'bleu_score', 'rouge', 'rouge_l', 'meteor', 'score', 'reward', 'reward_mean', 'mean_reward', 'return', 'mean_return', 'correct', 'win_rate',
  ].map((n) => [n, 'max' as const]),
  ...[
    'rmse', 'mse', 'mae', 'rmsle', 'msle', 'mape', 'loss', 'val_loss', 'valid_loss', 'validation_loss', 'test_loss', 'train_loss', 'log_loss', 'logloss', 'cross_entropy', 'nll',
    'error', 'error_rate', 'err', 'wer', 'cer', 'perplexity', 'ppl', 'val_perplexity', 'time', 'runtime', 'latency', 'incorrect', 'decisions', 'reward_std',
  ].map((n) => [n, 'min' as const]),
]);

/** The direction a metric's name gives away (rmse → min, accuracy → max), or undefined when it does not. */
export function directionByName(name: string): Direction | undefined {
  const key = name.trim().toLowerCase().replace(/[\s-]+/g, '_');
  return Object.hasOwn(DIRECTION_BY_NAME, key) ? DIRECTION_BY_NAME[key] : undefined;
}
