import { execFileSync } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { dockerDir } from '../../lib/home.js';
import { rankBm25 } from '../../lib/tools/bm25.js';
import { refuseInteractive } from '../../lib/tools/guard.js';
import { runHostTool } from '../../lib/tools/host.js';
import { literatureSearch, type LiteratureCache, type LiteratureResult } from '../../lib/tools/literature.js';
import { prepareCommand } from '../../lib/tools/prepare.js';
import { commandDocs, TOOL_COMMANDS } from '../../lib/tools/registry.js';
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
      { paperId: 'p1', title: 'Cooperation in Iterated Games', year: 2001, authors: [{ name: 'A. One' }, { name: 'B. Two' }, { name: 'C. Three' }, { name: 'D. Four' }], abstract: 'word '.repeat(200), url: 'https://example.org/p1' },
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
    expect(requests[0]!.searchParams.get('fields')).toBe('title,year,authors,abstract,url');
    expect(out).toContain('2 papers found for "iterated prisoners dilemma"');
    expect(out).toContain('1. Cooperation in Iterated Games (2001)');
    expect(out).toContain('Authors: A. One, B. Two, C. Three et al.');
    expect(out).toContain('URL: https://example.org/p1');
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

  it('keeps a per-run memory in the artifact store and reads the best 3 notes', async () => {
    const ctx = { runId: 'run-mem', store };
    expect(await runHostTool('memory_read lr', ctx)).toContain('memory is empty');
    const notes = ['lr 3e-4 beat 1e-3 on validation', 'tit for tat scores 2.4', 'random forest baseline 0.71', 'lr warmup 500 steps helped', 'data is in data/train.csv'];
    for (const note of notes) expect(await runHostTool(`memory_write ${note}`, ctx)).toMatch(/^Saved to memory/);
    expect(await runHostTool(`memory_write ${notes[0]}`, ctx)).toBe('Already in memory as note 1.');
    const read = (await runHostTool('memory_read "lr warmup"', ctx))!;
    expect(read.split('\n')[0]).toBe('The 2 best of 5 notes for "lr warmup":');
    expect(read.split('\n')[1]).toBe('[note 4] lr warmup 500 steps helped');
    expect(await runHostTool('memory_read lr', { runId: 'run-mem', store: new ArtifactStore(root) })).toContain('[note 1]');
    expect(await runHostTool('memory_read quantum', ctx)).toContain('No note in memory (5 in all) matches');
    expect(await store.readJson('run-mem', 'tools/memory.json')).toEqual({ notes });
  });

  it('answers every host tool in the registry, and nothing else', async () => {
    const ctx = { runId: 'run-usage', store };
    for (const tool of TOOL_COMMANDS.filter((c) => c.kind === 'host')) expect(await runHostTool(tool.name, ctx)).toContain('needs');
    expect(await runHostTool('ls -la', ctx)).toBeUndefined();
    expect(await runHostTool('open memory_read', ctx)).toBeUndefined();
    expect(await runHostTool('validate', ctx)).toBeUndefined();
  });
});
