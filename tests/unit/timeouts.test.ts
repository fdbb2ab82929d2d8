import { describe, expect, it } from 'vitest';
import { commandTimeoutS } from '../../lib/tools/timeouts.js';

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
  ])('%s → %i s', (command, expected) => {
    expect(commandTimeoutS(command, task)).toBe(expected);
  });
});
