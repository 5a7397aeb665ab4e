// The dashboard: renders /ui/data, then every update /ui/events sends (server-sent events),
// falling back to polling /ui/data when the event stream is unavailable. No framework.
'use strict';

const $ = (sel) => document.querySelector(sel);
const esc = (s) => String(s ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]));
const time = (iso) => (iso ? new Date(iso).toLocaleTimeString() : '');

function rows(tbody, html) {
  $(tbody).innerHTML = html.length ? html.join('') : '<tr><td colspan="9" class="muted">none</td></tr>';
}

function pill(name, enforcers) {
  const by = enforcers.length ? enforcers : ['pending'];
  return by.map((e) => `<span class="pill ${esc(e)}" title="enforced by ${esc(e === 'pending' ? 'nobody yet' : e)}">${esc(name)} · ${esc(e)}</span>`).join('');
}

/** A small line chart of the last samples, as inline SVG. */
function chart(el, samples) {
  if (!samples.length) { el.innerHTML = '<div class="empty">no samples yet</div>'; return; }
  const W = 400, H = 120, P = 22;
  const max = Math.max(1, ...samples.map((s) => s.ms));
  const x = (i) => P + (samples.length === 1 ? (W - 2 * P) / 2 : (i * (W - 2 * P)) / (samples.length - 1));
  const y = (v) => H - P - (v / max) * (H - 2 * P);
  const pts = samples.map((s, i) => `${x(i).toFixed(1)},${y(s.ms).toFixed(1)}`).join(' ');
  const dots = samples.map((s, i) => `<circle cx="${x(i).toFixed(1)}" cy="${y(s.ms).toFixed(1)}" r="2.5"><title>${esc(time(s.at))}: ${s.ms} ms${s.node ? ` (${esc(s.node)})` : ''}</title></circle>`).join('');
  const last = samples[samples.length - 1].ms;
  el.innerHTML = `<svg viewBox="0 0 ${W} ${H}" role="img" aria-label="${samples.length} samples, last ${last} ms">
    <line x1="${P}" y1="${H - P}" x2="${W - P}" y2="${H - P}" stroke="#e4e7ec"/>
    <line x1="${P}" y1="${P}" x2="${W - P}" y2="${P}" stroke="#f2f4f7"/>
    <text x="${P}" y="${P - 6}" font-size="10" fill="#667085">${max} ms</text>
    <text x="${W - P}" y="${H - 6}" font-size="10" fill="#667085" text-anchor="end">last ${last} ms · ${samples.length} samples</text>
    <polyline points="${pts}" fill="none" stroke="#3b5bdb" stroke-width="2"/>
    <g fill="#3b5bdb">${dots}</g></svg>`;
}

function render(d) {
  const nodes = d.fleet.length;
  const held = d.fleet.filter((n) => n.convergedVersion === d.version).length;
  $('#summary').innerHTML = `version <code>${esc(d.version ?? 'none')}</code> · from ${esc(d.source === 'admin' ? 'the Admin API' : d.config)} · applied ${esc(time(d.appliedAt))} · ${held}/${nodes} Envoy node(s) hold it`;
  document.body.dataset.version = d.version ?? '';

  const err = d.lastError;
  $('#error-section').hidden = !err;
  $('#last-error').innerHTML = err ? `<div class="muted">${esc(time(err.at))}: the last good version keeps serving</div>` + err.errors.map((e) => `<pre>${esc(e.text)}</pre>`).join('') : '';

  const routeRows = [];
  for (const s of d.services) {
    const routes = s.routes.length ? s.routes : [{ name: '', match: '', plugins: [] }];
    routes.forEach((r, i) => {
      routeRows.push(`<tr>${i === 0 ? `<td rowspan="${routes.length}"><b>${esc(s.name)}</b>${s.plugins.length ? `<div>${s.plugins.map((p) => pill(p.name, p.enforcers)).join('')}</div>` : ''}</td><td rowspan="${routes.length}" class="mono">${esc(s.target)}</td>` : ''}
        <td>${esc(r.name)}</td><td class="mono">${esc(r.match)}</td><td>${r.plugins.map((p) => pill(p.name, p.enforcers) + (p.scope !== 'route' ? `<small class="muted">(${esc(p.scope)}) </small>` : '')).join('')}</td></tr>`);
    });
  }
  rows('#routes tbody', routeRows);

  rows('#fleet tbody', d.fleet.map((n) => {
    const types = Object.entries(n.types).map(([t, v]) => `<span class="mono ${v.lastNack ? 'bad' : v.ackedVersion ? 'ok' : 'muted'}" title="ACKed ${esc(v.ackedVersion ?? 'nothing yet')}, ${v.resources} resource(s)">${esc(t)} ${esc((v.ackedVersion ?? '—').slice(0, 6))}</span>`).join(' · ');
    const nacks = Object.entries(n.types).filter(([, v]) => v.lastNack).map(([t, v]) => `<div class="bad"><b>${esc(t)}</b> ${esc(v.lastNack.version)}: ${esc(v.lastNack.detail)}</div>`).join('');
    return `<tr><td class="mono">${esc(n.id)}</td><td>${esc(n.cluster)}</td><td class="mono ${n.convergedVersion === d.version ? 'ok' : 'bad'}">${esc(n.convergedVersion ?? 'none')}</td><td>${types}</td><td>${nacks || '<span class="muted">none</span>'}</td></tr>`;
  }));

  rows('#companions tbody', d.companions.map((c) => `<tr><td>${esc(c.name)}</td><td class="mono">${esc(c.node ?? c.address)}</td><td class="mono">${esc(c.version ?? '—')}</td><td class="${c.ready ? 'ok' : 'bad'}">${c.ready ? 'ready' : esc(c.state)}</td></tr>`));

  $('#acme-section').hidden = !d.acme;
  if (d.acme) {
    $('#acme-source').textContent = `(acme: ${d.acme.directory}, ${d.acme.storage} storage)`;
    rows('#acme tbody', d.acme.domains.map((n) => `<tr><td class="mono">${esc(n.domain)}</td>${n.lastError
      ? `<td class="bad">failing: ${esc(n.lastError)}; next try ${esc(n.retryAt ?? 'at the next check')}</td>`
      : n.notAfter ? `<td class="ok">valid until ${esc(n.notAfter)}</td>` : '<td class="muted">being ordered</td>'}</tr>`));
  }

  chart($('#push-chart'), d.pushSamples);
  chart($('#build-chart'), d.buildSamples);

  rows('#history tbody', d.history.slice().reverse().map((h) => `<tr><td>${esc(time(h.at))}</td><td>${esc(h.source === 'admin' ? h.label : 'file')}</td><td class="${h.result === 'rejected' ? 'bad' : 'ok'}">${esc(h.result)}</td><td class="mono">${esc(h.version ?? '')}</td><td>${h.ms}</td><td>${h.errors.map((e) => `<div class="mono bad">${esc(e.split('\n')[0])}</div>`).join('')}</td></tr>`));

  $('#warnings-section').hidden = !d.warnings.length;
  $('#warnings').innerHTML = d.warnings.map((w) => `<li class="mono">${esc(w)}</li>`).join('');
}

function poll() {
  fetch('/ui/data', { cache: 'no-store' }).then((r) => r.json()).then(render).catch(() => undefined).finally(() => setTimeout(poll, 2000));
}

if ('EventSource' in window) {
  const es = new EventSource('/ui/events');
  es.onmessage = (ev) => { $('#live').classList.add('on'); render(JSON.parse(ev.data)); };
  es.onerror = () => { $('#live').classList.remove('on'); };
} else {
  poll();
}
