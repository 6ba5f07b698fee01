import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { TestSystem } from './support/harness';

/** The page's DOM, as the functions run inside Chromium see it (this project compiles without lib dom). */
declare const document: { getElementById(id: string): { textContent: string | null; className: string } | null };

jest.setTimeout(120_000);

const CHROMIUM = '/usr/bin/chromium';
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
/** Where the test leaves a picture of the page (docs/live-page.png in the README is one of these). */
const SCREENSHOT = process.env.LIVE_SCREENSHOT ?? join(__dirname, 'logs', 'live-page.png');

const hasChromium = existsSync(CHROMIUM);
if (!hasChromium) console.warn(`Skipping the live page test: ${CHROMIUM} is missing (apt-get install -y chromium; .ci/run installs it)`);
const describeWithChromium = hasChromium ? describe : describe.skip;

describeWithChromium('the live page, GET /', () => {
  const t = new TestSystem('live', 3904);
  let browser: Browser;
  let page: Page;
  /** What went wrong in the pages a test opened: script errors, console errors (a file the page's policy refused), failed loads. */
  const problems: string[] = [];
  const open = async (viewport = { width: 1280, height: 720 }) => {
    page = await browser.newPage({ viewport });
    page.on('pageerror', (error) => problems.push(`script error: ${error.message}`));
    // The gateway has no icon: the browser's own request for one is answered 404, and says so on the console.
    page.on('console', (message) => {
      if (message.type() === 'error' && !message.location().url.endsWith('/favicon.ico')) problems.push(`console: ${message.text()}`);
    });
    page.on('response', (response) => void (response.status() >= 400 && problems.push(`${response.status()} ${response.url()}`)));
    await page.goto(t.url + '/');
  };
  const text = (selector: string) => page.locator(selector).first().textContent();
  /** The gateway's last line about the live stream. */
  const gatewayLog = () =>
    readFileSync(t.logFile, 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('[gateway]') && /viewer/.test(line))
      .pop() ?? '';

  beforeAll(async () => {
    await t.start();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
  });
  afterAll(async () => {
    await browser?.close();
    await t.stop();
  });
  afterEach(async () => {
    expect(problems.splice(0)).toEqual([]);
    const report = await t.settled();
    expect(report.pending).toBe(0);
    expect(report.violations).toEqual([]);
  });

  it('shows stock, agents, orders per second and the latest orders with their timelines as they happen', async () => {
    const foodId = (await t.post('/foods', { name: 'Masala Dosa', packets: 5 })).body.id;
    await t.post('/foods', { name: 'Paneer Roll', packets: 3 });
    await t.post('/agents', { count: 4 });
    await open({ width: 1280, height: 900 });
    await page.waitForSelector(`tr[data-food-id="${foodId}"]`, { timeout: 10_000 });
    expect(await text('#agents-free')).toBe('4');

    const placed = await Promise.all([1, 2, 3].map(() => t.post('/orders', { foodId })));
    const refused = await t.post('/orders', { foodId: 999 });
    expect(placed.map((r) => r.status)).toEqual([201, 201, 201]);
    expect(refused.status).toBe(409);

    // Each order appears with its final state and the states it went through, in order.
    for (const { body } of placed) {
      const row = await page.waitForSelector(`tr[data-order-id="${body.orderId}"][data-state="PLACED"]`, { timeout: 10_000 });
      expect(await row.innerText()).toMatch(/RESERVING[\s\S]*COMMITTING[\s\S]*PLACED/);
    }
    const refusedRow = await page.waitForSelector(`tr[data-order-id="${refused.body.orderId}"][data-state="NOT_PLACED"]`, {
      timeout: 10_000,
    });
    expect(await refusedRow.innerText()).toMatch(/RESERVING[\s\S]*ABORTING \(UNKNOWN_FOOD\)[\s\S]*NOT_PLACED \(UNKNOWN_FOOD\)/);

    // Stock and agents follow; the rate counts the orders of the last window by outcome.
    await page.waitForFunction(() => document.getElementById('agents-assigned')?.textContent === '3', undefined, { timeout: 10_000 });
    expect(await text('#agents-free')).toBe('1');
    const food = await page.locator(`tr[data-food-id="${foodId}"] td`).allInnerTexts();
    expect(food.map((cell) => cell.trim())).toEqual(['Masala Dosa', '2', '0', '3', '5']);
    expect(Number(await text('#rate-placed'))).toBeGreaterThan(0);
    expect(Number(await text('#rate-not-placed'))).toBeGreaterThan(0);
    expect(await text('#status')).toMatch(/^live/);
    expect(await text('#errors')).toBe('');

    // A delivery shows up as the order's next steps, without reloading the page.
    const delivered = placed[0].body.orderId;
    expect((await t.post(`/orders/${delivered}/delivered`, {})).status).toBe(200);
    const row = await page.waitForSelector(`tr[data-order-id="${delivered}"][data-state="DELIVERED"]`, { timeout: 10_000 });
    expect(await row.innerText()).toMatch(/PLACED[\s\S]*DELIVERING[\s\S]*DELIVERED/);
    await page.waitForFunction(() => document.getElementById('agents-free')?.textContent === '2', undefined, { timeout: 10_000 });

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
    // With the last viewer gone, the gateway stops reading the services.
    await t.until(async () => gatewayLog().includes('No viewer left: stopped reading the services'), 10_000, 'the live stream to stop');
  });

  it('says when a service cannot be reached and shows the rest', async () => {
    await open();
    await page.waitForFunction(() => document.getElementById('status')?.className === 'live', undefined, { timeout: 10_000 });
    await t.system.stop('delivery');
    try {
      await page.waitForFunction(() => /delivery\.agent\.list/.test(document.getElementById('errors')?.textContent ?? ''), undefined, {
        timeout: 15_000,
      });
      expect(await page.locator('tr[data-food-id]').count()).toBe(2);
    } finally {
      t.system.spawn('delivery');
      await t.system.waitHealthy();
      await page.close();
    }
  });

  it('shows every column of the stock card whole on a 1400 px wide screen, as on narrower and wider ones', async () => {
    const foodId = (await t.post('/foods', { name: 'Hyderabadi Chicken Biryani', packets: 120 })).body.id;
    // Every cell of the stock table, the last column (`total`) above all, lies inside the card, and nothing
    // in the card is scrolled out of sight. A long name and three-digit counts make the table wide.
    const cut: string[] = [];
    for (const width of [1400, 768, 1024, 1920]) {
      await open({ width, height: 900 });
      await page.waitForSelector(`tr[data-food-id="${foodId}"]`, { timeout: 10_000 });
      // Measured in one go inside the page: the table is drawn anew about every second.
      const card = await page.locator('section', { has: page.locator('#foods') }).evaluate((section) => {
        const box = section.getBoundingClientRect();
        const cells = [...section.querySelectorAll('tr > *')].map((cell) => {
          const { left, right } = cell.getBoundingClientRect();
          return { text: cell.textContent, left, right };
        });
        return { left: box.left, right: box.right, hidden: section.scrollWidth - section.clientWidth, cells };
      });
      expect(card.cells.length).toBeGreaterThanOrEqual(2 * 5); // the header and at least the new food
      for (const cell of card.cells)
        if (cell.left < card.left || cell.right > card.right + 0.5)
          cut.push(`at ${width} px: "${cell.text}" spans ${cell.left}..${cell.right}, the card ${card.left}..${card.right}`);
      if (card.hidden > 0) cut.push(`at ${width} px: ${card.hidden} px of the card's width out of sight`);
      await page.close();
    }
    expect(cut).toEqual([]);
  });

  it('serves the page, its style and its script with their types, revalidated on every load: 304 while unchanged', async () => {
    const files = { '/': 'text/html', '/live.css': 'text/css', '/live.js': 'text/javascript' };
    for (const [path, type] of Object.entries(files)) {
      const first = await fetch(t.url + path);
      expect([path, first.status, first.headers.get('content-type'), first.headers.get('cache-control')]).toEqual([
        path,
        200,
        `${type}; charset=utf-8`,
        'no-cache',
      ]);
      expect((await first.text()).length).toBeGreaterThan(0);
      // As a browser asks when it revalidates its copy (fetch() would add `no-cache`, which asks for the whole file).
      const again = await fetch(t.url + path, { headers: { 'If-None-Match': first.headers.get('etag')!, 'Cache-Control': 'max-age=0' } });
      expect([path, again.status, await again.text()]).toEqual([path, 304, '']);
    }
    expect((await fetch(t.url + '/')).headers.get('content-security-policy')).toMatch(/^default-src 'self';/);
  });
});
