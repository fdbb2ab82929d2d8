import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files of a parallel group start longest first, so that the long ones do not end up as the suite's
 * tail. Vitest orders by the durations of an earlier run, which a fresh clone (CI) does not have; these
 * are the files' durations in seconds in a fresh-clone run of `bash .ci/run` on a 2-core machine, four files at
 * a time (files not listed take under 19 s).
 */
const SECONDS: Record<string, number> = {
  'tests/training/rlTasks.test.ts': 638,
  'tests/training/fineWebArchitecture.test.ts': 468,
  'tests/training/languageTasks.test.ts': 445,
  'tests/training/imageTasks.test.ts': 345,
  'tests/integration/redTeam.test.ts': 197,
  'tests/integration/workspaceSnapshot.test.ts': 139,
  'tests/integration/multiHost.test.ts': 130,
  'tests/integration/chaos.test.ts': 81,
  'tests/integration/cpuTasks.test.ts': 77,
  'tests/integration/cliWorker.test.ts': 62,
  'tests/integration/benchmark.test.ts': 62,
  'tests/integration/exploits.test.ts': 58,
  'tests/integration/replyCrash.test.ts': 52,
  'tests/workflow/benchmark.test.ts': 48,
  'tests/integration/versioning.test.ts': 48,
  'tests/integration/continueAsNew.test.ts': 46,
  'tests/integration/gym.test.ts': 44,
  'tests/integration/gymPython.test.ts': 40,
  'tests/integration/control.test.ts': 39,
  'tests/integration/fork.test.ts': 28,
  'tests/integration/sandboxStream.test.ts': 27,
  'tests/integration/baselineRun.test.ts': 27,
  'tests/integration/sandbox.test.ts': 27,
  'tests/integration/rescore.test.ts': 25,
  'tests/integration/starterBaselines.test.ts': 24,
  'tests/integration/llmRun.test.ts': 24,
  'tests/integration/gymWorkerKill.test.ts': 20,
  'tests/integration/prepareFrom.test.ts': 20,
  'tests/integration/mlgymFolder.test.ts': 19,
  'tests/integration/tools.test.ts': 19,
};

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (spec: TestSpecification) => SECONDS[relative(this.ctx.config.root, spec.moduleId)] ?? 0;
    const ordered = await super.sort(files);
    const position = new Map(ordered.map((spec, i) => [spec, i]));
    return ordered.sort(
      (a, b) => a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder || seconds(b) - seconds(a) || position.get(a)! - position.get(b)!,
    );
  }
}
