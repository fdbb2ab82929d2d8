import { relative } from 'node:path';
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files of a parallel group start longest first, so that the long ones do not end up as the suite's
 * tail. Vitest orders by the durations of an earlier run, which a fresh clone (CI) does not have; these
 * are the files' durations in seconds in a fresh-clone run of `bash .ci/run` on a 2-core machine, four files at
 * a time (files not listed take under 15 s).
 */
const SECONDS: Record<string, number> = {
  'tests/training/rlTasks.test.ts': 746,
  'tests/training/fineWebArchitecture.test.ts': 507,
  'tests/training/languageTasks.test.ts': 468,
  'tests/training/imageTasks.test.ts': 353,
  'tests/integration/benchmark.test.ts': 226,
  'tests/integration/redTeam.test.ts': 195,
  'tests/integration/multiHost.test.ts': 182,
  'tests/integration/chaos.test.ts': 128,
  'tests/integration/gymPython.test.ts': 123,
  'tests/integration/cliWorker.test.ts': 104,
  'tests/integration/gym.test.ts': 101,
  'tests/integration/cpuTasks.test.ts': 98,
  'tests/integration/versioning.test.ts': 96,
  'tests/integration/workspaceSnapshot.test.ts': 96,
  'tests/integration/exploits.test.ts': 61,
  'tests/integration/replyCrash.test.ts': 59,
  'tests/integration/llmRun.test.ts': 51,
  'tests/integration/detached.test.ts': 47,
  'tests/integration/baselineRun.test.ts': 46,
  'tests/integration/control.test.ts': 41,
  'tests/integration/continueAsNew.test.ts': 38,
  'tests/integration/gymBench.test.ts': 35,
  'tests/integration/s3Run.test.ts': 31,
  'tests/integration/starterBaselines.test.ts': 29,
  'tests/integration/fork.test.ts': 27,
  'tests/integration/sandboxStream.test.ts': 27,
  'tests/integration/gymWorkerKill.test.ts': 23,
  'tests/integration/prepareFrom.test.ts': 23,
  'tests/integration/sandbox.test.ts': 23,
  'tests/workflow/benchmark.test.ts': 22,
  'tests/integration/rescore.test.ts': 21,
  'tests/integration/mlgymProtocol.test.ts': 20,
  'tests/integration/mlgymFolder.test.ts': 17,
  'tests/integration/tools.test.ts': 17,
  'tests/integration/gc.test.ts': 15,
  'tests/integration/report-bench.test.ts': 15,
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
