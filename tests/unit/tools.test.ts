import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { dockerDir } from '../../lib/home.js';
import { rankBm25 } from '../../lib/tools/bm25.js';
import { refuseInteractive } from '../../lib/tools/guard.js';
import { hostToolTask, literatureArguments, runHostTool } from '../../lib/tools/host.js';
import { literatureSearch, type LiteratureCache, type LiteratureResult } from '../../lib/tools/literature.js';
import { pdfText } from '../../lib/tools/pdf.js';
import { isPrivateAddress, parsePdfUrl, type PdfCache, type PdfText } from '../../lib/tools/pdfUrl.js';
import { prepareCommand } from '../../lib/tools/prepare.js';
import { commandDocs, commandsFor, TOOL_COMMANDS } from '../../lib/tools/registry.js';
import { rewriteBodies } from '../../lib/tools/rewrite.js';

/** Run a rewritten action in bash with stand-ins for edit/insert that print their arguments and stdin. */
function runInBash(command: string): string {
  const standIns = 'edit() { echo "ARGS edit $*"; cat; }\ninsert() { echo "ARGS insert $*"; cat; }\n';
  return execFileSync('bash', ['--noprofile', '--norc', '-c', standIns + command], { encoding: 'utf8' });
}

function rewritten(action: string): string {
  const result = rewriteBodies(action);
  if ('error' in result) throw new Error(result.error);
  return result.command;
}

describe('rewriteBodies', () => {
  it('passes a body with quotes, backticks, $(...) and $VARS to the tool verbatim', () => {
    const body = ['x = "it\'s"', "y = 'a \"b\"'", 'z = `date` + $(rm -rf /tmp/nothing) + $HOME + ${PATH}', '    \\n \\\\ tail\\', ''];
    const out = runInBash(rewritten(['edit 3:5', ...body, 'end_of_edit'].join('\n')));
    expect(out).toBe(['ARGS edit 3:5', ...body, 'end_of_edit', ''].join('\n'));
  });

  it('keeps marker look-alikes in the body and ends at the last marker line, even with spaces around it', () => {
    const body = ['s = "end_of_edit"', 'end_of_edit # not the end', 'end_of_edit ', '  end_of_insert', 'MLGYM_EOF'];
    const command = rewritten(['edit 1:1', ...body, '  end_of_edit  '].join('\n'));
    expect(command).toContain("<<'MLGYM_EOF_1'");
    expect(runInBash(command)).toBe(['ARGS edit 1:1', ...body, 'end_of_edit', ''].join('\n'));
  });

  it('handles unicode and CRLF actions, and an empty body', () => {
    expect(runInBash(rewritten('insert 0\r\nπ = "ünïcødé ✓ 🚀"\r\nend_of_insert\r\n'))).toBe('ARGS insert 0\nπ = "ünïcødé ✓ 🚀"\nend_of_insert\n');
    expect(runInBash(rewritten('edit 2:4\nend_of_edit'))).toBe('ARGS edit 2:4\nend_of_edit\n');
  });

  it('keeps shell lines before and after the command and normalises the range', () => {
    const out = runInBash(rewritten('echo before && edit 2 : 3\nnew\nend_of_edit\necho after'));
    expect(out).toBe('before\nARGS edit 2:3\nnew\nend_of_edit\nafter\n');
  });

  it('leaves other commands alone, apart from CRLF', () => {
    expect(rewritten('python3 train.py --edit 3\r\nls')).toBe('python3 train.py --edit 3\nls');
    expect(rewritten('echo "a; edit it"')).toBe('echo "a; edit it"');
  });

  it('refuses malformed, unterminated and multiple edits without running anything', () => {
    expect(rewriteBodies('edit 3:5 # fix\nx\nend_of_edit')).toEqual({ error: expect.stringContaining('Malformed `edit`') });
    expect(rewriteBodies('edit 3\nx\nend_of_edit')).toEqual({ command: expect.any(String) }); // the tool reports the missing end line
    expect(rewriteBodies('edit\nx\nend_of_edit')).toEqual({ error: expect.stringContaining('Malformed') });
    expect(rewriteBodies('insert 2\nx = 1\n')).toEqual({ error: expect.stringContaining('no end marker') });
    expect(rewriteBodies('edit 1:1\na\nend_of_edit\nedit 5:5\nb\nend_of_edit')).toEqual({ error: expect.stringContaining('one edit or insert') });
    expect(rewriteBodies('edit 1:1\na\nend_of_edit\ninsert 5\nb\nend_of_insert')).toEqual({ error: expect.stringContaining('one edit or insert') });
  });
});

describe('refuseInteractive', () => {
  it.each([
    'vim x',
    'cat x | less',
    'python3',
    'python',
    'ipython',
    'bash',
    'cd a && nano b',
    'ls; vi a.py',
    'FOO=1 /usr/bin/vim a',
    'echo "$(less x)"',
    'x=`more y`',
    "bash -c 'top'",
    'sudo -u root vim a',
    'timeout 10 htop',
    'if true; then emacs a; fi',
    'python3 -i train.py',
    'eval "nano a"',
    'ls 2>&1 | more',
    'python3 -u',
    'man ls',
  ])('refuses %j', (command) => {
    expect(refuseInteractive(command)).toMatch(/^Refused: /);
  });

  it.each([
    'python3 train.py',
    'python3 -c "print(1)"',
    'python3 -m pip list',
    'python3 --version',
    'echo vim',
    "echo 'less is more'",
    'grep -r vim .',
    'cat <<EOF\nvim\nless\nEOF',
    'python3 - <<EOF\nprint(1)\nEOF',
    'echo "print(1)" | python3',
    'python3 < script.py',
    'sh run.sh',
    'bash -c "ls -la"',
    'ls # then vim',
    'for p in vim less; do echo $p; done',
    'nohup python3 train.py > log 2>&1 &',
    'echo hi > vim.txt',
    'python3 train.py -i',
    'evaluate_vim=1 python3 x.py',
  ])('allows %j', (command) => {
    expect(refuseInteractive(command)).toBeUndefined();
  });

  it('does not read edit bodies as commands', () => {
    expect(prepareCommand('edit 1:1\nless = 3\nvim = less + more\nend_of_edit')).toEqual({ command: expect.stringContaining("edit 1:1 <<'MLGYM_EOF'") });
    expect(prepareCommand('vim a.py')).toEqual({ refusal: expect.stringContaining('`vim` is interactive') });
    expect(prepareCommand('insert 1\nx\n')).toEqual({ refusal: expect.stringContaining('no end marker') });
  });
});

describe('registry', () => {
  const bin = join(dockerDir, 'runtime', 'bin');

  it('has one executable in docker/runtime/bin for each container command, and nothing else', () => {
    const container = TOOL_COMMANDS.filter((c) => c.kind === 'container').map((c) => c.name);
    expect(readdirSync(bin).sort()).toEqual([...container].sort());
    for (const name of container) accessSync(join(bin, name), constants.X_OK);
  });

  it('renders every command with its signature and doc for the system prompt', () => {
    const docs = commandDocs();
    for (const c of TOOL_COMMANDS) {
      expect(docs).toContain(c.signature);
      expect(docs).toContain(c.doc);
    }
    expect(docs).toContain('edit <start>:<end>\n<new lines>\nend_of_edit');
  });
});

describe('rankBm25', () => {
  const docs = [
    'learning rate 3e-4 worked best for the transformer',
    'the baseline uses a random forest with 100 trees',
    'batch size 64 and learning rate warmup helped the transformer converge',
    'notes about data loading',
  ];

  it('ranks documents by term weight, best first, and drops non-matching ones', () => {
    const ranked = rankBm25(docs, 'transformer learning rate', 3);
    expect(ranked.map((r) => r.index)).toEqual([0, 2]);
    expect(ranked[0]!.score).toBeGreaterThan(ranked[1]!.score);
    expect(rankBm25(docs, 'random forest', 3).map((r) => r.index)).toEqual([1]);
    expect(rankBm25(docs, 'Random FOREST!', 3).map((r) => r.index)).toEqual([1]);
    expect(rankBm25(docs, 'nothing matches', 3)).toEqual([]);
  });

  it('prefers rare terms and shorter documents', () => {
    expect(rankBm25(['common rare', 'common', 'common'], 'common rare', 1)[0]!.index).toBe(0);
    expect(rankBm25(['alpha beta gamma delta epsilon alpha', 'alpha'], 'alpha', 2)[0]!.index).toBe(1);
  });
});

describe('host tools', () => {
  let root: string;
  let store: ArtifactStore;
  let server: Server;
  let baseUrl: string;
  const requests: URL[] = [];
  const papers = {
    total: 2,
    data: [
      { paperId: 'p1', title: 'Cooperation in Iterated Games', year: 2001, authors: [{ name: 'A. One' }, { name: 'B. Two' }, { name: 'C. Three' }, { name: 'D. Four' }], abstract: 'word '.repeat(200), url: 'https://example.org/p1', openAccessPdf: { url: 'https://example.org/p1.pdf' } },
      { paperId: 'p2', title: 'Tit for Tat', year: null, authors: [], abstract: null, url: null },
    ],
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'mlgym-tools-'));
    store = new ArtifactStore(root);
    server = createServer((req: IncomingMessage, res) => {
      const url = new URL(req.url!, 'http://localhost');
      requests.push(url);
      const rateLimited = url.searchParams.get('query') === 'busy';
      res.writeHead(rateLimited ? 429 : 200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(rateLimited ? { message: 'Too Many Requests' } : papers));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
    rmSync(root, { recursive: true, force: true });
  });
  afterEach(() => {
    requests.length = 0;
    delete process.env.MLGYM_LITERATURE_URL;
  });

  function memoryCache(): LiteratureCache & { entries: Map<string, LiteratureResult> } {
    const entries = new Map<string, LiteratureResult>();
    return { entries, get: async (q) => entries.get(q), set: async (q, r) => void entries.set(q, r) };
  }

  it('searches a Semantic Scholar-compatible API and formats title, year, authors, trimmed abstract and url', async () => {
    const out = await literatureSearch('iterated prisoners dilemma', { baseUrl: `${baseUrl}/`, cache: memoryCache() });
    expect(requests).toHaveLength(1);
    expect(requests[0]!.pathname).toBe('/graph/v1/paper/search');
    expect(requests[0]!.searchParams.get('query')).toBe('iterated prisoners dilemma');
    expect(requests[0]!.searchParams.get('fields')).toBe('title,year,authors,abstract,url,openAccessPdf');
    expect(requests[0]!.searchParams.get('limit')).toBe('10');
    expect(out).toContain('2 papers found for "iterated prisoners dilemma"');
    expect(out).toContain('1. Cooperation in Iterated Games (2001)');
    expect(out).toContain('Authors: A. One, B. Two, C. Three et al.');
    expect(out).toContain('URL: https://example.org/p1\n   PDF: https://example.org/p1.pdf');
    expect(out).toContain('2. Tit for Tat\n   Authors: unknown\n   Abstract: (none)');
    const abstract = /Abstract: (word.*)/.exec(out)![1]!;
    expect(abstract.length).toBeLessThanOrEqual(404);
    expect(abstract.endsWith(' ...')).toBe(true);
  });

  it('answers a repeated query from the cache', async () => {
    const cache = memoryCache();
    const first = await literatureSearch('Tit  for Tat', { baseUrl, cache });
    const second = await literatureSearch('tit for tat', { baseUrl, cache });
    expect(second).toContain('Tit for Tat');
    expect(requests).toHaveLength(1);
    expect(first.split('\n').slice(1)).toEqual(second.split('\n').slice(1));
  });

  it('tells the agent plainly when the service is unreachable or refuses, and caches nothing', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const cache = memoryCache();
    expect(await literatureSearch('anything', { baseUrl: deadUrl, cache })).toMatch(/^Literature search is unavailable: .* could not be reached \(ECONNREFUSED\)/);
    expect(await literatureSearch('busy', { baseUrl, cache })).toContain('rate-limited');
    expect(cache.entries.size).toBe(0);
  });

  it('runs literature_search through runHostTool with the URL from MLGYM_LITERATURE_URL and a per-run cache in the artifact store', async () => {
    process.env.MLGYM_LITERATURE_URL = baseUrl;
    const ctx = { runId: 'run-lit', store };
    expect(await runHostTool('literature_search "tit for tat"', ctx)).toContain('Tit for Tat');
    expect(await runHostTool('literature_search tit for tat', ctx)).toContain('Tit for Tat');
    expect(requests).toHaveLength(1);
    expect(await store.list('run-lit', 'tools/literature')).toHaveLength(1);
    expect(await runHostTool('literature_search tit for tat', { runId: 'run-other', store })).toContain('Tit for Tat');
    expect(requests).toHaveLength(2);
  });

  it("takes MLGym's optional count of results: after a quoted query or a single word", async () => {
    process.env.MLGYM_LITERATURE_URL = baseUrl;
    const ctx = { runId: 'run-lit-count', store };
    expect(await runHostTool('literature_search "tit for tat" 5', ctx)).toContain('the top 2');
    expect(await runHostTool('literature_search cooperation 3', ctx)).toContain('Cooperation');
    expect(await runHostTool('literature_search attention 2017', ctx)).toContain('Cooperation');
    expect(requests.map((r) => [r.searchParams.get('query'), r.searchParams.get('limit')])).toEqual([
      ['tit for tat', '5'],
      ['cooperation', '3'],
      ['attention 2017', '10'],
    ]);
    expect(literatureArguments('"graph neural networks" 20')).toEqual({ query: 'graph neural networks', count: 20 });
    expect(literatureArguments("'lr warmup'")).toEqual({ query: 'lr warmup' });
    expect(literatureArguments('graph neural networks 5')).toEqual({ query: 'graph neural networks 5' });
    expect(literatureArguments('"x" 0')).toEqual({ query: '"x" 0' });
    expect(literatureArguments('"x" 101')).toEqual({ query: '"x" 101' });
    // A count is a request of its own: the default-count answer is not reused for it.
    expect(await runHostTool('literature_search "tit for tat"', ctx)).toContain('Tit for Tat');
    expect(requests).toHaveLength(4);
  });

  it("offers no memory to a task without MLGym's memory_enabled: the tools are left out of the prompt and refuse", async () => {
    const ctx = { runId: 'run-no-mem', store };
    expect(await runHostTool('memory_write lr 3e-4 helped', ctx)).toMatch(/memory tools are off for this task .*memory_enabled/);
    expect(await runHostTool('memory_read lr', ctx)).toMatch(/memory tools are off/);
    expect(await store.objects.list('tasks/')).toEqual([]);
    expect(commandsFor({ memory_enabled: false }).map((c) => c.name)).not.toContain('memory_write');
    expect(commandDocs(commandsFor({}))).not.toContain('memory_read');
    expect(commandDocs(commandsFor({ memory_enabled: true }))).toContain('memory_read <query>');
    // validate names the split it shows: the test split under MLGym's protocol or when the task says so.
    expect(commandDocs(commandsFor({}))).toContain('show its score on the validation split');
    expect(commandDocs(commandsFor({ validate_shows: 'validation' }, 'mlgym'))).toContain('show its score on the test split');
    expect(commandDocs(commandsFor({ validate_shows: 'test' }, 'ours'))).toContain('show its score on the test split');
    expect(hostToolTask({ id: 'houseTask', dir: '/t', memory_path: 'memory.json', memory_enabled: false })).toEqual({});
  });

  it("keeps the memory of a task with memory_enabled in the artifact store across its runs, starting from MLGym's memory file", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'mlgym-task-memory-'));
    const seedFile = join(dir, 'memory.json');
    writeFileSync(seedFile, JSON.stringify({ texts: ['ridge alpha 10 beat 0.1'], embeddings: [[0.1, 0.2]], tags: [['rid', 'idg']] }));
    const taskMemory = { taskId: 'houseTask', seedFile };
    const first = { runId: 'run-a', store, taskMemory };
    expect(await runHostTool('memory_read ridge', first)).toContain('[note 1] ridge alpha 10 beat 0.1');
    expect(await runHostTool('memory_write', first)).toContain('needs the text');
    expect(await runHostTool('memory_write log-transform SalePrice first', first)).toBe('Saved to memory as note 2.');
    // Another run of the task, later or at the same time and through another worker's store, reads it; a run of another task does not.
    const second = { runId: 'run-b', store: new ArtifactStore(root), taskMemory };
    expect(await runHostTool('memory_read SalePrice', second)).toContain('[note 2] log-transform SalePrice first');
    expect(await runHostTool('memory_write log-transform SalePrice first', second)).toBe('Already in memory as note 2.');
    await Promise.all(['a', 'b', 'c'].map((n, i) => runHostTool(`memory_write note ${n}`, { ...(i % 2 ? first : second) })));
    expect(await runHostTool('memory_read note', second)).toMatch(/^The 3 best of 5 notes/);
    expect(await runHostTool('memory_read SalePrice', { runId: 'run-c', store, taskMemory: { taskId: 'otherTask' } })).toContain('memory is empty');
    // Stored under the task, one object per note: the seed file's note is not copied, the repeated one is stored once.
    const keys = await store.objects.list('tasks/houseTask/memory/');
    expect(keys).toHaveLength(4);
    expect(JSON.parse((await store.objects.get(keys[0]!))!.toString())).toMatchObject({ runId: expect.stringMatching(/^run-[ab]$/) });
    expect(await store.list('run-a', 'tools')).toEqual([]);
    expect(hostToolTask({ id: 'houseTask', dir, memory_path: 'memory.json', memory_enabled: true })).toEqual({ taskMemory: { taskId: 'houseTask', seedFile } });
    expect(hostToolTask({ id: 'houseTask', dir, memory_path: undefined, memory_enabled: true })).toEqual({ taskMemory: { taskId: 'houseTask' } });
  });

  it('answers every host tool in the registry, and nothing else', async () => {
    const ctx = { runId: 'run-usage', store, taskMemory: { taskId: 'usageTask' } };
    for (const tool of TOOL_COMMANDS.filter((c) => c.kind === 'host')) expect(await runHostTool(tool.name, ctx)).toContain('needs');
    expect(await runHostTool('ls -la', ctx)).toBeUndefined();
    expect(await runHostTool('open memory_read', ctx)).toBeUndefined();
    expect(await runHostTool('validate', ctx)).toBeUndefined();
  });
});

/** A PDF of the given objects (numbered from 1; object 1 is the catalog), streams as [dictionary, data] with LEN for their length. */
function buildPdf(objects: (string | [string, Buffer | string])[]): Buffer {
  const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
  const offsets: number[] = [];
  let size = parts[0]!.length;
  objects.forEach((o, i) => {
    offsets.push(size);
    const body =
      typeof o === 'string'
        ? Buffer.from(`${i + 1} 0 obj\n${o}\nendobj\n`, 'latin1')
        : Buffer.concat([Buffer.from(`${i + 1} 0 obj\n${o[0].replace('LEN', String(Buffer.from(o[1]).length))}\nstream\n`, 'latin1'), Buffer.from(o[1]), Buffer.from('\nendstream\nendobj\n')]);
    parts.push(body);
    size += body.length;
  });
  const xref = `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n${offsets.map((o) => `${String(o).padStart(10, '0')} 00000 n \n`).join('')}`;
  return Buffer.concat([...parts, Buffer.from(`${xref}trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${size}\n%%EOF\n`)]);
}

const toUnicodeCmap = [
  '/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Test def',
  '1 begincodespacerange <0000> <FFFF> endcodespacerange',
  '2 beginbfchar <0001> <0048> <0002> <0069> endbfchar',
  '2 beginbfrange <0003> <0003> <FB01> <0010> <0012> <0061> endbfrange',
  'endcmap CMapName currentdict /CMap defineresource pop end end',
].join('\n');

/** Two pages: a Type1 font with Differences (page 1), a composite font with a compressed ToUnicode map (page 2). */
const paperPdf = buildPdf([
  '<< /Type /Catalog /Pages 2 0 R >>',
  '<< /Type /Pages /Kids [3 0 R 5 0 R] /Count 2 /Resources << /Font << /F1 4 0 R /F2 7 0 R >> >> >>',
  '<< /Type /Page /Parent 2 0 R /Contents 6 0 R >>',
  '<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding << /Differences [12 /fi 39 /quoteright] >> >>',
  '<< /Type /Page /Parent 2 0 R /Contents 9 0 R >>',
  [
    '<< /Length LEN >>',
    'BT /F1 12 Tf 72 720 Td (Attention Is All You Need) Tj 0 -14 Td [(The domi)-10(nant)-333(sequence)] TJ ET\n' +
      'BT /F1 10 Tf 72 650 Td (models \\(RNNs\\) \\014nd it\'s) Tj ET',
  ],
  '<< /Type /Font /Subtype /Type0 /BaseFont /Test /Encoding /Identity-H /DescendantFonts [10 0 R] /ToUnicode 8 0 R >>',
  ['<< /Length LEN /Filter /FlateDecode >>', deflateSync(toUnicodeCmap)],
  ['<< /Length LEN /Filter /FlateDecode >>', deflateSync('BT /F2 11 Tf 1 0 0 1 72 700 Tm <00010002> Tj 40 0 Td <0003> Tj 0 -20 Td <001000110012> Tj ET')],
  '<< /Type /Font /Subtype /CIDFontType2 /BaseFont /Test /CIDSystemInfo << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >> /DW 500 >>',
]);

describe('pdfText', () => {
  it('reads the pages of a PDF through pdf.js: Differences, kerning gaps, new lines and paragraphs', async () => {
    const pages = (await pdfText(paperPdf)).pages;
    expect(pages).toHaveLength(2);
    const first = pages[0];
    expect(first).toBe('Attention Is All You Need\nThe dominant sequence\n\nmodels (RNNs) find it\u2019s');
  });

});

describe('parse_pdf_url', () => {
  let server: Server;
  let baseUrl: string;
  const served: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      served.push(req.url!);
      if (req.url === '/paper.pdf') {
        res.writeHead(200, { 'content-type': 'application/pdf' });
        res.end(paperPdf);
      } else if (req.url === '/moved') {
        res.writeHead(302, { location: '/paper.pdf' });
        res.end();
      } else if (req.url === '/page.html') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>not a pdf</html>');
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => new Promise((resolve) => server.close(resolve)));
  afterEach(() => void (served.length = 0));

  const cache = (): PdfCache & { entries: Map<string, PdfText> } => {
    const entries = new Map<string, PdfText>();
    return { entries, get: async (u) => entries.get(u), set: async (u, t) => void entries.set(u, t) };
  };

  it('downloads a PDF, following redirects, and shows its text page by page; a repeated URL comes from the cache', async () => {
    const c = cache();
    const out = await parsePdfUrl(`${baseUrl}/moved`, { cache: c, allowPrivateHosts: true });
    const pages = (await pdfText(paperPdf)).pages;
    expect(out).toBe(`Text of ${baseUrl}/moved (2 pages, ${pages[0]!.length + pages[1]!.length} characters):\n\n--- page 1 ---\n${pages[0]}\n\n--- page 2 ---\n${pages[1]}`);
    expect(await parsePdfUrl(`${baseUrl}/moved`, { cache: c, allowPrivateHosts: true })).toBe(out);
    expect(served).toEqual(['/moved', '/paper.pdf']);
    const cut = await parsePdfUrl(`${baseUrl}/paper.pdf`, { cache: cache(), allowPrivateHosts: true, maxChars: 40 });
    const shown = 'Attention Is All You Ne'; // 40 characters with the page line before it
    expect(cut).toContain(`\n\n--- page 1 ---\n${shown}\n\n[The text goes on for about ${pages[0]!.length + pages[1]!.length - shown.length} more characters (pages 1-2); this is as much as one observation shows.]`);
  });

  it('says plainly what is wrong with a URL that gives no PDF text', async () => {
    const opts = { cache: cache(), allowPrivateHosts: true };
    expect(await parsePdfUrl(`${baseUrl}/page.html`, opts)).toContain('is not a PDF');
    expect(await parsePdfUrl(`${baseUrl}/gone.pdf`, opts)).toBe(`Could not download ${baseUrl}/gone.pdf: the server answered HTTP 404.`);
    expect(await parsePdfUrl('ftp://example.org/a.pdf', opts)).toContain('needs an http(s) URL');
    expect(await parsePdfUrl('', opts)).toContain('parse_pdf_url needs the URL of a PDF');
  });

  it("refuses addresses of the worker's own networks", async () => {
    expect(await parsePdfUrl(`${baseUrl}/paper.pdf`, { cache: cache() })).toBe(`Could not download ${baseUrl}/paper.pdf: 127.0.0.1:${new URL(baseUrl).port} is an address of a private network.`);
    expect(await runHostTool(`parse_pdf_url ${baseUrl}/paper.pdf`, { runId: 'run-pdf', store: new ArtifactStore(mkdtempSync(join(tmpdir(), 'pdf-'))) })).toContain('private network');
    expect(served).toEqual([]);
    expect(['10.1.2.3', '172.20.0.1', '192.168.1.1', '169.254.169.254', '127.0.0.1', '::1', 'fd00::1', '::ffff:10.0.0.1', '100.64.0.1'].every(isPrivateAddress)).toBe(true);
    expect(['8.8.8.8', '2606:4700::1111', '172.32.0.1'].some(isPrivateAddress)).toBe(false);
  });
});
