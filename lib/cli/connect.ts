import type { Client } from '@temporalio/client';
import { ensureServer, type ServerHandle } from '../temporal/server.js';
import { connectClient } from '../temporal/client.js';
import { say } from './output.js';

/** Start or reuse the embedded dev server (unless TEMPORAL_ADDRESS is set) and connect a client. */
export async function connect(opts: { showUi?: boolean } = {}): Promise<{ server: ServerHandle; client: Client }> {
  const server = await ensureServer();
  if (server.started) say(`started the Temporal dev server on ${server.address}`);
  if (server.uiUrl && (opts.showUi || server.started)) say(`Temporal Web UI: ${server.uiUrl}`);
  return { server, client: await connectClient(server.address) };
}

export function workflowUrl(server: ServerHandle, namespace: string, workflowId: string): string | undefined {
  return server.uiUrl ? `${server.uiUrl}/namespaces/${namespace}/workflows/${encodeURIComponent(workflowId)}` : undefined;
}
