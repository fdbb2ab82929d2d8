/** Exit categories in display order (MLGym's EXIT_STATUS_MAP; a run can carry two: how it ended and why). */
export const EXIT_CATEGORIES = [
  'Submitted',
  'Autosubmission',
  'Evaluation error',
  'Forfeit',
  'Max steps',
  'Format',
  'Context',
  'Cost',
  'API error',
  'Runtime error',
  'Cancelled',
  'Running',
  'Unknown',
] as const;
export type ExitCategory = (typeof EXIT_CATEGORIES)[number];

const OUTCOMES: [RegExp, ExitCategory][] = [
  [/^submitted\b/, 'Submitted'],
  [/^autosubmission\b/, 'Autosubmission'],
  [/^(submission_not_found|evaluation_format_error)\b/, 'Evaluation error'],
  [/^exit_forfeit$/, 'Forfeit'],
  [/^running$/, 'Running'],
];

const REASONS: Record<string, ExitCategory> = {
  max_steps: 'Max steps',
  exit_format: 'Format',
  exit_context: 'Context',
  exit_cost: 'Cost',
  exit_api: 'API error',
  exit_error: 'Runtime error',
  exit_cancel: 'Cancelled',
};

/**
 * The categories of an exit status: `evaluation_format_error (exit_context)` → Evaluation error and
 * Context; a bare reason (`exit_error`) → its reason; anything else (MLGym's `<Exception>, <msg>, (…)`) → Unknown.
 */
export function exitCategories(exitStatus: string): ExitCategory[] {
  const status = exitStatus.trim();
  const tags: ExitCategory[] = [];
  const outcome = OUTCOMES.find(([pattern]) => pattern.test(status));
  if (outcome) tags.push(outcome[1]);
  const reason = /\((\w+)\)$/.exec(status)?.[1] ?? status;
  if (Object.hasOwn(REASONS, reason)) tags.push(REASONS[reason]!);
  return tags.length ? tags : ['Unknown'];
}

/** Action categories in display order (MLGym's action analysis, plus Exit for the exit_* pseudo-actions). */
export const ACTION_CATEGORIES = ['Edit', 'View', 'Validate', 'Submit', 'Python', 'Search', 'Bash', 'Exit'] as const;
export type ActionCategory = (typeof ACTION_CATEGORIES)[number];

const COMMAND_WORDS: Partial<Record<ActionCategory, string>> = {
  Edit: 'edit insert create append',
  View: 'open goto scroll_up scroll_down cat head tail less more ls tree wc nl stat file du',
  Validate: 'validate',
  Submit: 'submit',
  Python: 'python python3 ipython torchrun accelerate deepspeed',
  Search: 'search_dir search_file find_file grep egrep rg find literature_search',
};
const COMMANDS = new Map(Object.entries(COMMAND_WORDS).flatMap(([category, words]) => words.split(' ').map((w) => [w, category as ActionCategory] as const)));

/**
 * The category of an action: by the first word of its first line, after any leading `cd <dir> &&` and
 * `VAR=value` words (so `cd src && python train.py` is Python). Unknown commands are Bash.
 */
export function actionCategory(action: string): ActionCategory {
  const line = (action.trim().split('\n')[0] ?? '').replace(/^(\s*cd\s+\S+\s*(&&|;)\s*)+/, '');
  const words = line.trim().split(/\s+/).filter((w) => !/^[A-Za-z_][A-Za-z0-9_]*=/.test(w));
  const command = (words[0] ?? '').replace(/^.*\//, '');
  if (/^exit_\w+$/.test(command) || command === 'max_steps') return 'Exit';
  return COMMANDS.get(command) ?? 'Bash';
}
