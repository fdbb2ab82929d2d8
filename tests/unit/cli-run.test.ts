import { describe, expect, it } from 'vitest';
import { mlgym } from '../helpers/cli.js';

describe('mlgym run: which task', () => {
  it('exits 2 for a task YAML that is not there, naming the path', async () => {
    const r = await mlgym({}, 'run', 'tests/fixtures/no-such-task.yaml', '--model', 'baseline');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('no task file "tests/fixtures/no-such-task.yaml"');
  });

  it('exits 2 for an unknown task id and says a YAML path works too', async () => {
    const r = await mlgym({}, 'run', 'noSuchTask', '--model', 'baseline');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('unknown task "noSuchTask"');
    expect(r.stderr).toContain('or give the path of a task YAML');
  });

  it('exits 2 for a task YAML that does not validate, naming its file', async () => {
    const r = await mlgym({}, 'run', 'tests/fixtures/bad-task.yaml', '--model', 'baseline', '--json');
    expect(r.status).toBe(2);
    expect(JSON.parse(r.stdout).file).toContain('bad-task.yaml');
  });
});
