/**
 * GET /: one self-contained page (no build step, no external files) that renders the LiveSnapshot
 * events of GET /live/events. Everything from the services is inserted as text, never as HTML:
 * food names are user input.
 */
export const LIVE_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Food delivery 2PC: live</title>
<style>
  :root { --placed: #2e8540; --notplaced: #c0392b; --pending: #d68910; --free: #2e8540; --reserved: #d68910; --assigned: #2471a3; --muted: #667; }
  body { font: 14px/1.4 system-ui, sans-serif; margin: 0; background: #f4f5f7; color: #223; }
  header { display: flex; align-items: baseline; gap: 1rem; padding: .8rem 1.2rem; background: #223; color: #fff; }
  header h1 { font-size: 1.1rem; margin: 0; }
  header .links a { color: #9cf; margin-right: .8rem; }
  #status { margin-left: auto; font-size: .85rem; }
  #status.live::before { content: "\\25CF "; color: #4c4; }
  #status.down::before { content: "\\25CF "; color: #e44; }
  main { display: grid; grid-template-columns: repeat(auto-fit, minmax(320px, 1fr)); gap: 1rem; padding: 1rem 1.2rem; }
  section { background: #fff; border-radius: 6px; padding: .8rem 1rem; box-shadow: 0 1px 2px #0002; }
  section.wide { grid-column: 1 / -1; }
  h2 { font-size: .95rem; margin: 0 0 .6rem; color: #445; }
  table { border-collapse: collapse; width: 100%; }
  td:first-child { white-space: nowrap; }
  th, td { text-align: left; padding: .25rem .4rem; border-bottom: 1px solid #eee; vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: .8rem; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  .bar { display: flex; height: 8px; border-radius: 4px; overflow: hidden; background: #eee; }
  td .bar { margin-top: .2rem; }
  .bar span { display: block; height: 100%; }
  .free { background: var(--free); } .reserved { background: var(--reserved); } .assigned { background: var(--assigned); }
  .figures { display: flex; gap: 1.2rem; flex-wrap: wrap; }
  .figure b { display: block; font-size: 1.4rem; font-variant-numeric: tabular-nums; }
  .figure small { color: var(--muted); }
  .placed-c { color: var(--placed); } .notplaced-c { color: var(--notplaced); } .pending-c { color: var(--pending); }
  svg { width: 100%; height: 70px; margin-top: .5rem; background: #fafbfc; }
  .state { display: inline-block; padding: 0 .4rem; border-radius: 3px; font-size: .78rem; font-weight: 600; color: #fff; background: var(--pending); }
  .state.PLACED, .state.DELIVERED, .state.DELIVERING { background: var(--placed); }
  .state.NOT_PLACED { background: var(--notplaced); }
  .timeline { display: flex; flex-wrap: wrap; gap: .25rem; align-items: center; }
  .timeline .step { font-size: .75rem; color: var(--muted); }
  .timeline .step b { color: #223; font-weight: 600; }
  code { font-size: .8rem; }
  .errors { color: var(--notplaced); grid-column: 1 / -1; }
  .errors:empty { display: none; }
</style>
</head>
<body>
<header>
  <h1>Food delivery with two-phase commit</h1>
  <span class="links"><a href="/docs">API docs</a><a href="/health">health</a></span>
  <span id="status" class="down">connecting…</span>
</header>
<main>
  <div id="errors" class="errors"></div>
  <section>
    <h2>Stock: packets per food</h2>
    <table><thead><tr><th>food</th><th class="num">free</th><th class="num">reserved</th><th class="num">assigned</th><th class="num">total</th></tr></thead>
    <tbody id="foods"></tbody></table>
  </section>
  <section>
    <h2>Delivery agents</h2>
    <div class="figures">
      <div class="figure"><b id="agents-free">–</b><small>free</small></div>
      <div class="figure"><b id="agents-reserved">–</b><small>reserved</small></div>
      <div class="figure"><b id="agents-assigned">–</b><small>assigned</small></div>
      <div class="figure"><b id="agents-total">–</b><small>total</small></div>
    </div>
    <div class="bar" id="agents-bar" style="margin-top:.6rem"></div>
  </section>
  <section>
    <h2 id="rate-title">Orders per second</h2>
    <div class="figures">
      <div class="figure placed-c"><b id="rate-placed">–</b><small>placed / s</small></div>
      <div class="figure notplaced-c"><b id="rate-not-placed">–</b><small>not placed / s</small></div>
      <div class="figure pending-c"><b id="pending">–</b><small>pending now</small></div>
    </div>
    <svg id="chart" viewBox="0 0 120 70" preserveAspectRatio="none"></svg>
  </section>
  <section class="wide">
    <h2>Latest orders</h2>
    <table><thead><tr><th>created</th><th>order</th><th class="num">food</th><th>state</th><th class="num">packet</th><th class="num">agent</th><th>timeline</th></tr></thead>
    <tbody id="orders"></tbody></table>
  </section>
</main>
<script>
(function () {
  var HISTORY = 120;
  var history = [];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) { node.append(c instanceof Node ? c : String(c)); });
    return node;
  }
  function text(id, value) { document.getElementById(id).textContent = value; }
  function bar(counts) {
    return ['free', 'reserved', 'assigned'].map(function (k) {
      var pct = counts.total ? (100 * counts[k]) / counts.total : 0;
      return el('span', { class: k, style: 'width:' + pct + '%', title: k + ' ' + counts[k] });
    });
  }
  function clock(iso) { return new Date(iso).toLocaleTimeString([], { hour12: false }) + '.' + iso.slice(20, 23); }

  function renderFoods(foods) {
    document.getElementById('foods').replaceChildren.apply(document.getElementById('foods'), (foods || []).map(function (f) {
      var p = f.packets;
      return el('tr', { 'data-food-id': f.id }, [
        el('td', {}, [f.name, el('div', { class: 'bar' }, bar(p))]), el('td', { class: 'num' }, [p.free]), el('td', { class: 'num' }, [p.reserved]),
        el('td', { class: 'num' }, [p.assigned]), el('td', { class: 'num' }, [p.total]),
      ]);
    }));
  }

  function renderAgents(a) {
    if (!a) return;
    text('agents-free', a.free); text('agents-reserved', a.reserved); text('agents-assigned', a.assigned); text('agents-total', a.total);
    var b = document.getElementById('agents-bar'); b.replaceChildren.apply(b, bar(a));
  }

  function renderRates(o) {
    if (!o) return;
    var seconds = o.windowMs / 1000;
    var placed = o.placed / seconds, notPlaced = o.notPlaced / seconds;
    text('rate-title', 'Orders per second (orders created in the last ' + seconds + ' s, by outcome)');
    text('rate-placed', placed.toFixed(1)); text('rate-not-placed', notPlaced.toFixed(1)); text('pending', o.pending);
    history.push([placed, notPlaced]);
    if (history.length > HISTORY) history.shift();
    var max = Math.max(1, Math.max.apply(null, history.map(function (h) { return h[0] + h[1]; })));
    var svg = document.getElementById('chart');
    svg.setAttribute('viewBox', '0 0 ' + HISTORY + ' 70');
    var ns = 'http://www.w3.org/2000/svg';
    var shapes = [];
    history.forEach(function (h, i) {
      var x = HISTORY - history.length + i;
      var hp = (68 * h[0]) / max, hn = (68 * h[1]) / max;
      [[hp, 70 - hp, 'var(--placed)'], [hn, 70 - hp - hn, 'var(--notplaced)']].forEach(function (r) {
        if (r[0] <= 0) return;
        var rect = document.createElementNS(ns, 'rect');
        rect.setAttribute('x', x); rect.setAttribute('width', 0.9); rect.setAttribute('y', r[1]); rect.setAttribute('height', r[0]);
        rect.setAttribute('fill', r[2]);
        shapes.push(rect);
      });
    });
    svg.replaceChildren.apply(svg, shapes);
  }

  function renderOrders(orders) {
    if (!orders) return;
    var body = document.getElementById('orders');
    body.replaceChildren.apply(body, orders.map(function (o) {
      var start = new Date(o.createdAt).getTime();
      var steps = (o.log || []).map(function (e) {
        var label = e.state + (e.detail ? ' (' + e.detail + ')' : '');
        return el('span', { class: 'step' }, [el('b', {}, [label]), ' +' + (new Date(e.at).getTime() - start) + ' ms']);
      });
      var timeline = [];
      steps.forEach(function (s, i) { if (i) timeline.push(el('span', { class: 'step' }, ['→'])); timeline.push(s); });
      return el('tr', { 'data-order-id': o.orderId, 'data-state': o.state }, [
        el('td', {}, [clock(o.createdAt)]), el('td', {}, [el('code', { title: o.orderId }, [o.orderId])]),
        el('td', { class: 'num' }, [o.foodId === null ? '–' : o.foodId]),
        el('td', {}, [el('span', { class: 'state ' + o.state }, [o.state + (o.reason ? ' · ' + o.reason : '')])]),
        el('td', { class: 'num' }, [o.packetId === null ? '–' : o.packetId]), el('td', { class: 'num' }, [o.agentId === null ? '–' : o.agentId]),
        el('td', {}, [el('div', { class: 'timeline' }, timeline)]),
      ]);
    }));
  }

  function render(s) {
    if (s.foods) renderFoods(s.foods);
    renderAgents(s.agents);
    renderRates(s.outcomes);
    renderOrders(s.orders);
    text('errors', s.errors.length ? 'Not reachable: ' + s.errors.join('; ') : '');
    var status = document.getElementById('status');
    status.className = 'live';
    status.textContent = 'live, updated ' + clock(s.at);
  }

  var source = new EventSource('/live/events');
  source.onmessage = function (event) { render(JSON.parse(event.data)); };
  source.onerror = function () {
    var status = document.getElementById('status');
    status.className = 'down';
    status.textContent = 'disconnected, retrying…';
  };
})();
</script>
</body>
</html>
`;
