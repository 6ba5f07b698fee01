// The live page's script: renders each LiveSnapshot of GET /live/events (server-sent events, about one
// a second) into index.html. Everything from the services goes in as text, never as HTML: food names
// are user input.

/** How many snapshots the orders-per-second chart shows, one bar each. */
const HISTORY = 120;
const SVG = 'http://www.w3.org/2000/svg';

/** [placed / s, not placed / s] of the latest snapshots, oldest first. */
const rates = [];

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
  return ['free', 'reserved', 'assigned'].map((part) => {
    const span = el('span', { class: part, title: `${part} ${counts[part]}` });
    span.style.width = `${counts.total ? (100 * counts[part]) / counts.total : 0}%`;
    return span;
  });
}

/** Local time with milliseconds, from an ISO timestamp. */
function clock(iso) {
  return `${new Date(iso).toLocaleTimeString([], { hour12: false })}.${iso.slice(20, 23)}`;
}

function renderFoods(foods) {
  document
    .getElementById('foods')
    .replaceChildren(
      ...foods.map(({ id, name, packets }) =>
        el('tr', { 'data-food-id': id }, [
          el('td', {}, [name, el('div', { class: 'bar' }, bar(packets))]),
          el('td', { class: 'num' }, [packets.free]),
          el('td', { class: 'num' }, [packets.reserved]),
          el('td', { class: 'num' }, [packets.assigned]),
          el('td', { class: 'num' }, [packets.total]),
        ]),
      ),
    );
}

function renderAgents(agents) {
  for (const part of ['free', 'reserved', 'assigned', 'total']) text(`agents-${part}`, agents[part]);
  document.getElementById('agents-bar').replaceChildren(...bar(agents));
}

function renderRates(outcomes) {
  const seconds = outcomes.windowMs / 1000;
  const placed = outcomes.placed / seconds;
  const notPlaced = outcomes.notPlaced / seconds;
  text('rate-title', `Orders per second (orders created in the last ${seconds} s, by outcome)`);
  text('rate-placed', placed.toFixed(1));
  text('rate-not-placed', notPlaced.toFixed(1));
  text('pending', outcomes.pending);
  rates.push([placed, notPlaced]);
  if (rates.length > HISTORY) rates.shift();
  renderChart();
}

/** One bar per snapshot, newest on the right: placed at the bottom, not placed stacked on it. */
function renderChart() {
  const max = Math.max(1, ...rates.map(([placed, notPlaced]) => placed + notPlaced));
  const shapes = [];
  rates.forEach(([placed, notPlaced], i) => {
    const x = HISTORY - rates.length + i;
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
  const chart = document.getElementById('chart');
  chart.setAttribute('viewBox', `0 0 ${HISTORY} 70`);
  chart.replaceChildren(...shapes);
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

function renderOrders(orders) {
  const orNone = (value) => (value === null ? '–' : value);
  document
    .getElementById('orders')
    .replaceChildren(
      ...orders.map((order) =>
        el('tr', { 'data-order-id': order.orderId, 'data-state': order.state }, [
          el('td', {}, [clock(order.createdAt)]),
          el('td', {}, [el('code', { title: order.orderId }, [order.orderId])]),
          el('td', { class: 'num' }, [orNone(order.foodId)]),
          el('td', {}, [el('span', { class: `state ${order.state}` }, [order.state + (order.reason ? ` · ${order.reason}` : '')])]),
          el('td', { class: 'num' }, [orNone(order.packetId)]),
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

/** A part the gateway could not read is null: the page keeps showing what it last had. */
function render(snapshot) {
  if (snapshot.foods) renderFoods(snapshot.foods);
  if (snapshot.agents) renderAgents(snapshot.agents);
  if (snapshot.outcomes) renderRates(snapshot.outcomes);
  if (snapshot.orders) renderOrders(snapshot.orders);
  text('errors', snapshot.errors.length ? `Not reachable: ${snapshot.errors.join('; ')}` : '');
  status('live', `live, updated ${clock(snapshot.at)}`);
}

// EventSource reconnects by itself after an error.
const events = new EventSource('/live/events');
events.onmessage = (event) => render(JSON.parse(event.data));
events.onerror = () => status('down', 'disconnected, retrying…');
