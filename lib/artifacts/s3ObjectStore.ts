import type { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import { checkKey, checkPrefix, type ObjectStore } from './objectStore.js';

/** Parts of a multipart upload: S3's minimum is 5 MiB; at most PART_SIZE × QUEUE_SIZE bytes of a body are in memory. */
const PART_SIZE = 8 * 1024 * 1024;
const QUEUE_SIZE = 4;

/** Where and how to reach the object storage: the standard AWS variables. */
export interface S3Settings {
  /** AWS_ENDPOINT_URL_S3, else AWS_ENDPOINT_URL: an S3-compatible server; unset means AWS S3. */
  endpoint?: string;
  /** AWS_REGION (else AWS_DEFAULT_REGION, else us-east-1: most S3-compatible servers ignore it). */
  region: string;
  /**
   * Bucket in the path (`http://host/bucket/key`) rather than in the host name: the default with a custom
   * endpoint, whose servers rarely have wildcard DNS; MLGYM_S3_PATH_STYLE=0|1 overrides.
   */
  forcePathStyle: boolean;
  /** AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN) when set; else the SDK's default chain (profiles, roles). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function s3Settings(env: NodeJS.ProcessEnv = process.env): S3Settings {
  const endpoint = env.AWS_ENDPOINT_URL_S3 || env.AWS_ENDPOINT_URL || undefined;
  const pathStyle = env.MLGYM_S3_PATH_STYLE;
  return {
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || 'us-east-1',
    forcePathStyle: pathStyle === undefined || pathStyle === '' ? endpoint !== undefined : pathStyle === '1' || pathStyle === 'true',
    credentials:
      env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
        ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}) }
        : undefined,
  };
}

/** `s3://bucket/prefix` → bucket and key prefix (empty, or ending in `/`). */
export function parseS3Url(url: string): { bucket: string; prefix: string } {
  const m = /^s3:\/\/([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:\/(.*))?$/.exec(url);
  if (!m) throw new Error(`MLGYM_ARTIFACTS must look like s3://bucket/prefix (a lower-case S3 bucket name), got "${url}"`);
  const prefix = (m[2] ?? '').replace(/\/+$/, '');
  if (prefix) checkKey(prefix);
  return { bucket: m[1]!, prefix: prefix ? `${prefix}/` : '' };
}

const clients = new Map<string, Promise<S3Client>>();

/**
 * One client per settings in a process (its sockets are reused). The SDK is loaded on first use, so
 * commands that never touch the store do not pay for it. Credentials come from the SDK's default chain
 * (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, profiles, instance roles). The SDK's warning
 * that its 2027 releases need Node 22 is silenced (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED): the
 * lock file pins a release that supports Node 20, and the warning would end up in every command's output.
 */
function s3Client(settings: S3Settings): Promise<S3Client> {
  const id = JSON.stringify(settings);
  let client = clients.get(id);
  if (!client) {
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
    client = import('@aws-sdk/client-s3').then(
      ({ S3Client }) =>
        new S3Client({
          region: settings.region,
          endpoint: settings.endpoint,
          forcePathStyle: settings.forcePathStyle,
          credentials: settings.credentials,
          // Against an S3-compatible server send checksums only where S3 requires them (many servers do not
          // take the SDK's newer default trailing checksums); AWS_REQUEST_CHECKSUM_CALCULATION still wins.
          ...(settings.endpoint && !process.env.AWS_REQUEST_CHECKSUM_CALCULATION ? { requestChecksumCalculation: 'WHEN_REQUIRED' as const } : {}),
          ...(settings.endpoint && !process.env.AWS_RESPONSE_CHECKSUM_VALIDATION ? { responseChecksumValidation: 'WHEN_REQUIRED' as const } : {}),
        }),
    );
    clients.set(id, client);
  }
  return client;
}

function isMissing(err: unknown): boolean {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
  return e?.name === 'NoSuchKey' || e?.name === 'NotFound' || e?.$metadata?.httpStatusCode === 404;
}

/**
 * S3-compatible object storage (`MLGYM_ARTIFACTS=s3://bucket/prefix`), shared by every worker host. A put
 * is atomic by S3's semantics: a single PUT, or a multipart upload that becomes visible only when it is
 * completed (a failed one is aborted, its parts deleted); bodies stream in parts of 8 MiB.
 */
export class S3ObjectStore implements ObjectStore {
  readonly bucket: string;
  readonly prefix: string;

  constructor(
    url: string,
    private readonly settings: S3Settings = s3Settings(),
  ) {
    ({ bucket: this.bucket, prefix: this.prefix } = parseS3Url(url));
  }

  get location(): string {
    return `s3://${this.bucket}${this.prefix ? `/${this.prefix.slice(0, -1)}` : ''}`;
  }

  private client(): Promise<S3Client> {
    return s3Client(this.settings);
  }

  private objectKey(key: string): string {
    return this.prefix + checkKey(key);
  }

  /** Create the bucket if it does not exist (deployments usually create it beforehand). */
  async ensureBucket(): Promise<void> {
    const { HeadBucketCommand, CreateBucketCommand } = await import('@aws-sdk/client-s3');
    const client = await this.client();
    try {
      await client.send(new HeadBucketCommand({ Bucket: this.bucket }));
    } catch (err) {
      if (!isMissing(err)) throw err;
      await client.send(new CreateBucketCommand({ Bucket: this.bucket }));
    }
  }

  async put(key: string, body: Buffer | string | Readable): Promise<void> {
    const Key = this.objectKey(key);
    const client = await this.client();
    if (typeof body === 'string' || Buffer.isBuffer(body)) {
      const data = typeof body === 'string' ? Buffer.from(body) : body;
      if (data.length <= PART_SIZE) {
        const { PutObjectCommand } = await import('@aws-sdk/client-s3');
        await client.send(new PutObjectCommand({ Bucket: this.bucket, Key, Body: data, ContentLength: data.length }));
        return;
      }
      body = data;
    }
    const { Upload } = await import('@aws-sdk/lib-storage');
    // A source stream that fails makes done() reject; the multipart upload is then aborted (nothing becomes visible).
    const upload = new Upload({ client, params: { Bucket: this.bucket, Key, Body: body }, partSize: PART_SIZE, queueSize: QUEUE_SIZE, leavePartsOnError: false });
    await upload.done();
  }

  async get(key: string): Promise<Buffer | undefined> {
    const stream = await this.getStream(key);
    if (!stream) return undefined;
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  async getStream(key: string): Promise<Readable | undefined> {
    const { GetObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      const out = await (await this.client()).send(new GetObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return out.Body as Readable;
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw err;
    }
  }

  async has(key: string): Promise<boolean> {
    const { HeadObjectCommand } = await import('@aws-sdk/client-s3');
    try {
      await (await this.client()).send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
      return true;
    } catch (err) {
      if (isMissing(err)) return false;
      throw err;
    }
  }

  async list(prefix: string): Promise<string[]> {
    const { paginateListObjectsV2 } = await import('@aws-sdk/client-s3');
    const keys: string[] = [];
    const pages = paginateListObjectsV2({ client: await this.client() }, { Bucket: this.bucket, Prefix: this.prefix + checkPrefix(prefix) });
    for await (const page of pages) {
      for (const object of page.Contents ?? []) if (object.Key) keys.push(object.Key.slice(this.prefix.length));
    }
    return keys.sort();
  }

  async delete(key: string): Promise<void> {
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3');
    await (await this.client()).send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.objectKey(key) }));
  }
}
