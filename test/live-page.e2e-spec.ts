import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Browser, Page, chromium } from 'playwright-core';
import { DEFAULT_STORE_ID } from '@app/contracts';
import { OpenApiDocument } from './support/openapi';
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

/** The data of the first server-sent event at `url` (`id: …` and `data: …` lines, then a blank line), as JSON. */
async function firstEvent(url: string): Promise<any> {
  const res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let received = '';
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new Error(`${url} ended before its first event`);
      received += decoder.decode(value, { stream: true });
      if (!received.includes('\n\n')) continue;
      const data = received
        .split('\n\n')[0]
        .split('\n')
        .find((line) => line.startsWith('data:'));
      return JSON.parse(data!.slice('data:'.length));
    }
  } finally {
    await reader.cancel();
  }
}

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

  /** A figure of a store's card: `agents-free`, `rate-placed`, … */
  const figure = (storeId: number, name: string) => text(`section[data-store-id="${storeId}"] [data-figure="${name}"] b`);
  /** The cells of a food's row in a store's stock table. */
  const stock = async (storeId: number, foodId: number) =>
    (await page.locator(`section[data-store-id="${storeId}"] tr[data-food-id="${foodId}"] td`).allInnerTexts()).map((cell) => cell.trim());
  /** Waits until the page shows `expected` for a figure (the page redraws about every second). */
  const showing = (storeId: number, name: string, expected: (value: string) => boolean) =>
    t.until(async () => expected((await figure(storeId, name)) ?? ''), 10_000, `store ${storeId}'s ${name}`);

  /** Stores and foods the first test creates; the later ones find them on the page. */
  const made = { stores: [] as number[], foods: [] as number[] };

  it('shows each dark store with its stock, agents and orders per second, and the latest carts with store, items and timeline', async () => {
    const [a, b] = await Promise.all(['Koramangala', 'Indiranagar'].map(async (name) => (await t.post('/stores', { name })).body.id));
    const [dosa, coffee] = await Promise.all(
      ['Masala Dosa', 'Filter Coffee'].map(async (name) => (await t.post('/foods', { name, packets: 0 })).body.id),
    );
    for (const [storeId, foodId, count] of [
      [a, dosa, 5],
      [a, coffee, 3],
      [b, dosa, 2],
      [b, coffee, 4],
    ])
      expect((await t.post(`/stores/${storeId}/packets`, { foodId, count })).status).toBe(201);
    expect((await t.post(`/stores/${a}/agents`, { count: 3 })).status).toBe(201);
    expect((await t.post(`/stores/${b}/agents`, { names: ['Asha', 'Ravi'] })).status).toBe(201);
    made.stores.push(a, b);
    made.foods.push(dosa, coffee);
    await open({ width: 1280, height: 900 });
    await page.waitForSelector(`section[data-store-id="${b}"] tr[data-food-id="${coffee}"]`, { timeout: 10_000 });
    expect(await text(`section[data-store-id="${a}"] h2`)).toMatch(/^Koramangala/);
    expect(await figure(a, 'agents-free')).toBe('3');
    expect(await figure(b, 'agents-free')).toBe('2');

    const cartOf = (storeId: number, dosas: number, coffees: number) =>
      t.post('/orders', {
        storeId,
        items: [
          { foodId: dosa, quantity: dosas },
          { foodId: coffee, quantity: coffees },
        ],
      });
    const placed = [await cartOf(a, 2, 1), await cartOf(a, 2, 1), await cartOf(b, 1, 2)];
    // Store b has one dosa left: a cart of three is refused, naming the food and how many were missing.
    const refused = await t.post('/orders', { storeId: b, items: [{ foodId: dosa, quantity: 3 }] });
    expect(placed.map((r) => r.status)).toEqual([201, 201, 201]);
    expect([refused.status, refused.body.details]).toEqual([409, [{ foodId: dosa, missing: 2 }]]);

    // Each cart appears with its store, its lines and the packets they hold, its final state and the states it went through.
    for (const { body } of placed) {
      const row = await page.waitForSelector(`tr[data-order-id="${body.orderId}"][data-state="PLACED"]`, { timeout: 10_000 });
      expect(await row.getAttribute('data-store-id')).toBe(String(body.storeId));
      const shown = await row.innerText();
      expect(shown).toContain(body.storeId === a ? 'Koramangala' : 'Indiranagar');
      for (const line of body.items) {
        const name = line.foodId === dosa ? 'Masala Dosa' : 'Filter Coffee';
        expect(shown).toContain(`${line.quantity} × ${name} packets ${line.packetIds.join(', ')}`);
      }
      expect(shown).toMatch(/RESERVING[\s\S]*COMMITTING[\s\S]*PLACED/);
    }
    const refusedRow = await page.waitForSelector(`tr[data-order-id="${refused.body.orderId}"][data-state="NOT_PLACED"]`, {
      timeout: 10_000,
    });
    expect(await refusedRow.innerText()).toMatch(
      /Indiranagar[\s\S]*3 × Masala Dosa 2 short[\s\S]*RESERVING[\s\S]*ABORTING \(OUT_OF_STOCK\)[\s\S]*NOT_PLACED \(OUT_OF_STOCK\)/,
    );

    // Each store's card follows its own stock, agents and orders; the default store, untouched, shows none.
    await showing(a, 'agents-assigned', (v) => v === '2');
    await showing(b, 'agents-assigned', (v) => v === '1');
    expect([await figure(a, 'agents-free'), await figure(b, 'agents-free')]).toEqual(['1', '1']);
    expect(await stock(a, dosa)).toEqual(['Masala Dosa', '1', '0', '4', '5']);
    expect(await stock(a, coffee)).toEqual(['Filter Coffee', '1', '0', '2', '3']);
    expect(await stock(b, dosa)).toEqual(['Masala Dosa', '1', '0', '1', '2']);
    expect(await stock(b, coffee)).toEqual(['Filter Coffee', '2', '0', '2', '4']);
    await showing(b, 'rate-not-placed', (v) => Number(v) > 0);
    expect(Number(await figure(a, 'rate-placed'))).toBeGreaterThan(0);
    expect(await figure(a, 'rate-not-placed')).toBe('0.0');
    expect(Number(await figure(b, 'rate-placed'))).toBeGreaterThan(0);
    expect(await figure(DEFAULT_STORE_ID, 'rate-placed')).toBe('0.0');
    // A food created with no packets is listed in the default store with none.
    expect(await stock(DEFAULT_STORE_ID, dosa)).toEqual(['Masala Dosa', '0', '0', '0', '0']);
    // All stores together: two stores' orders.
    expect(Number(await text('#rate-placed'))).toBeCloseTo(
      Number(await figure(a, 'rate-placed')) + Number(await figure(b, 'rate-placed')),
      1,
    );
    expect(Number(await text('#rate-not-placed'))).toBeGreaterThan(0);
    expect(await text('#status')).toMatch(/^live/);
    expect(await text('#errors')).toBe('');

    // A delivery shows up as the order's next steps and frees its store's agent, without reloading the page.
    const delivered = placed[0].body.orderId;
    expect((await t.post(`/orders/${delivered}/delivered`, {})).status).toBe(200);
    const row = await page.waitForSelector(`tr[data-order-id="${delivered}"][data-state="DELIVERED"]`, { timeout: 10_000 });
    expect(await row.innerText()).toMatch(/PLACED[\s\S]*DELIVERING[\s\S]*DELIVERED/);
    await showing(a, 'agents-free', (v) => v === '2');
    expect(await figure(b, 'agents-free')).toBe('1');

    await page.screenshot({ path: SCREENSHOT, fullPage: true });
    await page.close();
    // With the last viewer gone, the gateway stops reading the services.
    await t.until(async () => gatewayLog().includes('No viewer left: stopped reading the services'), 10_000, 'the live stream to stop');
  });

  it('sends snapshots the OpenAPI document describes (LiveSnapshot), with every store and its agents', async () => {
    const doc = await OpenApiDocument.fetch(t.url);
    const snapshot = await firstEvent(t.url + '/live/events');
    const validate = doc.validator('/components/schemas/LiveSnapshot');
    expect([validate(snapshot), validate.errors ?? []]).toEqual([true, []]);
    // The stores are listed by id; the two made above were created concurrently, in either order.
    const byId = [...made.stores].sort((x, y) => x - y);
    expect(snapshot.stores.map((store: { id: number }) => store.id)).toEqual([DEFAULT_STORE_ID, ...byId]);
    const agentsOf = (storeId: number) => snapshot.agents.find((agents: { storeId: number }) => agents.storeId === storeId)?.agents;
    // Store a delivered one of its two orders; store b placed one.
    expect(made.stores.map(agentsOf)).toEqual([
      { free: 2, reserved: 0, assigned: 1, total: 3 },
      { free: 1, reserved: 0, assigned: 1, total: 2 },
    ]);
  });

  it('says when a service cannot be reached and shows the rest, as last read', async () => {
    await open();
    await page.waitForFunction(() => document.getElementById('status')?.className === 'live', undefined, { timeout: 10_000 });
    const [a] = made.stores;
    const agentsBefore = await figure(a, 'agents-total');
    const foodRows = await page.locator('section[data-store-id] tr[data-food-id]').count();
    await t.system.stop('delivery');
    try {
      await page.waitForFunction(() => /delivery\.agent\.list/.test(document.getElementById('errors')?.textContent ?? ''), undefined, {
        timeout: 15_000,
      });
      expect(await page.locator('section[data-store-id] tr[data-food-id]').count()).toBe(foodRows);
      expect(await figure(a, 'agents-total')).toBe(agentsBefore);
    } finally {
      t.system.spawn('delivery');
      await t.system.waitHealthy();
      await page.close();
    }
  });

  it("shows every column of each store's stock table whole on a 1400 px wide screen, as on narrower and wider ones", async () => {
    const foodId = (await t.post('/foods', { name: 'Hyderabadi Chicken Biryani', packets: 120 })).body.id;
    for (const storeId of made.stores) expect((await t.post(`/stores/${storeId}/packets`, { foodId, count: 480 })).status).toBe(201);
    // Every cell of every store's stock table, the last column (`total`) above all, lies inside its card,
    // and nothing in a card is scrolled out of sight. A long name and three-digit counts make the tables wide.
    const cut: string[] = [];
    for (const width of [1400, 768, 1024, 1920]) {
      await open({ width, height: 900 });
      await page.waitForSelector(`section[data-store-id="${made.stores[1]}"] tr[data-food-id="${foodId}"]`, { timeout: 10_000 });
      // Measured in one go inside the page: the cards are drawn anew about every second.
      const cards = await page.locator('section[data-store-id]').evaluateAll((sections) =>
        sections.map((section) => {
          const box = section.getBoundingClientRect();
          const cells = [...section.querySelectorAll('table.stock tr > *')].map((cell) => {
            const { left, right } = cell.getBoundingClientRect();
            return { text: cell.textContent, left, right };
          });
          return {
            store: section.getAttribute('data-store-id'),
            left: box.left,
            right: box.right,
            hidden: section.scrollWidth - section.clientWidth,
            cells,
          };
        }),
      );
      expect(cards).toHaveLength(3);
      for (const card of cards) {
        expect(card.cells.length).toBeGreaterThanOrEqual(2 * 5); // the header and at least the new food
        for (const cell of card.cells)
          if (cell.left < card.left || cell.right > card.right + 0.5)
            cut.push(
              `at ${width} px, store ${card.store}: "${cell.text}" spans ${cell.left}..${cell.right}, the card ${card.left}..${card.right}`,
            );
        if (card.hidden > 0) cut.push(`at ${width} px, store ${card.store}: ${card.hidden} px of the card's width out of sight`);
      }
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
