import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { EncryptedPdfError, isPdf, pdfText } from './pdf.js';

/** A PDF's text as parse_pdf_url keeps it (per run, so a repeated call fetches nothing). */
export interface PdfText {
  url: string;
  pages: string[];
}

export interface PdfCache {
  get(url: string): Promise<PdfText | undefined>;
  set(url: string, text: PdfText): Promise<void>;
}

export interface PdfUrlOptions {
  cache: PdfCache;
  timeoutMs?: number;
  maxBytes?: number;
  /** Characters of text shown (the rest is cut, saying how much). */
  maxChars?: number;
  /** Allow addresses of this machine's networks (loopback, private, link-local): tests only. */
  allowPrivateHosts?: boolean;
}

const MAX_BYTES = 40 << 20;
const MAX_CHARS = 20_000;
const MAX_REDIRECTS = 5;

/**
 * Addresses a PDF may not be fetched from: the worker's own and its networks' (loopback, private,
 * link-local, carrier-grade NAT, unspecified, multicast), so an agent cannot reach services beside it.
 */
export function isPrivateAddress(address: string): boolean {
  const v4 = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  if (isIP(v4) === 4) {
    const [a, b] = v4.split('.').map(Number) as [number, number];
    return a === 0 || a === 10 || a === 127 || (a === 100 && b >= 64 && b < 128) || (a === 169 && b === 254) || (a === 172 && b >= 16 && b < 32) || (a === 192 && b === 168) || a >= 224;
  }
  const v6 = address.toLowerCase();
  return v6 === '::' || v6 === '::1' || /^f[cd]/.test(v6) || /^fe[89ab]/.test(v6) || v6.startsWith('ff');
}

/** A DNS lookup that refuses private addresses: checked on the address the connection uses. */
const publicLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const allowed = addresses.filter((a) => !isPrivateAddress(a.address));
    if (!allowed.length) return callback(Object.assign(new Error(`${hostname} is a private address`), { code: 'EPRIVATE' }), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, allowed);
    return callback(null, allowed[0]!.address, allowed[0]!.family);
  });
};

class FetchError extends Error {}

/** GET a URL's body (following redirects), at most `maxBytes`; a FetchError says what went wrong. */
async function fetchBody(url: URL, opts: Required<Pick<PdfUrlOptions, 'timeoutMs' | 'maxBytes' | 'allowPrivateHosts'>>): Promise<Buffer> {
  let current = url;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    if (!opts.allowPrivateHosts && isIP(current.hostname.replace(/^\[|\]$/g, '')) && isPrivateAddress(current.hostname.replace(/^\[|\]$/g, ''))) {
      throw new FetchError(`${current.host} is an address of a private network`);
    }
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      const request = (current.protocol === 'https:' ? httpsRequest : httpRequest)(
        current,
        { method: 'GET', headers: { 'user-agent': 'durable-mlgym parse_pdf_url', accept: 'application/pdf,*/*' }, ...(opts.allowPrivateHosts ? {} : { lookup: publicLookup }) },
        resolve,
      );
      request.setTimeout(opts.timeoutMs, () => request.destroy(new FetchError('no answer in time')));
      request.on('error', reject);
      request.end();
    }).catch((err: Error & { code?: string }) => {
      throw err instanceof FetchError ? err : new FetchError(err.code === 'EPRIVATE' ? err.message : `could not be reached (${err.code ?? err.message})`);
    });
    const status = response.statusCode ?? 0;
    if (status >= 300 && status < 400 && response.headers.location) {
      response.resume();
      const next = new URL(response.headers.location, current);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new FetchError(`it redirects to a ${next.protocol} URL`);
      current = next;
      continue;
    }
    if (status !== 200) {
      response.resume();
      throw new FetchError(`the server answered HTTP ${status}`);
    }
    const declared = Number(response.headers['content-length']);
    if (declared > opts.maxBytes) {
      response.destroy();
      throw new FetchError(`it is ${Math.round(declared / 2 ** 20)} MB, more than the ${Math.round(opts.maxBytes / 2 ** 20)} MB parse_pdf_url reads`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of response) {
      size += (chunk as Buffer).length;
      if (size > opts.maxBytes) {
        response.destroy();
        throw new FetchError(`it is more than the ${Math.round(opts.maxBytes / 2 ** 20)} MB parse_pdf_url reads`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks);
  }
  throw new FetchError(`more than ${MAX_REDIRECTS} redirects`);
}

function formatText({ url, pages }: PdfText, maxChars: number): string {
  const total = pages.reduce((n, p) => n + p.length, 0);
  const header = `Text of ${url} (${pages.length} page${pages.length === 1 ? '' : 's'}, ${total} characters):`;
  let body = '';
  let shownPages = 0;
  for (const [i, page] of pages.entries()) {
    const block = `\n\n--- page ${i + 1} ---\n${page}`;
    if (body.length + block.length > maxChars) {
      body += block.slice(0, Math.max(0, maxChars - body.length));
      break;
    }
    body += block;
    shownPages = i + 1;
  }
  const cut = total - body.replace(/\n\n--- page \d+ ---\n/g, '').length;
  return header + body + (cut > 0 ? `\n\n[The text goes on for about ${cut} more characters${shownPages < pages.length ? ` (pages ${shownPages + 1}-${pages.length})` : ''}; this is as much as one observation shows.]` : '');
}

/** parse_pdf_url: download a PDF and show its text; a message the agent can act on when that fails. */
export async function parsePdfUrl(url: string, opts: PdfUrlOptions): Promise<string> {
  if (!url) return 'parse_pdf_url needs the URL of a PDF, e.g. `parse_pdf_url https://arxiv.org/pdf/1706.03762` (literature_search shows PDF links).';
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return `parse_pdf_url needs an http(s) URL of a PDF, got "${url}".`;
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `parse_pdf_url needs an http(s) URL of a PDF, got "${url}".`;
  const maxChars = opts.maxChars ?? MAX_CHARS;
  const cached = await opts.cache.get(parsed.href);
  if (cached) return formatText(cached, maxChars);
  let data: Buffer;
  try {
    data = await fetchBody(parsed, { timeoutMs: opts.timeoutMs ?? 30_000, maxBytes: opts.maxBytes ?? MAX_BYTES, allowPrivateHosts: opts.allowPrivateHosts ?? false });
  } catch (err) {
    if (!(err instanceof FetchError)) throw err;
    return `Could not download ${parsed.href}: ${err.message}.`;
  }
  if (!isPdf(data)) return `${parsed.href} is not a PDF (it does not start like one): give the URL of the PDF itself, such as a PDF link of literature_search.`;
  let pages: string[];
  try {
    pages = (await pdfText(data)).pages;
  } catch (err) {
    if (err instanceof EncryptedPdfError) return `${parsed.href} is an encrypted PDF: its text cannot be read.`;
    return `${parsed.href} could not be read as a PDF: ${(err as Error).message}.`;
  }
  const text: PdfText = { url: parsed.href, pages };
  if (!text.pages.some((p) => p.trim())) return `${parsed.href} is a PDF of ${text.pages.length} page(s) with no text that can be read (scanned images, or fonts without a text mapping).`;
  await opts.cache.set(parsed.href, text);
  return formatText(text, maxChars);
}
