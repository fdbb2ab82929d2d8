import { describe, expect, it } from 'vitest';
import { commandTimeoutS, isLongRunning } from '../../lib/tools/timeouts.js';

const task = { training_timeout: 1800, command_timeout: 120 };

describe('command timeouts', () => {
  it.each([
    ['python3 train.py --epochs 10', 1800],
    ['cd src && python train.py', 1800],
    ['CUDA_VISIBLE_DEVICES=0 torchrun --nproc_per_node=2 train.py', 1800],
    ['nohup python3 train.py > log.txt 2>&1', 1800],
    ['bash run_experiments.sh', 1800],
    ['ls -la | grep csv', 120],
    ['echo "python is great"', 120],
    ['cat train.py', 120],
    ['open train.py 40', 120],
    ['grep -r python .', 120],
    // A shell -c is decided by its script: a wrapper does not make every command a long one.
    ['bash -c ":(){ :|:& };:"', 120],
    ['bash -c "ls -la && cat notes.txt"', 120],
    ['sh -c \'cd src && python3 train.py\'', 1800],
    ['timeout 100 bash -c "sleep 5"', 120],
    ['nohup bash -lc "torchrun train.py" > log 2>&1 &', 1800],
    ['env FOO=1 /bin/bash -c "pip install -e ."', 1800],
    ['eval "python train.py"', 1800],
    ['eval ls', 120],
    // A shell running a script (a file, or one on its stdin) may train.
    ['bash < run.sh', 1800],
    ['cat run.sh | sh', 1800],
    ['bash <<EOF\necho hi\nEOF', 1800],
  ])('%s → %i s', (command, expected) => {
    expect(commandTimeoutS(command, task)).toBe(expected);
  });

  it('looks into nested shell scripts, and treats absurd nesting as long', () => {
    expect(isLongRunning(`bash -c 'bash -c "make all"'`)).toBe(true);
    expect(isLongRunning(`bash -c 'bash -c "echo done"'`)).toBe(false);
    const nested = (depth: number): string => (depth === 0 ? 'echo hi' : `bash -c ${JSON.stringify(nested(depth - 1))}`);
    expect(isLongRunning(nested(3))).toBe(false);
    expect(isLongRunning(nested(8))).toBe(true);
  });
});
