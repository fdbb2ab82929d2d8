import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadTask, type LoadedTask } from '../../lib/config/load.js';
import { datasetsDir, taskFile } from '../../lib/home.js';
import type { RunResult } from '../../lib/run/types.js';
import { findAgentContainer, removeRunResources } from '../../lib/sandbox/container.js';
import { execIn } from '../../lib/sandbox/exec.js';
import { gradeWorkspace } from '../../lib/sandbox/grader.js';
import { ensureTaskImage } from '../../lib/sandbox/images.js';
import { copiesIn } from './copies.js';
import { useTestTemporal } from './temporal.js';
import { runInput, startRun } from './runs.js';

/**
 * A safety limit, not a measurement: a fixture's training and grading take 0.5-2 minutes alone and up to
 * about 5 sharing the CPU with the other files of the integration tier.
 */
const FIXTURE_TEST_TIMEOUT_MS = 15 * 60_000;

/** A broken artifact: a shell command run in the workspace after the baseline, and the grader's complaint. */
interface Malformed {
  what: string;
  command: string;
  error: RegExp;
}

const csvCases = (column: string, rows: number): Malformed[] => [
  { what: 'no submission.csv', command: 'rm submission.csv', error: /submission\.csv not found/ },
  { what: 'an empty file', command: ': > submission.csv', error: /submission\.csv is empty/ },
  { what: 'the wrong column', command: `sed -i 1s/.*/prediction/ submission.csv`, error: new RegExp(`needs a column named ${column} \\(found: prediction\\)`) },
  { what: 'a missing row', command: 'sed -i \\$d submission.csv', error: new RegExp(`has ${rows - 1} rows, expected ${rows}`) },
  { what: 'bytes that are not UTF-8 text', command: 'head -c 3000 /dev/urandom > submission.csv', error: /is not a readable CSV file/ },
];

/** A shell command that runs a short Python program in the workspace. */
const pyEdit = (program: string): string => `python3 -c "${program}"`;

const environmentSpecific = ['another environment', 'a wider network than the checkpoints', 'a checkpoint without the network'];
const rlCases: Malformed[] = [
  { what: 'no checkpoints/', command: 'rm -rf checkpoints', error: /submission artefact checkpoints not found in the workspace/ },
  { what: 'four checkpoints', command: 'rm checkpoints/$(ls checkpoints | head -n 1)', error: /must hold exactly 5 \.pkl files \(one per training seed\), found 4/ },
  { what: 'no config.yaml', command: 'rm config.yaml', error: /config\.yaml not found in the workspace/ },
  { what: 'config.yaml that is not YAML', command: "printf 'network: [\\n' > config.yaml", error: /config\.yaml is not valid YAML/ },
  { what: 'another environment', command: 'sed -i "s/^env_name: .*/env_name: CartPole-v1/" config.yaml', error: /env_name must be '.*' for this task, got 'CartPole-v1'/ },
  { what: 'an unknown network setting', command: 'sed -i "s/^network:.*/network:\\n  wings: 2/" config.yaml', error: /unknown network setting\(s\) \['wings'\]/ },
  { what: 'a wider network than the checkpoints', command: 'sed -i "s/hidden_units: [0-9]*/hidden_units: 17/" config.yaml', error: /has shape .* the network config\.yaml describes needs a float array of shape/ },
  { what: 'a checkpoint that pickles code', command: pyEdit("import pickle, os; f=sorted(os.listdir('checkpoints'))[0]; pickle.dump({'network': os.system}, open('checkpoints/'+f, 'wb'))"), error: /is not a readable checkpoint: UnpicklingError: it needs posix\.system/ },
  { what: 'a checkpoint without the network', command: pyEdit("import pickle, os; f=sorted(os.listdir('checkpoints'))[0]; pickle.dump({'seed': 0}, open('checkpoints/'+f, 'wb'))"), error: /must be a pickled dict with the network's variables under the key 'network'/ },
  { what: 'random bytes as a checkpoint', command: 'head -c 3000 /dev/urandom > checkpoints/$(ls checkpoints | head -n 1)', error: /is not a readable checkpoint/ },
];

/** Per task: how its artifact can be broken, and what the grader must say. */
const malformed: Record<string, Malformed[]> = {
  imageClassificationCifar10: [
    ...csvCases('label', 400),
    { what: 'a label that is not a number', command: 'sed -i \\$s/.*/cat/ submission.csv', error: /line 401: label 'cat' is not a number/ },
    { what: 'a class out of range', command: 'sed -i \\$s/.*/10/ submission.csv', error: /label '10' is not a class number 0-9/ },
    { what: 'NaN', command: 'sed -i \\$s/.*/nan/ submission.csv', error: /label 'nan' is not a class number 0-9/ },
  ],
  imageClassificationFMnist: [...csvCases('label', 400), { what: 'a class out of range', command: 'sed -i \\$s/.*/10/ submission.csv', error: /line 401: label '10' is not a class number 0-9/ }],
  imageCaptioningCOCO: [...csvCases('caption', 200)],
  naturalLanguageInferenceMNLI: [
    { what: 'no model folder', command: 'rm -rf bert_mnli_model', error: /submission artefact bert_mnli_model not found in the workspace/ },
    { what: 'no config.json', command: 'rm bert_mnli_model/config.json', error: /bert_mnli_model\/config\.json is missing/ },
    { what: 'weights that are not safetensors', command: 'head -c 3000 /dev/urandom > bert_mnli_model/model.safetensors', error: /cannot load bert_mnli_model\/ with AutoModelForSequenceClassification/ },
    { what: 'a head with 2 labels', command: pyEdit("import json; p='bert_mnli_model/config.json'; c=json.load(open(p)); c['id2label']={'0':'a','1':'b'}; c['label2id']={'a':0,'b':1}; json.dump(c, open(p,'w'))"), error: /the weights in bert_mnli_model\/ do not fit its config\.json|the model has 2 labels, expected 3/ },
  ],
  languageModelingFineWeb: [
    { what: 'no model.pt', command: 'rm model.pt', error: /submission artefact model\.pt not found in the workspace/ },
    { what: 'no model_config.pt', command: 'rm model_config.pt', error: /model_config\.pt not found in the workspace/ },
    { what: 'random bytes as weights', command: 'head -c 3000 /dev/urandom > model.pt', error: /model\.pt must be a state dict of tensors/ },
    { what: 'a whole pickled module', command: pyEdit("import torch; torch.save(torch.nn.Linear(2, 2), 'model.pt')"), error: /model\.pt must be a state dict of tensors/ },
    { what: 'a missing parameter', command: pyEdit("import torch; s=torch.load('model.pt'); s.pop('norm.weight'); torch.save(s, 'model.pt')"), error: /model\.pt does not match GPT\(model_config\): missing \['norm\.weight'\]/ },
    { what: 'NaN weights', command: pyEdit("import torch; s=torch.load('model.pt'); s['norm.weight'][0]=float('nan'); torch.save(s, 'model.pt')"), error: /model\.pt holds NaN or infinite values/ },
    { what: 'a block size below the windows', command: pyEdit("import torch; c=torch.load('model_config.pt'); c['block_size']=64; torch.save(c, 'model_config.pt')"), error: /block_size 64 is below the evaluation's 1024-token windows/ },
    { what: 'an unknown config field', command: pyEdit("import torch; c=torch.load('model_config.pt'); c['wings']=2; torch.save(c, 'model_config.pt')"), error: /model_config\.pt: unknown fields \['wings'\]/ },
  ],
  // The RL tasks share their grading code: all its checks on one task, the environment-specific ones on the others.
  rlMountainCarContinuous: rlCases,
  rlBreakoutMinAtar: rlCases.filter((c) => environmentSpecific.includes(c.what)),
  rlMetaMazeMisc: rlCases.filter((c) => environmentSpecific.includes(c.what)),
};

/**
 * How far a fresh fixture run may land from the recorded fixture score. The fixture baselines pin
 * their threads and CPU kernels (docs/tasks.md, "Reproducible fixture scores"), so a run reproduces
 * its recorded score exactly on any x86 machine and the recorded fixture noise is 0: the tolerance is
 * then the evaluation's rounding only (1e-6 relative). A task that records a nonzero
 * `fixture_baseline_noise` (a spread measured across machines, stated in its task.yaml) gets 3 × that.
 */
function tolerance(task: LoadedTask, metric: string, recorded: number): number {
  return Math.max(3 * (task.baseline_noise[metric] ?? 0), 1e-6 * Math.max(1, Math.abs(recorded)));
}

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** Every file under a folder. */
const filesUnder = (dir: string): string[] => readdirSync(dir, { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)).filter((f) => statSync(f).isFile());

/**
 * What only the grader may hold: the evaluation scripts, the task's private files and the fixture's
 * answers, less what the agent is meant to have too: the grader's copies of starter code (the model
 * code it rebuilds the artifact with) and of public data (a labelled validation split).
 */
function graderOnlyFiles(task: LoadedTask): string[] {
  const starter = task.starter_code.map((p) => resolve(task.dir, p));
  const isStarter = (f: string) => starter.some((s) => f === s || f.startsWith(s + sep));
  const own = [...task.evaluation_paths, ...task.private_files].map((p) => resolve(task.dir, p)).filter((f) => statSync(f).isFile() && !isStarter(f));
  const publicData = new Set(task.datasets.flatMap((d) => (d.dataDir ? filesUnder(d.dataDir).map(sha256) : [])));
  const answers = task.datasets.flatMap((d) => (d.privateDir ? filesUnder(d.privateDir) : [])).filter((f) => !publicData.has(sha256(f)));
  return [...own, ...answers];
}

/**
 * The tests of the GPU-scale tasks (the keys of `malformed`) that `include` picks: each one's baseline run on
 * its fixture data to its recorded score, and its grader's refusals. Three files of the training tier split
 * them (tests/training: imageTasks, languageTasks, rlTasks), so that their trainings run side by side.
 */
export function describeFixtureTasks(include: (taskId: string) => boolean): void {
  describe('the GPU-scale tasks on their fixture data, with the baseline agent, through the real server, worker and Docker', () => {
    const t = useTestTemporal();
    const kept: string[] = [];
    afterAll(async () => {
      for (const runId of kept) await removeRunResources(runId);
    });

    for (const id of Object.keys(malformed).filter(include)) {
      describe(id, () => {
        const task = loadTask(taskFile(id), datasetsDir, { data: 'fixture' });
        let run: { runId: string; image: string; containerId: string } | undefined;
        // A fresh machine builds the task's image first (PyTorch from PyPI: minutes); the run's own time is bounded by testTimeout.
        beforeAll(() => ensureTaskImage(task, () => undefined), 30 * 60_000);

        it('the baseline trains, validates and submits its recorded fixture score; no answers reach the agent', async () => {
          const input = runInput(id, 'baseline', { data: 'fixture', gpus: 0, keep: true, maxSteps: 5 });
          kept.push(input.runId);
          const worker = await t.worker(`fixture-${id}`);
          const result = (await worker.runUntil((await startRun(t.client, `fixture-${id}`, input)).result())) as RunResult;
          expect(result.status, JSON.stringify(result.attempts)).toBe('completed');
          expect(result.exitStatus).toBe('submitted');
          expect(result.attempts.map((a) => a.kind)).toEqual(['validate', 'submit']);
          expect(result.attempts[1]!.reusedFrom, 'the submit reuses the grading of the unchanged workspace').toBe(result.attempts[0]!.step);
          const submitted = result.submission!.metrics!;
          expect(Object.keys(submitted).sort()).toEqual(task.metrics.map((m) => m.name).sort());
          for (const [metric, recorded] of Object.entries(task.baseline_scores[0]!)) {
            const allowed = tolerance(task, metric, recorded);
            expect(Math.abs(submitted[metric]! - recorded), `${metric}: got ${submitted[metric]}, recorded ${recorded} (tolerance ${allowed})`).toBeLessThanOrEqual(allowed);
          }
          expect(result.attempts[0]!.shownMetrics).toBeDefined();

          const container = (await findAgentContainer(input.runId))!;
          const env = await execIn(container.Id, ['sh', '-c', 'echo $MLGYM_DATA; nproc; ls data 2>/dev/null']);
          expect(env.stdout.split('\n')[0]).toBe('fixture');
          expect(env.stdout.split('\n').slice(2).filter(Boolean)).toEqual(task.datasets.map((d) => d.name).sort());
          for (const [file, copies] of await copiesIn(container.Id, graderOnlyFiles(task))) expect(copies, `copies of ${file}`).toEqual([]);
          run = { runId: input.runId, image: container.Image, containerId: container.Id };
        }, FIXTURE_TEST_TIMEOUT_MS);

        it("the evaluation rejects malformed artifacts, saying what is wrong", async () => {
          expect(run, 'needs the baseline run above').toBeDefined();
          const { runId, image, containerId } = run!;
          const shell = (command: string) => execIn(containerId, ['bash', '-c', command], { workdir: '/home/agent/workspace' });
          await shell('tar --exclude=./data -cf /tmp/baseline.tar .');
          let step = 100;
          for (const c of malformed[id]!) {
            const broken = await shell(`find . -mindepth 1 -maxdepth 1 ! -name data -exec rm -rf {} + && tar -xf /tmp/baseline.tar && ${c.command}`);
            expect(broken.exitCode, `${c.what}: ${broken.stderr}`).toBe(0);
            const { validation } = await gradeWorkspace(runId, step++, image, task, ['validation']);
            expect(validation, c.what).toMatchObject({ ok: false, error: expect.stringMatching(c.error) });
          }
        }, FIXTURE_TEST_TIMEOUT_MS);
      });
    }
  });
}
