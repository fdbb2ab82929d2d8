import { docker, WORKSPACE } from './docker.js';

/** The workspace as a tar archive (top-level folder `workspace/`, ownership and modes kept). */
export async function archiveWorkspace(containerId: string): Promise<Buffer> {
  const stream = await docker().getContainer(containerId).getArchive({ path: WORKSPACE });
  const chunks: Buffer[] = [];
  for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** Restore a workspace archive into a (new) container's workspace. */
export async function restoreWorkspace(containerId: string, archive: Buffer): Promise<void> {
  await docker().getContainer(containerId).putArchive(archive, { path: WORKSPACE.replace(/\/workspace$/, '') });
}
