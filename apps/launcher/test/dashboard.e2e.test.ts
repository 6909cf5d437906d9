import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { DEFAULT_STATIC_DIR, startDashboardServer, type DashboardServer } from '@meridian/dashboard/server';
import { graphqlOk, preparePlatformEnv, type PreparedEnv } from '@meridian/testing';
import { startPlatform, type Platform } from '../src/platform';

/**
 * The dashboard end to end, in headless Chromium: the real platform (embedded mode; the
 * client logic runs in both modes in dashboardClient.test.ts), the real dashboard server,
 * two people in two browser contexts. Screenshots go to apps/dashboard/test-results/.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// This machine's network is closed: no background requests to Google services.
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ARTEFACTS = path.resolve(DEFAULT_STATIC_DIR, '..', 'test-results');
const SLOW = 300_000;

const available = existsSync(CHROMIUM);
if (!available) {
  console.warn(`dashboard e2e: SKIPPED, no Chromium at ${CHROMIUM} (install Debian's chromium package, or set CHROMIUM_PATH). CI installs it.`);
}
const describeWithChromium = available ? describe : describe.skip;

describeWithChromium('dashboard in Chromium: two people, live board, bell and analytics', () => {
  let prepared: PreparedEnv;
  let platform: Platform;
  let dashboard: DashboardServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const pageErrors: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTEFACTS, { recursive: true });
    prepared = await preparePlatformEnv({ name: 'embedded' });
    platform = await startPlatform({ env: prepared.env });
    dashboard = await startDashboardServer({ port: 0, gatewayUrl: platform.gatewayUrl });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  }, SLOW);

  afterAll(async () => {
    for (const context of contexts) await context.close().catch(() => undefined);
    await browser?.close();
    await dashboard?.stop();
    await platform?.stop();
    await prepared?.cleanup();
  });

  async function openAs(name: string, viewport: { width: number; height: number }, colorScheme: 'light' | 'dark'): Promise<Page> {
    const context = await browser.newContext({ viewport, colorScheme });
    contexts.push(context);
    const page = await context.newPage();
    // The machine is busy: generous waits (each is a wait for a condition, not a timing assertion).
    page.setDefaultTimeout(90_000);
    page.on('pageerror', (error) => pageErrors.push(`${name}: ${error.message}`));
    await page.goto(dashboard.url);
    await page.getByRole('tab', { name: 'Create account' }).click();
    await page.getByLabel('Display name').fill(name);
    await page.getByLabel('Email').fill(`${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}@example.com`);
    await page.getByLabel('Password').fill('correct horse battery staple');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByRole('heading', { name: 'Board' }).waitFor();
    return page;
  }

  const shot = (page: Page, name: string) => page.screenshot({ path: path.join(ARTEFACTS, `${name}.png`), fullPage: true, animations: 'disabled' });

  /**
   * Creates a task through the open dialog. The gateway sometimes loses a request to a
   * subgraph on this busy machine (ECONNRESET on a reused keep-alive socket, masked as
   * INTERNAL_SERVER_ERROR; a platform issue, not the dashboard's). The dialog then shows the
   * error and keeps what was typed. Like a careful person, the test first looks whether the
   * task was created anyway (the board shows it live) and only otherwise submits again.
   */
  async function createTaskInDialog(page: Page, title: string) {
    const dialog = page.getByRole('dialog');
    const card = page.getByTestId('column-TODO').getByText(title);
    for (let attempt = 1; ; attempt += 1) {
      await dialog.getByRole('button', { name: 'Create', exact: true }).click();
      const outcome = await Promise.race([
        dialog.waitFor({ state: 'hidden' }).then(() => 'closed' as const, () => 'timeout' as const),
        dialog.getByRole('alert').waitFor().then(() => 'error' as const, () => 'timeout' as const),
      ]);
      if (outcome === 'closed') return;
      if (outcome === 'timeout') throw new Error('The dialog neither closed nor showed an error after "Create"');
      const message = (await dialog.getByRole('alert').textContent()) ?? '';
      if (attempt > 2 || !message.includes('Something went wrong on the server')) throw new Error(`The dialog showed an error: ${message}`);
      console.warn(`dashboard e2e: creating the task got "${message}" from the platform`);
      const createdAnyway = await card.waitFor({ timeout: 20_000 }).then(() => true, () => false);
      if (createdAnyway) {
        await dialog.getByRole('button', { name: 'Cancel' }).click();
        return;
      }
    }
  }

  it('A assigns a task to B; B sees it live on the board and the bell; B completes it; A’s analytics move', async () => {
    const ada = await openAs('Ada', { width: 1280, height: 800 }, 'light');
    // Bob uses a phone-sized screen in the dark theme.
    const bob = await openAs('Bob', { width: 390, height: 844 }, 'dark');
    try {
      await assignCompleteAndWatch(ada, bob);
    } catch (error) {
      await shot(ada, 'failure-ada').catch(() => undefined);
      await shot(bob, 'failure-bob').catch(() => undefined);
      throw error;
    }
    expect(pageErrors).toEqual([]);
  }, SLOW);

  async function assignCompleteAndWatch(ada: Page, bob: Page) {
    await shot(bob, '01-bob-empty-board-phone');

    // Ada watches the analytics while work happens.
    await ada.getByRole('button', { name: 'Analytics', exact: true }).click();
    await ada.getByTestId('total-completed').waitFor();
    const completedBefore = Number(await ada.getByTestId('total-completed').textContent());
    const createdBefore = Number(await ada.getByTestId('total-created').textContent());

    // Ada creates a task assigned to Bob.
    await ada.getByRole('button', { name: 'Board', exact: true }).click();
    await ada.getByRole('button', { name: 'New task' }).click();
    const title = `Review the launch plan ${Date.now()}`;
    await ada.getByLabel('Title').fill(title);
    await ada.getByRole('combobox', { name: 'Priority' }).click();
    await ada.getByRole('option', { name: 'High' }).click();
    await ada.getByRole('combobox', { name: 'Assignee' }).click();
    await ada.getByRole('option', { name: 'Bob' }).click();
    await createTaskInDialog(ada, title);
    await ada.getByTestId('column-TODO').getByText(title).waitFor();

    // Bob's board and bell update without a reload.
    const bobCard = bob.getByTestId('task-card').filter({ hasText: title });
    await bob.getByTestId('column-TODO').getByText(title).waitFor();
    await bob.getByRole('button', { name: 'Notifications, 1 unread' }).waitFor();
    expect(await bobCard.count()).toBe(1);
    await expect(bobCard.getByTestId('task-assignee').textContent()).resolves.toBe('Bob');
    await shot(bob, '02-bob-assigned-live-phone');
    await bob.getByRole('button', { name: 'Notifications, 1 unread' }).click();
    await bob.getByRole('menuitem', { name: new RegExp(`You were assigned.*${title}`) }).waitFor();
    await shot(bob, '03-bob-bell-open-phone');
    await bob.keyboard.press('Escape');

    // Ada's analytics saw the task created.
    await ada.getByRole('button', { name: 'Analytics', exact: true }).click();
    await ada.getByTestId('total-created').filter({ hasText: String(createdBefore + 1) }).waitFor();

    // Bob completes it, with the keyboard: focus the card's menu button, Enter, pick Done.
    await bobCard.getByRole('button', { name: `Move "${title}"` }).focus();
    await bob.keyboard.press('Enter');
    await bob.getByRole('menuitem', { name: 'Move to Done' }).click();
    await bob.getByTestId('column-DONE').getByText(title).waitFor();
    expect(await bob.getByTestId('task-card').filter({ hasText: title }).count()).toBe(1);
    await shot(bob, '04-bob-completed-phone');

    // Ada's chart and totals move live.
    await ada.getByTestId('total-completed').filter({ hasText: String(completedBefore + 1) }).waitFor();
    const label = await ada.getByTestId('daily-chart').getAttribute('aria-label');
    expect(label).toMatch(/completed: (\d+, )*[1-9]\d*$/);
    await shot(ada, '05-ada-analytics-after-completion');

    // Ada's board shows the task done too, once.
    await ada.getByRole('button', { name: 'Board', exact: true }).click();
    await ada.getByTestId('column-DONE').getByText(title).waitFor();
    expect(await ada.getByTestId('task-card').filter({ hasText: title }).count()).toBe(1);
    await shot(ada, '06-ada-board');

    // Bob marks everything read.
    await bob.getByRole('button', { name: /Notifications, \d+ unread/ }).click();
    await bob.getByRole('button', { name: 'Mark all read' }).click();
    await bob.keyboard.press('Escape');
    await bob.getByRole('button', { name: 'Notifications, 0 unread' }).waitFor();
  }

  it('explains a forbidden action and an expired session to the person', async () => {
    const eve = await openAs('Eve', { width: 1280, height: 800 }, 'light');
    // Grace (through the API) creates a task; Eve sees it arrive live but may not change it.
    const grace = await graphqlOk<{ signUp: { accessToken: string } }>(
      platform.gatewayUrl,
      'mutation($input: SignUpInput!) { signUp(input: $input) { accessToken } }',
      { variables: { input: { email: `grace-${Date.now()}@example.com`, password: 'correct horse battery staple', displayName: 'Grace' } } },
    );
    const title = `Grace's own task ${Date.now()}`;
    await graphqlOk(platform.gatewayUrl, 'mutation($title: String!) { createTask(input: { title: $title }) { id } }', {
      token: grace.signUp.accessToken,
      variables: { title },
    });
    const card = eve.getByTestId('task-card').filter({ hasText: title });
    await eve.getByTestId('column-TODO').getByText(title).waitFor();
    await card.getByRole('button', { name: `Move "${title}"` }).click();
    await eve.getByRole('menuitem', { name: 'Move to In progress' }).click();
    await eve.getByRole('alert').filter({ hasText: 'You are not allowed to do that.' }).waitFor();
    // The optimistic move was rolled back.
    await eve.getByTestId('column-TODO').getByText(title).waitFor();
    await shot(eve, '07-forbidden-action');

    // A refresh token the server refuses (spent, revoked or expired): the app says so and shows sign-in.
    await eve.evaluate(() => {
      // Runs in the page (this file is type-checked without the DOM library).
      const storage = (globalThis as unknown as { localStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void } }).localStorage;
      const stored = JSON.parse(storage.getItem('meridian.session') ?? 'null') as Record<string, string>;
      storage.setItem('meridian.session', JSON.stringify({ ...stored, refreshToken: 'not-a-valid-refresh-token', expiresAt: new Date(0).toISOString() }));
    });
    await eve.reload();
    await eve.getByText('Your session has expired. Please sign in again.').waitFor();
    await eve.getByRole('button', { name: 'Sign in' }).waitFor();
    await shot(eve, '08-session-expired');
    expect(pageErrors).toEqual([]);
  }, SLOW);
});
