import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files of a parallel group start longest first, so that the long ones do not end up as the suite's
 * tail. Vitest orders by the durations of an earlier run, which a fresh clone (CI) does not have; these
 * are the files' durations in seconds on a 2-core CI machine, rounded (files not listed are short).
 */
const SECONDS: Record<string, number> = {
  'tests/training/fineWebArchitecture.test.ts': 345,
  'tests/training/rlTasks.test.ts': 320,
  'tests/training/languageTasks.test.ts': 230,
  'tests/training/imageTasks.test.ts': 200,
  'tests/integration/benchmark.test.ts': 270,
  'tests/integration/multiHost.test.ts': 140,
  'tests/integration/versioning.test.ts': 140,
  'tests/integration/cliWorker.test.ts': 120,
  'tests/integration/gymPython.test.ts': 110,
  'tests/integration/chaos.test.ts': 110,
  'tests/integration/redTeam.test.ts': 105,
  'tests/integration/continueAsNew.test.ts': 45,
  'tests/integration/gym.test.ts': 85,
  'tests/integration/cpuTasks.test.ts': 80,
  'tests/integration/replyCrash.test.ts': 70,
  'tests/integration/llmRun.test.ts': 70,
  'tests/integration/exploits.test.ts': 60,
  'tests/integration/baselineRun.test.ts': 55,
  'tests/integration/workspaceSnapshot.test.ts': 55,
  'tests/integration/detached.test.ts': 55,
  'tests/integration/gymBench.test.ts': 55,
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
