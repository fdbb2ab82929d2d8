import { heartbeat } from '@temporalio/activity';
import { ensureTaskImage } from '../lib/sandbox/images.js';
import { ensureAgentContainer, fillWorkspace } from '../lib/sandbox/container.js';
import { recordName } from '../lib/run/records.js';
import type { ProvisionResult } from '../lib/run/types.js';
import { taskOrFail, type ActivityDeps } from './context.js';

export interface ProvisionInput {
  runId: string;
  taskId: string;
  model: string;
}

/** Build or reuse the task image, create or find the run's container, fill its workspace once. */
export function makeProvision({ store }: ActivityDeps) {
  return async function provision({ runId, taskId, model }: ProvisionInput): Promise<ProvisionResult> {
    const task = taskOrFail(taskId);
    const image = await ensureTaskImage(task, (line) => {
      heartbeat();
      void store.log(runId, `[build] ${line}`);
    });
    const container = await ensureAgentContainer({ runId, image, task, model });
    const filled = await store.readJson<ProvisionResult>(runId, recordName.provision);
    if (container.created || filled?.containerId !== container.id) {
      await fillWorkspace(container.id, task);
      await store.writeJson(runId, recordName.provision, { containerId: container.id, image });
      await store.log(runId, `provisioned container ${container.name} from ${image}`);
    }
    return { containerId: container.id, image };
  };
}
