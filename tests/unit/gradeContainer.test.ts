import { describe, expect, it } from 'vitest';
import { loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { evaluatorEnv, GRADER_CAPABILITIES, GRADER_WORKSPACE, graderEntries, SANDBOX_UID } from '../../lib/sandbox/grader.js';
import { AGENT_UID } from '../../lib/sandbox/docker.js';

describe("the grader container's files and environment", () => {
  const task = loadTask(taskFile('prisonersDilemma'), datasetsDir);

  it('places the evaluation script and private files readable by root alone', () => {
    const entries = graderEntries(task);
    const names = entries.map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['grader', 'grader/evaluate.py', 'grader/target.py', 'srv/mlgym', 'srv/mlgym/home', 'srv/mlgym/tmp']));
    for (const e of entries) {
      expect([e.uid, e.gid], e.name).toEqual([0, 0]);
      expect(e.mode & 0o077, `${e.name} is reachable by other users`).toBe(0);
      expect(e.mode, e.name).toBe(e.content === undefined ? 0o700 : e.mode & 0o100 ? 0o700 : 0o600);
    }
  });

  it("gives each split's evaluation only that split's secrets, and the sandbox a user of its own", () => {
    const validation = evaluatorEnv(task, 'validation');
    expect(validation).toContain(`MLGYM_SECRETS=${JSON.stringify(task.split_secrets.validation)}`);
    expect(validation.join('\n')).not.toContain(String(task.split_secrets.test.seed));
    expect(validation).toContain(`MLGYM_WORKSPACE=${GRADER_WORKSPACE}`);
    expect(validation).toContain(`MLGYM_SANDBOX_UID=${SANDBOX_UID}`);
    expect(validation.some((v) => v.startsWith('MLGYM_SANDBOX_UNISOLATED'))).toBe(false);
    expect(GRADER_WORKSPACE.startsWith('/srv/mlgym/')).toBe(true);
    expect([0, AGENT_UID]).not.toContain(SANDBOX_UID);
    expect(GRADER_CAPABILITIES).toEqual(['SETUID', 'SETGID']);
  });
});
