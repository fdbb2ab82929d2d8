import { defaultDeps, type ActivityDeps } from './context.js';
import { makeProvision, makeSnapshot, reserveGpus } from './provision.js';
import { makeAgentTurn } from './agentTurn.js';
import { makeToolExec } from './toolExec.js';
import { makeGrade } from './grade.js';
import { makeScore } from './score.js';
import { makeTeardown } from './teardown.js';
import { compareWithPrevious, finishedRun, makeBenchRecords, scoreBenchmark } from './benchmark.js';
import { makeExternalObservation } from './external.js';
import { makeForkProvision } from './fork.js';
import { makeMigrate } from './migrate.js';
import { makeRegrade } from './rescore.js';

export function createActivities(deps: ActivityDeps = defaultDeps()) {
  return {
    reserveGpus,
    provision: makeProvision(deps),
    forkProvision: makeForkProvision(deps),
    migrate: makeMigrate(deps),
    snapshot: makeSnapshot(deps),
    agentTurn: makeAgentTurn(deps),
    toolExec: makeToolExec(deps),
    validate: makeGrade(deps, 'validate'),
    submit: makeGrade(deps, 'submit'),
    score: makeScore(deps),
    teardown: makeTeardown(deps),
    regrade: makeRegrade(deps),
    externalObservation: makeExternalObservation(deps),
    finishedRun,
    scoreBenchmark,
    ...makeBenchRecords(deps),
    compareWithPrevious,
  };
}

export type Activities = ReturnType<typeof createActivities>;
