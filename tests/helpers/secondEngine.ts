import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import Docker from 'dockerode';

/** A second Docker engine on this machine, beside the default one (docs/deploy.md: one engine per worker host). */
export const ENGINE_B = {
  socket: '/run/docker-b.sock',
  dataRoot: '/var/lib/docker-b',
  execRoot: '/run/docker-b',
  pidfile: '/run/docker-b.pid',
};
export const ENGINE_B_HOST = `unix://${ENGINE_B.socket}`;

export function engineB(): Docker {
  return new Docker({ socketPath: ENGINE_B.socket });
}

async function answers(engine: Docker): Promise<boolean> {
  return engine.ping().then(
    () => true,
    () => false,
  );
}

export interface SecondEngine {
  dockerHost: string;
  /** Whether this call started it (else it was already running). */
  started: boolean;
  /** Stop it (its containers die with it); a no-op once it is stopped. */
  stop: () => Promise<void>;
}

/**
 * Start the second engine unless it answers. It runs in a network namespace of its own (`unshare --net`): a
 * dockerd started with `--bridge none` deletes the host's `docker0` link at start-up (the default engine's
 * bridge, which its builds then miss), and in its own namespace it cannot touch the host's links. Nothing in
 * it reaches any network: its containers use network `none` (every task's policy; the grader's too).
 */
export async function startSecondEngine(logFile: string): Promise<SecondEngine> {
  const engine = engineB();
  if (await answers(engine)) return { dockerHost: ENGINE_B_HOST, started: false, stop: () => stopEngineB(engine) };
  for (const tool of ['unshare', 'dockerd']) {
    if (spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0) throw new Error(`the multi-host test needs ${tool} (run \`npm run setup\`)`);
  }
  const log = openSync(logFile, 'a');
  const args = ['--net', '--', 'dockerd', '--host', ENGINE_B_HOST, '--data-root', ENGINE_B.dataRoot, '--exec-root', ENGINE_B.execRoot, '--pidfile', ENGINE_B.pidfile, '--bridge', 'none', '--iptables=false', '--ip-masq=false'];
  const child = spawn('unshare', args, { detached: true, stdio: ['ignore', log, log] });
  child.unref();
  const deadline = Date.now() + 60_000;
  while (!(await answers(engine))) {
    if (Date.now() > deadline || child.exitCode !== null) throw new Error(`the second Docker engine did not start; see ${logFile}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { dockerHost: ENGINE_B_HOST, started: true, stop: () => stopEngineB(engine) };
}

/** SIGTERM the second engine's dockerd (its pidfile) and wait until it no longer answers. */
async function stopEngineB(engine: Docker): Promise<void> {
  const pid = existsSync(ENGINE_B.pidfile) ? Number(readFileSync(ENGINE_B.pidfile, 'utf8').trim()) : undefined;
  if (pid) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
    }
  }
  const until = Date.now() + 30_000;
  while ((await answers(engine)) && Date.now() < until) await new Promise((r) => setTimeout(r, 250));
}

/** Copy an image from one engine to another (docker save | docker load) unless the target has the same image id. */
export async function copyImage(name: string, from: Docker, to: Docker): Promise<void> {
  const { Id } = await from.getImage(name).inspect();
  const present = await to
    .getImage(name)
    .inspect()
    .then((i) => i.Id === Id, () => false);
  if (present) return;
  const tar = await from.getImage(name).get();
  const out = await to.loadImage(tar);
  await new Promise<void>((resolve, reject) => to.modem.followProgress(out, (err: Error | null) => (err ? reject(err) : resolve())));
}

/**
 * The default engine still builds an image with a RUN step (a container on its default bridge): what a second
 * engine must never break (its bridge, docker0).
 */
export async function defaultEngineBuilds(): Promise<void> {
  const result = spawnSync('sh', ['-c', "printf 'FROM mlgym-base\\nRUN echo ok > /ok\\n' | docker build -q -t mlgym-bridge-check:tmp - && docker rmi -f mlgym-bridge-check:tmp"], {
    encoding: 'utf8',
    timeout: 120_000,
  });
  if (result.status !== 0) throw new Error(`the default Docker engine no longer builds images: ${result.stderr}`);
}
