import { LocalObjectStore, type ObjectStore } from '../artifacts/objectStore.js';
import type { ArtifactStore } from '../artifacts/store.js';

/**
 * The object store that holds snapshots (manifests under runs/<runId>/snapshots/, chunks under chunks/):
 * the artifact store's own backend (MLGYM_ARTIFACTS: a local folder or S3), or, for an artifact store
 * that is only a folder, that folder.
 */
export function snapshotStore(artifacts: ArtifactStore): ObjectStore {
  const { objects } = artifacts as { objects?: ObjectStore };
  return objects ?? new LocalObjectStore((artifacts as { root: string }).root);
}
