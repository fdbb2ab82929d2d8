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
 * direction). The secondary metrics are those the tasks' evaluation scripts print next to it.
 */
export const MLGYM_TASK_METRICS: Readonly<Record<string, KnownTaskMetrics>> = {
  regressionKaggleHousePrice: { primary: max('r2'), others: [min('rmse')] },
  '3SATTime': { primary: min('Time'), others: [max('Correct'), min('Decisions')] },
  imageClassificationCifar10: { primary: max('accuracy'), others: [] },
  imageClassificationFMnist: { primary: max('accuracy'), others: [] },
  imageCaptioningCOCO: { primary: max('BLEU Score'), others: [] },
  languageModelingFineWeb: { primary: min('val_loss'), others: [] },
  naturalLanguageInferenceMNLI: { primary: max('validation_accuracy'), others: [] },
  battleOfSexes: { primary: max('Score'), others: [] },
  prisonersDilemma: { primary: max('Score'), others: [] },
  blotto: { primary: max('Score'), others: [] },
  rlBreakoutMinAtar: { primary: max('Reward Mean'), others: [] },
  rlMetaMazeMisc: { primary: max('Reward Mean'), others: [] },
  rlMountainCarContinuous: { primary: max('Reward Mean'), others: [] },
};

export function knownTaskMetrics(taskId: string): KnownTaskMetrics | undefined {
  return Object.hasOwn(MLGYM_TASK_METRICS, taskId) ? MLGYM_TASK_METRICS[taskId] : undefined;
}
