import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One scripted answer of the fake server. */
export type Scripted =
  /** A normal reply; `usage: null` leaves usage out, the default is 100 prompt and 10 completion tokens. */
  | { reply: string; usage?: { prompt_tokens: number; completion_tokens: number } | null; finishReason?: string }
  | { toolCalls: { name: string; arguments: string }[]; content?: string; usage?: { prompt_tokens: number; completion_tokens: number } }
  /** An error status with an OpenAI-style error body. */
  | { status: number; message?: string; code?: string; retryAfter?: string }
  /** A 200 whose body is this text, sent as JSON (e.g. something malformed). */
  | { raw: string };

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string | null; tool_calls?: unknown[]; tool_call_id?: string }[];
  max_tokens?: number;
  tools?: unknown[];
  [key: string]: unknown;
}

export interface FakeOpenAI {
  baseURL: string;
  /** POSTs to /v1/chat/completions so far. */
  calls: number;
  requests: ChatRequestBody[];
  close: () => Promise<void>;
}

/**
 * An OpenAI-compatible server on 127.0.0.1 and a random port, answering POST /v1/chat/completions
 * from a script: a list used in order (past its end, the last entry repeats), or a function of the
 * request and its index.
 */
export async function startFakeOpenAI(script: Scripted[] | ((request: ChatRequestBody, index: number) => Scripted)): Promise<FakeOpenAI> {
  const fake: FakeOpenAI = { baseURL: '', calls: 0, requests: [], close: async () => undefined };
  const next = (request: ChatRequestBody, i: number): Scripted => (typeof script === 'function' ? script(request, i) : script[Math.min(i, script.length - 1)]!);

  const server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    if (req.method !== 'POST' || req.url !== '/v1/chat/completions') return send(res, 404, { error: { message: `no route ${req.method} ${req.url}` } });
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChatRequestBody;
    const index = fake.calls++;
    fake.requests.push(request);
    answer(res, next(request, index), request.model, index);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.baseURL = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
  fake.close = () => new Promise((resolve) => server.close(() => resolve()));
  return fake;
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(typeof body === 'string' ? body : JSON.stringify(body));
}

const DEFAULT_USAGE = { prompt_tokens: 100, completion_tokens: 10 };

function answer(res: ServerResponse, s: Scripted, model: string, index: number): void {
  if ('raw' in s) return send(res, 200, s.raw);
  if ('status' in s) {
    const body = { error: { message: s.message ?? `scripted error ${s.status}`, type: 'scripted', code: s.code ?? null } };
    return send(res, s.status, body, s.retryAfter ? { 'retry-after': s.retryAfter } : {});
  }
  const usage = s.usage === undefined ? DEFAULT_USAGE : s.usage;
  const message =
    'reply' in s
      ? { role: 'assistant', content: s.reply }
      : {
          role: 'assistant',
          content: s.content ?? null,
          tool_calls: s.toolCalls.map((c, i) => ({ id: `call_${index}_${i}`, type: 'function', function: { name: c.name, arguments: c.arguments } })),
        };
  const finishReason = 'reply' in s ? (s.finishReason ?? 'stop') : 'tool_calls';
  send(res, 200, {
    id: `chatcmpl-${index}`,
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message, finish_reason: finishReason }],
    ...(usage ? { usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens } } : {}),
  });
}
