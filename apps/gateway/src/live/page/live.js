// The live page's script: renders each LiveSnapshot of GET /live/events (server-sent events, about one
// a second) into index.html: the orders per second of all dark stores, one card per store (its stock,
// its agents, its orders per second) and the latest orders. Everything from the services goes in as
// text, never as HTML: store and food names are user input.

/** How many snapshots a chart of orders per second shows, one bar each. */
const HISTORY = 120;
const SVG = 'http://www.w3.org/2000/svg';
const NO_COUNTS = { free: 0, reserved: 0, assigned: 0, total: 0 };

/**
 * The last part of each kind the gateway could read. A part it could not read this time is null in
 * the snapshot: the page keeps showing the last one. The store cards join the three by store id.
 */
const last = { stores: [], agents: [], outcomes: null };

/** [placed / s, not placed / s] of the latest snapshots, oldest first: of all stores, and per store id. */
const rates = { all: [], stores: new Map() };

/** An element with attributes and children; a child that is not a node becomes text. */
function el(tag, attributes = {}, children = []) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) node.setAttribute(name, value);
  node.append(...children.map((child) => (child instanceof Node ? child : String(child))));
  return node;
}

function text(id, value) {
  document.getElementById(id).textContent = value;
}

/** free / reserved / assigned as the parts of one bar. */
function bar(counts) {
  return el(
    'div',
    { class: 'bar' },
    ['free', 'reserved', 'assigned'].map((part) => {
      const span = el('span', { class: part, title: `${part} ${counts[part]}` });
      span.style.width = `${counts.total ? (100 * counts[part]) / counts.total : 0}%`;
      return span;
    }),
  );
}

/** Big figures with their labels; `name` marks each for whoever reads the page (data-figure). */
function figures(items) {
  return el(
    'div',
    { class: 'figures' },
    items.map(([name, value, label, className = '']) =>
      el('div', { class: `figure ${className}`, 'data-figure': name }, [el('b', {}, [value]), el('small', {}, [label])]),
    ),
  );
}

/** Local time with milliseconds, from an ISO timestamp. */
function clock(iso) {
  return `${new Date(iso).toLocaleTimeString([], { hour12: false })}.${iso.slice(20, 23)}`;
}

/** Orders per second of one window's counts: [placed, not placed]. */
function perSecond(counts, windowMs) {
  return [counts.placed / (windowMs / 1000), counts.notPlaced / (windowMs / 1000)];
}

function record(history, rate) {
  history.push(rate);
  if (history.length > HISTORY) history.shift();
}

/** One point per snapshot for the charts: of all stores, and of each store (zero for a store with no order in the window). */
function recordRates(outcomes) {
  record(rates.all, perSecond(outcomes, outcomes.windowMs));
  const ids = new Set([...last.stores.map((store) => store.id), ...outcomes.stores.map((store) => store.storeId)]);
  for (const id of ids) {
    const counts = outcomes.stores.find((store) => store.storeId === id) ?? { placed: 0, notPlaced: 0 };
    if (!rates.stores.has(id)) rates.stores.set(id, []);
    record(rates.stores.get(id), perSecond(counts, outcomes.windowMs));
  }
}

/** One bar per snapshot, newest on the right: placed at the bottom, not placed stacked on it. */
function drawChart(chart, history) {
  const max = Math.max(1, ...history.map(([placed, notPlaced]) => placed + notPlaced));
  const shapes = [];
  history.forEach(([placed, notPlaced], i) => {
    const x = HISTORY - history.length + i;
    const placedHeight = (68 * placed) / max;
    const notPlacedHeight = (68 * notPlaced) / max;
    for (const [height, y, fill] of [
      [placedHeight, 70 - placedHeight, 'var(--placed)'],
      [notPlacedHeight, 70 - placedHeight - notPlacedHeight, 'var(--notplaced)'],
    ]) {
      if (height <= 0) continue;
      const rect = document.createElementNS(SVG, 'rect');
      for (const [name, value] of Object.entries({ x, y, width: 0.9, height, fill })) rect.setAttribute(name, value);
      shapes.push(rect);
    }
  });
  chart.setAttribute('viewBox', `0 0 ${HISTORY} 70`);
  chart.setAttribute('preserveAspectRatio', 'none');
  chart.replaceChildren(...shapes);
  return chart;
}

function renderTotals(outcomes) {
  const seconds = outcomes.windowMs / 1000;
  const [placed, notPlaced] = perSecond(outcomes, outcomes.windowMs);
  text('rate-title', `Orders per second, all dark stores (orders created in the last ${seconds} s, by outcome)`);
  text('rate-placed', placed.toFixed(1));
  text('rate-not-placed', notPlaced.toFixed(1));
  text('pending', outcomes.pending);
  drawChart(document.getElementById('chart'), rates.all);
}

function stockTable(foods) {
  const head = el('tr', {}, [
    el('th', {}, ['food']),
    ...['free', 'reserved', 'assigned', 'total'].map((part) => el('th', { class: 'num' }, [part])),
  ]);
  const rows = foods.map(({ id, name, packets }) =>
    el('tr', { 'data-food-id': id }, [
      el('td', { class: 'food' }, [name, bar(packets)]),
      ...['free', 'reserved', 'assigned', 'total'].map((part) => el('td', { class: 'num' }, [packets[part]])),
    ]),
  );
  if (rows.length === 0) rows.push(el('tr', {}, [el('td', { colspan: 5, class: 'none' }, ['no packets yet'])]));
  return el('table', { class: 'stock' }, [el('thead', {}, [head]), el('tbody', {}, rows)]);
}

/** A dark store's card: its stock per food, its agents and its orders per second. */
function storeCard(store) {
  const agents = last.agents.find((a) => a.storeId === store.id)?.agents ?? NO_COUNTS;
  const outcomes = last.outcomes;
  const counts = outcomes?.stores.find((s) => s.storeId === store.id) ?? { placed: 0, notPlaced: 0, pending: 0 };
  const [placed, notPlaced] = outcomes ? perSecond(counts, outcomes.windowMs).map((rate) => rate.toFixed(1)) : ['–', '–'];
  return el('section', { class: 'store', 'data-store-id': store.id }, [
    el('h2', {}, [store.name, el('small', {}, [` store ${store.id}`])]),
    el('h3', {}, ['Stock: packets per food']),
    stockTable(store.foods),
    el('h3', {}, ['Delivery agents']),
    figures(['free', 'reserved', 'assigned', 'total'].map((part) => [`agents-${part}`, agents[part], part])),
    bar(agents),
    el('h3', {}, ['Orders per second']),
    figures([
      ['rate-placed', placed, 'placed / s', 'placed-c'],
      ['rate-not-placed', notPlaced, 'not placed / s', 'notplaced-c'],
      ['pending', outcomes ? counts.pending : '–', 'pending now', 'pending-c'],
    ]),
    drawChart(document.createElementNS(SVG, 'svg'), rates.stores.get(store.id) ?? []),
  ]);
}

function renderStores() {
  const cards = last.stores.map(storeCard);
  document.getElementById('stores').replaceChildren(...(cards.length ? cards : [el('section', {}, ['No dark store yet'])]));
}

/** The states an order went through, each with the milliseconds since it was created. */
function timeline(order) {
  const start = new Date(order.createdAt).getTime();
  return (order.log ?? []).flatMap((entry, i) => {
    const label = entry.state + (entry.detail ? ` (${entry.detail})` : '');
    const step = el('span', { class: 'step' }, [el('b', {}, [label]), ` +${new Date(entry.at).getTime() - start} ms`]);
    return i ? [el('span', { class: 'step' }, ['→']), step] : [step];
  });
}

/** Each line of a cart: how many of which food, then the packets it holds or how many were missing. */
function items(order, foodNames) {
  return order.items.map((line) => {
    const name = foodNames.get(line.foodId) ?? `food ${line.foodId}`;
    const held = line.packetIds.length ? ` packets ${line.packetIds.join(', ')}` : '';
    const short = line.missing ? ` ${line.missing} short` : '';
    return el('div', { class: 'line', 'data-food-id': line.foodId }, [
      `${line.quantity} × ${name}`,
      el('small', { class: line.missing ? 'short' : '' }, [held + short]),
    ]);
  });
}

function renderOrders(orders) {
  const orNone = (value) => (value === null ? '–' : value);
  // Foods are one catalogue for every store: any store's stock names them.
  const foodNames = new Map(last.stores.flatMap((store) => store.foods.map((food) => [food.id, food.name])));
  const storeNames = new Map(last.stores.map((store) => [store.id, store.name]));
  document
    .getElementById('orders')
    .replaceChildren(
      ...orders.map((order) =>
        el('tr', { 'data-order-id': order.orderId, 'data-state': order.state, 'data-store-id': orNone(order.storeId) }, [
          el('td', {}, [clock(order.createdAt)]),
          el('td', {}, [el('code', { title: order.orderId }, [order.orderId])]),
          el('td', {}, [order.storeId === null ? '–' : (storeNames.get(order.storeId) ?? `store ${order.storeId}`)]),
          el('td', {}, items(order, foodNames)),
          el('td', {}, [el('span', { class: `state ${order.state}` }, [order.state + (order.reason ? ` · ${order.reason}` : '')])]),
          el('td', { class: 'num' }, [orNone(order.agentId)]),
          el('td', {}, [el('div', { class: 'timeline' }, timeline(order))]),
        ]),
      ),
    );
}

function status(className, message) {
  const node = document.getElementById('status');
  node.className = className;
  node.textContent = message;
}

function render(snapshot) {
  if (snapshot.stores) last.stores = snapshot.stores;
  if (snapshot.agents) last.agents = snapshot.agents;
  if (snapshot.outcomes) {
    last.outcomes = snapshot.outcomes;
    recordRates(snapshot.outcomes);
    renderTotals(snapshot.outcomes);
  }
  renderStores();
  if (snapshot.orders) renderOrders(snapshot.orders);
  text('errors', snapshot.errors.length ? `Not reachable: ${snapshot.errors.join('; ')}` : '');
  status('live', `live, updated ${clock(snapshot.at)}`);
}

// EventSource reconnects by itself after an error.
const events = new EventSource('/live/events');
events.onmessage = (event) => render(JSON.parse(event.data));
events.onerror = () => status('down', 'disconnected, retrying…');
