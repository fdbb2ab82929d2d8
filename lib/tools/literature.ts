import { z } from 'zod';

export const DEFAULT_LITERATURE_URL = 'https://api.semanticscholar.org';
const FIELDS = 'title,year,authors,abstract,url,openAccessPdf';
/** Papers shown unless the agent asks for another count (MLGym's literature_search takes one too). */
export const DEFAULT_LITERATURE_COUNT = 10;
/** The most the search API returns in one page. */
export const MAX_LITERATURE_COUNT = 100;
const ABSTRACT_CHARS = 400;
const SHOWN_AUTHORS = 3;

export interface Paper {
  title: string;
  year: number | null;
  authors: string[];
  abstract: string | null;
  url: string | null;
  /** An open-access PDF of the paper (for parse_pdf_url), when the service knows one. */
  pdfUrl?: string | null;
}

export interface LiteratureResult {
  total: number;
  papers: Paper[];
}

/** Where results are kept per run, keyed by the normalised query. */
export interface LiteratureCache {
  get(query: string): Promise<LiteratureResult | undefined>;
  set(query: string, result: LiteratureResult): Promise<void>;
}

export interface LiteratureOptions {
  /** Root of a Semantic Scholar-compatible API (the part before /graph/v1). */
  baseUrl: string;
  apiKey?: string;
  cache: LiteratureCache;
  timeoutMs?: number;
  /** How many papers to show (default DEFAULT_LITERATURE_COUNT, at most MAX_LITERATURE_COUNT). */
  count?: number;
}

const SearchResponse = z.object({
  total: z.number().nullish(),
  data: z
    .array(
      z.object({
        title: z.string().nullish(),
        year: z.number().nullish(),
        authors: z.array(z.object({ name: z.string().nullish() })).nullish(),
        abstract: z.string().nullish(),
        url: z.string().nullish(),
        openAccessPdf: z.object({ url: z.string().nullish() }).nullish(),
      }),
    )
    .nullish(),
});

/** The endpoint from MLGYM_LITERATURE_URL / MLGYM_LITERATURE_API_KEY, else the public Semantic Scholar API. */
export function literatureEndpoint(env: NodeJS.ProcessEnv = process.env): Pick<LiteratureOptions, 'baseUrl' | 'apiKey'> {
  return { baseUrl: env.MLGYM_LITERATURE_URL || DEFAULT_LITERATURE_URL, apiKey: env.MLGYM_LITERATURE_API_KEY || undefined };
}

/** Search papers; the observation for the agent, also when the service cannot be used. */
export async function literatureSearch(query: string, opts: LiteratureOptions): Promise<string> {
  if (!query) return 'literature_search needs a query, e.g. `literature_search contrastive learning small datasets`.';
  const count = Math.min(MAX_LITERATURE_COUNT, Math.max(1, Math.floor(opts.count ?? DEFAULT_LITERATURE_COUNT)));
  const normalised = query.toLowerCase().replace(/\s+/g, ' ');
  const key = count === DEFAULT_LITERATURE_COUNT ? normalised : `${normalised} [${count}]`;
  let result = await opts.cache.get(key);
  if (!result) {
    const fetched = await fetchPapers(query, count, opts);
    if (typeof fetched === 'string') return fetched;
    result = fetched;
    await opts.cache.set(key, result);
  }
  return formatResult(query, result);
}

async function fetchPapers(query: string, count: number, opts: LiteratureOptions): Promise<LiteratureResult | string> {
  const url = `${opts.baseUrl.replace(/\/+$/, '')}/graph/v1/paper/search?${new URLSearchParams({ query, limit: String(count), fields: FIELDS })}`;
  let response: Response;
  try {
    response = await fetch(url, { headers: opts.apiKey ? { 'x-api-key': opts.apiKey } : {}, signal: AbortSignal.timeout(opts.timeoutMs ?? 15_000) });
  } catch (err) {
    return `Literature search is unavailable: ${opts.baseUrl} could not be reached (${reason(err)}). Carry on without it.`;
  }
  if (response.status === 429) return 'Literature search is rate-limited right now (HTTP 429). Try again in a few steps.';
  if (!response.ok) return `Literature search failed: ${opts.baseUrl} answered HTTP ${response.status}. Carry on without it.`;
  const parsed = SearchResponse.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) return `Literature search failed: ${opts.baseUrl} did not answer with search results. Carry on without it.`;
  const papers = (parsed.data.data ?? []).map((p) => ({
    title: p.title ?? '(untitled)',
    year: p.year ?? null,
    authors: (p.authors ?? []).flatMap((a) => (a.name ? [a.name] : [])),
    abstract: p.abstract ?? null,
    url: p.url ?? null,
    pdfUrl: p.openAccessPdf?.url || null,
  }));
  return { total: parsed.data.total ?? papers.length, papers };
}

function reason(err: unknown): string {
  const e = err as Error & { cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'no answer in time';
  return e.cause?.code ?? e.cause?.message ?? e.message;
}

function trimmed(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  return `${cut.slice(0, cut.lastIndexOf(' ') > max / 2 ? cut.lastIndexOf(' ') : max)} ...`;
}

function formatResult(query: string, { total, papers }: LiteratureResult): string {
  if (!papers.length) return `No papers found for "${query}". Try broader or different words.`;
  const entries = papers.map((p, i) => {
    const authors = p.authors.length > SHOWN_AUTHORS ? `${p.authors.slice(0, SHOWN_AUTHORS).join(', ')} et al.` : p.authors.join(', ') || 'unknown';
    return [
      `${i + 1}. ${p.title}${p.year ? ` (${p.year})` : ''}`,
      `   Authors: ${authors}`,
      `   Abstract: ${p.abstract ? trimmed(p.abstract.replace(/\s+/g, ' ').trim(), ABSTRACT_CHARS) : '(none)'}`,
      ...(p.url ? [`   URL: ${p.url}`] : []),
      ...(p.pdfUrl ? [`   PDF: ${p.pdfUrl}`] : []),
    ].join('\n');
  });
  return [`${total} papers found for "${query}"; the top ${papers.length}:`, ...entries].join('\n\n');
}
