import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ArtifactStore } from '../../lib/artifacts/store.js';
import { repoRoot } from '../../lib/home.js';
import { EDIT_ACTION, writeBenchmark } from '../helpers/reportFixtures.js';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = join(repoRoot, 'tests', '.artifacts');
const inCi = process.env.CI === 'true';

describe('report in headless Chromium', () => {
  it('has Chromium to run in (a missing browser fails on CI; run `npm run setup`)', () => {
    if (!inCi && !existsSync(CHROMIUM)) return;
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: scripts/setup.sh installs Debian's chromium`).toBe(true);
  });
});

describe.skipIf(!existsSync(CHROMIUM))('report of a 3-task × 2-agent benchmark in headless Chromium', () => {
  const home = mkdtempSync(join(tmpdir(), 'mlgym-report-browser-'));
  const out = join(home, 'report.html');
  let runIds: string[];
  let context: BrowserContext;
  let page: Page;

  beforeAll(async () => {
    runIds = (await writeBenchmark(new ArtifactStore(join(home, 'artifacts')), 'bench-browser')).map((r) => r.runId);
    const cli = spawnSync('node', [join(repoRoot, 'bin/mlgym.js'), 'report', '--runs', runIds.join(','), '--out', out, '--title', 'Browser test benchmark'], {
      encoding: 'utf8',
      cwd: repoRoot,
      env: { ...process.env, MLGYM_HOME: home },
    });
    expect(cli.status, cli.stderr).toBe(0);
    context = await chromium.launchPersistentContext(join(home, 'chromium-profile'), {
      executablePath: CHROMIUM,
      headless: true,
      viewport: { width: 1400, height: 1000 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    page = context.pages()[0] ?? (await context.newPage());
    await page.goto(pathToFileURL(out).href);
  });

  afterAll(async () => {
    await context?.close();
    rmSync(home, { recursive: true, force: true });
  });

  it('renders both profile plots with one visible curve per method', async () => {
    for (const variant of ['bestAttempt', 'bestSubmission']) {
      const svg = page.locator(`figure.profile-plot[data-variant="${variant}"] svg`);
      await expect(svg.isVisible()).resolves.toBe(true);
      const box = await svg.boundingBox();
      expect(box!.width).toBeGreaterThan(0);
      expect(box!.height).toBeGreaterThan(0);
      const methods = await svg.locator('path.profile').evaluateAll((paths) => paths.map((p) => p.getAttribute('data-method')));
      expect(methods.sort()).toEqual(['<b>llama</b>', 'baseline', 'gpt-4o']);
    }
    await expect(page.locator('#aup tbody tr').count()).resolves.toBe(3);
  });

  it('opens a run’s trajectory when the run is clicked', async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'report.png'), fullPage: true });
    const runId = runIds[0]!;
    const trajectory = page.locator(`section.trajectory[id="run-${runId}"]`);
    const edit = trajectory.locator('pre.action', { hasText: 'end_of_edit' });
    await expect(edit.isVisible()).resolves.toBe(false);
    await page.locator('a.run-link', { hasText: runId }).click();
    await edit.waitFor({ state: 'visible', timeout: 5000 });
    await expect(edit.textContent()).resolves.toBe(EDIT_ACTION);
    // The hostile observation shows as text; its script and handler never ran.
    const hostile = trajectory.locator('details.observation', { hasText: 'Traceback' });
    await hostile.locator('summary').click();
    await expect(hostile.locator('pre').textContent()).resolves.toContain('<script>window.__pwned = true</script>');
    await expect(page.evaluate(() => (window as unknown as { __pwned?: boolean }).__pwned)).resolves.toBeUndefined();
    await trajectory.screenshot({ path: join(ARTIFACTS, 'report-trajectory.png') });
  });
});
