// Screens over the DPO's and the security administrator's registers (docs/console.md):
// reports, the doctor, alerts, incidents, violations and sharing. Thin: each panel is one
// /v1 route; what a role may not do the vault refuses, and the panel shows the refusal.
import { h } from './dom.js';
import { t, language } from './i18n.js';
import { call } from './api.js';
import {
  panel, message, errorText, date, table, field, select, input, button, form, async, stat,
  download, autoTable, reloading, facts,
} from './ui.js';
import { isoDay } from './dpo.js';

const DAY = 24 * 3600 * 1000;
const REPORTS = ['processing', 'access-review', 'consent', 'retention', 'subject-requests', 'training', 'security'];
const sev = (v) => h('span', { class: `sev-${v}` }, v);

// --- reports (/v1/reports/{name}) ---

function reportView(doc, name, query) {
  const lang = language() === 'en' ? 'en' : 'zh';
  const pick = (b) => (b && typeof b === 'object' ? b[lang] || b.en || b.zh : b);
  const kids = [facts([[t('report'), pick(doc.title)], [t('period'), `${doc.from} — ${doc.to}`],
    [t('generated'), date(doc.generated_at_ms)], [t('generated_by'), doc.generated_by], [t('audit_seq'), doc.audit_seq]])];
  const files = h('p', { class: 'files', id: 'report-files' }, `${t('download')}: `,
    download('JSON', `${name}-${query.from}-${query.to}.json`, 'application/json', JSON.stringify(doc, null, 2)));
  kids.push(files);
  for (const format of ['html', 'csv']) {
    call('GET', `/v1/reports/${encodeURIComponent(name)}`, { query: { ...query, format, lang }, text: true })
      .then((text) => files.append(download(format.toUpperCase(), `${name}-${query.from}-${query.to}.${format}`, format === 'html' ? 'text/html' : 'text/csv', text)))
      .catch(() => {});
  }
  for (const tb of doc.tables || []) {
    const columns = (tb.columns || []).map((c, i) => [i, pick(c)]);
    kids.push(h('h3', {}, pick(tb.title)), table(tb.rows || [], columns), h('p', { class: 'msg info' }, `${t('source')}: ${pick(tb.source)}`));
  }
  for (const n of doc.notes || []) kids.push(h('p', { class: 'msg info' }, pick(n)));
  return kids;
}

export function reportsScreen() {
  const now = Date.now();
  const [nameField, nameSel] = field(t('report'), select(REPORTS.map((r) => [r, t(`report_${r}`)]), 'processing'));
  nameSel.name = 'report-name';
  const [fromField, fromInput] = field(t('from'), h('input', { type: 'date', value: isoDay(now - 30 * DAY), required: true, name: 'report-from' }));
  const [toField, toInput] = field(t('to'), h('input', { type: 'date', value: isoDay(now), required: true, name: 'report-to' }));
  const view = h('div', { id: 'report-view' });
  const f = form([nameField, fromField, toField], t('show'), async () => {
    const query = { from: fromInput.value, to: toInput.value };
    const doc = await call('GET', `/v1/reports/${encodeURIComponent(nameSel.value)}`, { query });
    view.replaceChildren(panel(t(`report_${nameSel.value}`), ...reportView(doc, nameSel.value, query)));
    return [];
  });
  return h('div', {}, panel(t('reports'), message('info', t('reports_explain')), f), view);
}

// --- doctor (/v1/health/details) ---

export function doctorScreen() {
  const box = h('div', { id: 'doctor' });
  const show = (doc) => {
    const counts = doc.counts || {};
    return [h('div', { class: 'stats' }, stat(t('doctor_status'), doc.status, doc.status === 'failure' ? 'bad' : doc.status === 'warning' ? 'warn' : ''),
      ...['failure', 'warning', 'info', 'ok'].map((k) => stat(k, counts[k] || 0, k === 'failure' && counts[k] ? 'bad' : ''))),
    h('p', { class: 'msg info' }, `${t('checked_at')}: ${date(doc.at_ms)} · ${t('audit_seq')} ${doc.audit_seq}`),
    table(doc.findings || [], [['severity', t('severity'), sev], ['id', t('check')], ['message', t('finding')], ['fix', t('fix')]])];
  };
  reloading(box, async () => {
    try {
      return show(await call('GET', '/v1/health/details'));
    } catch (e) {
      if (e.status === 404) return message('info', t('doctor_never'));
      throw e;
    }
  });
  const runOut = h('div', { class: 'out' });
  const run = button(t('doctor_run'), async () => {
    runOut.replaceChildren(message('info', t('loading')));
    try {
      box.replaceChildren(...show(await call('GET', '/v1/health/details', { query: { run: 'true' } })));
      runOut.replaceChildren();
    } catch (e) {
      runOut.replaceChildren(message('error', errorText(e)));
    }
  }, { id: 'doctor-run' });
  return panel(t('doctor'), run, runOut, box);
}

// --- alerts, incidents, violations (/v1/alerts, /v1/incidents, /v1/violations) ---

function alertsPanel(manage) {
  const box = h('div', { id: 'alerts' });
  const out = h('div', { class: 'out' });
  reloading(box, async (again) => {
    const r = await call('GET', '/v1/alerts', { query: { limit: 200 } });
    const items = r.alerts || [];
    const open = items.filter((a) => a.status === 'open');
    const close = (a) => {
      const [whyField, whyInput] = field(t('reason'), input({ required: true, minlength: 10, maxlength: 500, name: `alert-why-${a.alert_id}` }));
      out.replaceChildren(h('div', { class: 'inline-form' }, h('strong', {}, `${t('close_alert')} ${a.alert_id}`), form([whyField], t('close'), async () => {
        await call('POST', `/v1/alerts/${encodeURIComponent(a.alert_id)}/close`, { body: { reason: whyInput.value } });
        again();
        return message('ok', t('closed'));
      })));
    };
    return [h('div', { class: 'stats' }, stat(t('open_alerts'), open.length, open.length ? 'bad' : ''), stat(t('all_alerts'), items.length)),
      table(items, [['raised_at_ms', t('time'), (v) => date(v)], ['severity', t('severity'), sev], ['rule', t('rule')], ['actor', t('actor')],
        ['detail', t('detail')], ['status', t('state')],
        ['alert_id', t('actions'), (id, a) => (manage && a.status === 'open' ? button(t('close'), () => close(a), { class: 'secondary', 'data-alert': id }) : '')]])];
  });
  return panel(t('alerts'), box, out);
}

// Closing is the DPO's word that the response and the notices are done (incident.close).
function closeIncidentForm(i, done) {
  const [sumField, sumInput] = field(t('summary'), input({ required: true, minlength: 10, maxlength: 2000, name: 'incident-summary' }));
  return [h('h3', {}, t('close_incident')), form([sumField], t('close'), async () => {
    await call('POST', `/v1/incidents/${encodeURIComponent(i.incident_id)}/close`, { body: { summary: sumInput.value } });
    done();
    return message('ok', t('closed'));
  })];
}

// Containment (incident.contain; the security administrator's): the action and its target,
// and a confirmation ticked by the person; the vault performs it and records the step.
const CONTAINMENTS = ['revoke_tokens', 'lock_account', 'stop_serving', 'suspend_sharing', 'resume_sharing'];
function containForm(i, done) {
  const [actionField, actionSelect] = field(t('contain_action'), select(CONTAINMENTS.map((a) => [a, t(`contain_${a}`)]), 'revoke_tokens'));
  actionSelect.name = 'contain-action';
  const [targetField, targetInput] = field(t('contain_target'), input({ required: true, maxlength: 200, name: 'contain-target' }));
  const confirmBox = h('input', { type: 'checkbox', required: true, name: 'contain-confirm', id: 'contain-confirm' });
  const confirmField = h('div', { class: 'check' }, confirmBox, h('label', { for: 'contain-confirm' }, t('contain_confirm')));
  return [h('h3', {}, t('contain')), message('warn', t('contain_warning')), form([actionField, targetField, confirmField], t('contain_do'), async () => {
    await call('POST', `/v1/incidents/${encodeURIComponent(i.incident_id)}/contain`, { body: { action: actionSelect.value, target: targetInput.value.trim() } });
    done();
    return message('ok', t('contained'));
  })];
}

function incidentDetail(id, manage) {
  const box = h('div');
  return reloading(box, async (again) => {
    const i = await call('GET', `/v1/incidents/${encodeURIComponent(id)}`);
    return [facts([['ID', i.incident_id], [t('title_label'), i.title], [t('severity'), i.severity], [t('state'), i.status],
      [t('opened_by'), i.opened_by], [t('opened_at'), date(i.opened_at_ms)], [t('actor'), i.staff_id],
      [t('closed_by'), i.closed_by], [t('closed_at'), date(i.closed_at_ms)]]),
    h('h3', {}, t('steps')), table(i.steps || [], [['at_ms', t('time'), (v) => date(v)], ['actor', t('actor')], ['kind', t('kind')], ['detail', t('detail')]]),
    h('h3', {}, t('timeline')), table((i.timeline || []).slice(0, 200), [['seq', '#'], ['ts_ms', t('time'), (v) => date(v)], ['actor', t('actor')],
      ['action', t('action')], ['target', t('target')], ['purpose', t('purpose')], ['decision', t('decision')]]),
    manage && i.status !== 'closed' ? containForm(i, again) : null,
    i.status === 'closed' ? null : closeIncidentForm(i, again)];
  });
}

function incidentsPanel(manage) {
  const box = h('div', { id: 'incidents' });
  const detail = h('div', { id: 'incident-view' });
  reloading(box, async () => {
    const r = await call('GET', '/v1/incidents');
    return table(r.incidents || [], [['opened_at_ms', t('opened_at'), (v) => date(v)], ['severity', t('severity'), sev], ['title', t('title_label')],
      ['status', t('state')], ['staff_id', t('actor')], ['opened_by', t('opened_by')],
      ['incident_id', t('actions'), (id) => button(t('show'), () => detail.replaceChildren(panel(`${t('incident')} ${id}`, incidentDetail(id, manage))), { class: 'secondary', 'data-incident': id })]]);
  });
  return [panel(t('incidents_only'), box), detail];
}

function violationsPanel() {
  const box = h('div', { id: 'violations' });
  reloading(box, async () => {
    const r = await call('GET', '/v1/violations');
    return table(r.violations || [], [['recorded_at_ms', t('time'), (v) => date(v)], ['staff_id', t('actor')], ['rule', t('rule')],
      ['handling', t('handling')], ['status', t('state')], ['incident_id', t('incident')], ['recorded_by', t('recorded_by')]]);
  });
  return panel(t('violations'), box);
}

// `manage`: the security administrator closes alerts (ops.manage); the DPO reads them.
export function opsScreen(manage) {
  return () => h('div', {}, alertsPanel(manage), ...incidentsPanel(manage), violationsPanel());
}

// --- sharing (/v1/partners, /v1/agreements, /v1/shares) and its approvals ---

export function sharingScreen(approvals) {
  const list = (path, key, id) => {
    const box = h('div', { id });
    reloading(box, async () => autoTable((await call('GET', path))[key] || []));
    return box;
  };
  return h('div', {},
    panel(t('partners'), list('/v1/partners', 'partners', 'partners')),
    panel(t('agreements'), list('/v1/agreements', 'agreements', 'agreements')),
    panel(t('shares'), list('/v1/shares', 'shares', 'shares')),
    approvals((a) => ['agreement', 'share', 'partner_cert'].includes(a.kind), t('sharing_approvals')));
}
