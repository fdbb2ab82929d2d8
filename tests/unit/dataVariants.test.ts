import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkTaskData, ConfigError, loadTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import { buildContext, contextHash, dockerfile, offeredWheels, pipCert } from '../../lib/sandbox/images.js';

/** A task with one dataset that has real data (not prepared) and a fixture (generated). */
function taskWithFixture(opts: { fixture?: boolean; gpus?: number } = {}) {
  const root = mkdtempSync(join(tmpdir(), 'mlgym-variants-'));
  mkdirSync(join(root, 'task'));
  mkdirSync(join(root, 'datasets/fixtures/toy'), { recursive: true });
  mkdirSync(join(root, 'datasets/fixtures/toy.private'), { recursive: true });
  const fixture = opts.fixture === false ? '' : 'fixture:\n  generator: fixtures/toy.py\n  local_path: fixtures/toy\n  private_path: fixtures/toy.private\n';
  writeFileSync(join(root, 'datasets/toy.yaml'), `name: toy\ndata_path: someone/toy\nlocal_path: local/toy\nprivate_path: local/toy.private\nprepare: prepare/toy.py\n${fixture}`);
  writeFileSync(join(root, 'task/evaluate.py'), 'print(1)\n');
  writeFileSync(
    join(root, 'task/task.yaml'),
    [
      'id: toyTask',
      'name: toy',
      'description: a toy task',
      'dataset_configs: [toy.yaml]',
      'evaluation_paths: [evaluate.py]',
      'metrics: [{ name: accuracy, direction: max }]',
      'primary_metric: accuracy',
      'baseline_scores: [{ accuracy: 0.5 }]',
      'baseline_noise: { accuracy: 0.01 }',
      'fixture_baseline_scores: [{ accuracy: 0.9 }]',
      `resources: { gpus: ${opts.gpus ?? 2} }`,
      '',
    ].join('\n'),
  );
  return { file: join(root, 'task/task.yaml'), datasets: join(root, 'datasets') };
}

describe('data variants', () => {
  it('real: the prepared folders, the real baseline and the task GPUs', () => {
    const { file, datasets } = taskWithFixture();
    const task = loadTask(file, datasets);
    expect(task.data).toBe('real');
    expect(task.datasets[0]!.dataDir).toBe(join(datasets, 'local/toy'));
    expect(task.datasets[0]!.privateDir).toBe(join(datasets, 'local/toy.private'));
    expect(task.baseline_scores).toEqual([{ accuracy: 0.5 }]);
    expect(task.resources.gpus).toBe(2);
  });

  it('fixture: the fixture folders, the fixture baseline and no GPU unless asked', () => {
    const { file, datasets } = taskWithFixture();
    const task = loadTask(file, datasets, { data: 'fixture' });
    expect(task.datasets[0]!.dataDir).toBe(join(datasets, 'fixtures/toy'));
    expect(task.datasets[0]!.privateDir).toBe(join(datasets, 'fixtures/toy.private'));
    expect(task.baseline_scores).toEqual([{ accuracy: 0.9 }]);
    expect(task.baseline_noise).toEqual({});
    expect(task.resources.gpus).toBe(0);
    expect(loadTask(file, datasets, { data: 'fixture', gpus: 1 }).resources.gpus).toBe(1);
    expect(() => checkTaskData(task)).not.toThrow();
  });

  it('missing real data names the dataset file, the field and the command that fetches it', () => {
    const { file, datasets } = taskWithFixture();
    const error = (() => {
      try {
        checkTaskData(loadTask(file, datasets));
      } catch (err) {
        return err as ConfigError;
      }
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error!.file).toBe(join(datasets, 'toy.yaml'));
    expect(error!.problems[0]!.path).toBe('local_path');
    expect(error!.problems[0]!.message).toContain('`mlgym prepare toyTask` (downloads someone/toy from Hugging Face), or use --data fixture');
  });

  it('a dataset without a fixture cannot run with --data fixture', () => {
    const { file, datasets } = taskWithFixture({ fixture: false });
    expect(() => loadTask(file, datasets, { data: 'fixture' })).toThrow(/toy\.yaml: invalid configuration\n {2}- fixture: expected a fixture/);
  });

  it('fixture scores must name declared metrics', () => {
    const { file, datasets } = taskWithFixture();
    writeFileSync(file, readFileSync(file, 'utf8').replace('fixture_baseline_scores: [{ accuracy: 0.9 }]', 'fixture_baseline_scores: [{ acc: 0.9 }]'));
    expect(() => loadTask(file, datasets)).toThrow(/fixture_baseline_scores\[0\]\.acc: expected a declared metric/);
  });
});

describe('task images and pip', () => {
  const requirements = '# comment\ntorch==2.15.0\ntransformers[torch]>=5 ; python_version >= "3.10"\n';

  it("offers only the find-links wheels of the requirements' projects", () => {
    const links = mkdtempSync(join(tmpdir(), 'mlgym-wheels-'));
    for (const w of ['torch-2.15.0+cpu-cp311-cp311-linux_x86_64.whl', 'Transformers-5.24.0-py3-none-any.whl', 'numpy-2.0.0-cp311-cp311-linux_x86_64.whl', 'torch.txt']) writeFileSync(join(links, w), 'x');
    expect(offeredWheels(requirements, { PIP_FIND_LINKS: `${links} https://example.org/simple` }).map((w) => w.slice(links.length + 1))).toEqual([
      'Transformers-5.24.0-py3-none-any.whl',
      'torch-2.15.0+cpu-cp311-cp311-linux_x86_64.whl',
    ]);
    expect(offeredWheels(requirements, { PIP_FIND_LINKS: join(links, 'missing') })).toEqual([]);
  });

  it('installs with --find-links and the machine CA bundle when there are any, and hashes the wheel set', () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlgym-ctx-'));
    const links = mkdtempSync(join(tmpdir(), 'mlgym-wheels-'));
    writeFileSync(join(dir, 'requirements.txt'), requirements);
    writeFileSync(join(dir, 'ca.pem'), 'a certificate');
    const task = { ...loadTask(taskWithFixture().file, taskWithFixture().datasets), dir, requirements_path: 'requirements.txt', apt_packages: [] };
    const plain = buildContext(task, {});
    expect(plain.wheels).toEqual([]);
    expect(dockerfile(task)).not.toContain('find-links');

    writeFileSync(join(links, 'torch-2.15.0+cpu-cp311-cp311-linux_x86_64.whl'), 'cpu build');
    const env = { MLGYM_PIP_FIND_LINKS: links, PIP_CERT: join(dir, 'ca.pem') };
    expect(pipCert(env)).toBe(join(dir, 'ca.pem'));
    const offered = buildContext(task, env);
    expect(offered.wheels).toEqual([join(links, 'torch-2.15.0+cpu-cp311-cp311-linux_x86_64.whl')]);
    const file = offered.entries.find((e) => e.name === 'Dockerfile')!.content as string;
    expect(file).toContain('COPY wheels /tmp/wheels');
    expect(file).toContain('PIP_CERT=/tmp/pip-ca.pem pip3 install --no-cache-dir -q --find-links /tmp/wheels -r /tmp/requirements.txt');
    expect(offered.entries.find((e) => e.name === 'wheels/MANIFEST')!.content).toBe('torch-2.15.0+cpu-cp311-cp311-linux_x86_64.whl 9\n');

    const before = contextHash(offered.entries, 'base');
    writeFileSync(join(links, 'torch-2.15.0+cpu-cp311-cp311-linux_x86_64.whl'), 'a rebuilt cpu build');
    expect(contextHash(buildContext(task, env).entries, 'base')).not.toBe(before);
    expect(contextHash(plain.entries, 'base')).not.toBe(before);
  });
});

describe('requirements for runs given GPUs', () => {
  const rl = () => taskFile('rlMountainCarContinuous');
  const requirementsOf = (gpus: number) => {
    const { entries } = buildContext(loadTask(rl(), datasetsDir, { gpus }), {});
    return { text: String(entries.find((e) => e.name === 'requirements.txt')!.content), hash: contextHash(entries, 'base') };
  };

  it("builds a run with GPUs from gpu_requirements_path (CUDA JAX) and one without from requirements_path (CPU JAX)", () => {
    expect(loadTask(rl(), datasetsDir, { data: 'fixture' }).requirements_path).toBe('../requirements/rl.txt');
    expect(loadTask(rl(), datasetsDir).requirements_path).toBe('../requirements/rl-cuda.txt');
    const cpu = requirementsOf(0);
    const gpu = requirementsOf(2);
    expect(cpu.text).toMatch(/^jax==0\.10\.2$/m);
    expect(gpu.text).toMatch(/^jax\[cuda12\]==0\.10\.2$/m);
    expect(gpu.hash).not.toBe(cpu.hash);
  });

  it('keeps requirements_path for a task without gpu_requirements_path', () => {
    expect(loadTask(taskFile('imageClassificationCifar10'), datasetsDir, { gpus: 1 }).requirements_path).toBe('../requirements/torch.txt');
  });

  it('names the field of a requirements file that does not exist', () => {
    const { file, datasets } = taskWithFixture();
    writeFileSync(file, readFileSync(file, 'utf8') + 'gpu_requirements_path: cuda.txt\n');
    expect(() => loadTask(file, datasets)).toThrow(/gpu_requirements_path: expected a file in .*"cuda\.txt" does not exist/);
  });
});
