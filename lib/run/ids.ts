// The id rule: what run, benchmark, task and dataset ids may hold, how text is made into one, and how new
// ones are made. Pure (no Node built-ins): config schemas, the CLI, the artifact store and workflow code use it.

/** The characters of an id: it names a workflow, a folder (tasks/<id>, artifacts/runs/<id>) and a container label. */
const ID_CHARS = 'A-Za-z0-9_.-';
/** A model id may also hold ":" (`openai:<model>`). */
const MODEL_ID_CHARS = 'A-Za-z0-9_.:-';

/** A whole id: one or more of its characters. */
export const ID_PATTERN = new RegExp(`^[${ID_CHARS}]+$`);
/** What an id may hold, for messages ("expected …"). */
export const ID_EXPECTED = 'letters, digits, "_", "." or "-"';

/** A model registry id. */
export const MODEL_ID_PATTERN = new RegExp(`^[${MODEL_ID_CHARS}]+$`);
export const MODEL_ID_EXPECTED = 'letters, digits, "_", ".", ":" or "-"';

export function isId(text: string): boolean {
  return ID_PATTERN.test(text);
}

/** `text` as an id: every run of characters an id may not hold becomes one "_". */
export function toId(text: string): string {
  return text.replace(new RegExp(`[^${ID_CHARS}]+`, 'g'), '_');
}

/** `text` as a model id: every character a model id may not hold becomes "_". */
export function toModelId(text: string): string {
  return text.replace(new RegExp(`[^${MODEL_ID_CHARS}]`, 'g'), '_');
}

/** A model spec as ids name it: a replay file by its file name only. */
export function modelInId(model: string): string {
  return model.replace(/^replay:.*\//, 'replay:');
}

/** A readable, unique run id (also the workflow id): run-<task>-<model>-<seed>-<short id>. */
export function newRunId(taskId: string, model: string, seed: number): string {
  return `run-${taskId}-${toId(modelInId(model)).slice(0, 40)}-${seed}-${randomHex(3)}`;
}

/** A new benchmark id (also the workflow id): bench-[<suite>-]<short id>. */
export function newBenchId(suite: string | undefined): string {
  return `bench-${suite ? `${suite}-` : ''}${randomHex(3)}`;
}

/** `bytes` random bytes in hex (Web Crypto, so this module needs no Node import; never called by workflow code). */
function randomHex(bytes: number): string {
  return Array.from(globalThis.crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
