// The DPO's screens (docs/console.md): the dashboard, the subject-request queue with
// verification, fulfilment and closing, lifting a restriction of processing (asked for, approved
// by another person, lifted), and retention plans with their approval and run.
// Each is a set of calls to /v1 under the signed-in staff member; the vault decides.
import { h } from './dom.js';
import { t, purposeLabel } from './i18n.js';
import { call, session } from './api.js';
import {
  panel, message, errorText, date, table, field, select, input, button, form, async, barChart, stat,
  download, base64Bytes, facts, reloading,
} from './ui.js';

const DAY = 24 * 3600 * 1000;
const settle = (p) => p.then((v) => ({ v }), (e) => ({ e }));

// YYYY-MM-DD of `ms` in the company's time zone.
export function isoDay(ms) {
  try {
    return new Intl.DateTimeFormat('en-CA', { timeZone: session.tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
  } catch (_) {
    return new Date(ms).toISOString().slice(0, 10);
  }
}

// --- dashboard ---

async function retentionFigures() {
  const list = await call('GET', '/v1/retention/plans', { query: { limit: 1 } });
  const latest = (list.plans || [])[0];
  if (!latest) return null;
  return call('GET', `/v1/retention/plans/${encodeURIComponent(latest.plan_id)}`, { query: { items: 0 } });
}

// Counts per purpose (GET /v1/reports/consent-coverage), not the whole consent report.
async function consentCoverage() {
  const now = Date.now();
  const r = await call('GET', '/v1/reports/consent-coverage', { query: { from: isoDay(now - 30 * DAY), to: isoDay(now) } });
  return (r.purposes || []).filter((p) => !p.legal_obligation).map((p) => [p.purpose, p.coverage_pct]);
}

function requestCards(dsr, cards, charts) {
  const now = Date.now();
  const all = dsr.subject_requests || [];
  const open = all.filter((r) => !r.closed_at_ms);
  const overdue = open.filter((r) => r.overdue);
  const soon = open.filter((r) => !r.overdue && r.due_at_ms - now < 3 * DAY);
  cards.push(stat(t('open_requests'), open.length), stat(t('overdue'), overdue.length, overdue.length ? 'bad' : ''),
    stat(t('due_soon'), soon.length, soon.length ? 'warn' : ''));
  charts.push(barChart(t('by_state'), [[t('open_requests'), open.length - overdue.length], [t('overdue'), overdue.length, 'bad'],
    [t('closed'), all.length - open.length, 'ok']]));
}

function trainingLapses(training) {
  const latest = new Map();
  for (const r of training.training || []) latest.set(r.staff_id, Math.max(latest.get(r.staff_id) || 0, r.valid_until_ms));
  return [...latest.values()].filter((until) => until < Date.now()).length;
}

export function dashboard() {
  return async(async () => {
    const [dsr, appr, training, plan, coverage, alerts] = await Promise.all([
      settle(call('GET', '/v1/subject-requests')),
      settle(call('GET', '/v1/approvals', { query: { state: 'requested' } })),
      settle(call('GET', '/v1/training')),
      settle(retentionFigures()),
      settle(consentCoverage()),
      settle(call('GET', '/v1/alerts', { query: { status: 'open' } })),
    ]);
    const cards = [];
    const charts = [];
    const failed = (what, e) => cards.push(h('div', { class: 'stat' }, h('div', { class: 'stat-label' }, what), message('error', errorText(e))));
    if (dsr.v) requestCards(dsr.v, cards, charts); else failed(t('open_requests'), dsr.e);
    if (appr.v) cards.push(stat(t('pending_approvals'), (appr.v.approvals || []).length)); else failed(t('pending_approvals'), appr.e);
    if (training.v) {
      const lapsed = trainingLapses(training.v);
      cards.push(stat(t('training_lapses'), lapsed, lapsed ? 'warn' : ''));
    } else failed(t('training_lapses'), training.e);
    if (plan.v) {
      cards.push(stat(t('retention_due'), plan.v.due_count, plan.v.due_count ? 'warn' : ''), stat(t('retention_held'), plan.v.held_count));
      charts.push(barChart(`${t('retention')} (${date(plan.v.created_at_ms)})`, [[t('retention_due'), plan.v.due_count, 'warn'], [t('retention_held'), plan.v.held_count]]));
    } else if (plan.e) failed(t('retention'), plan.e);
    else cards.push(stat(t('retention'), t('no_plan')));
    if (coverage.v) {
      const values = coverage.v.map(([, pct]) => pct);
      const lowest = values.length ? Math.min(...values) : 0;
      cards.push(stat(t('consent_coverage_min'), values.length ? `${lowest} %` : '—', lowest < 50 && values.length ? 'warn' : ''));
      if (coverage.v.length) charts.push(barChart(t('consent_coverage'), coverage.v.map(([p, pct]) => [purposeLabel(p), pct])));
    } else failed(t('consent_coverage'), coverage.e);
    if (alerts.v) {
      const open = alerts.v.alerts || [];
      const bySeverity = ['critical', 'high', 'medium', 'low'].map((sev) => [sev, open.filter((a) => a.severity === sev).length, sev === 'critical' || sev === 'high' ? 'bad' : 'warn']);
      const serious = bySeverity[0][1] + bySeverity[1][1];
      cards.push(stat(t('open_alerts'), open.length, serious ? 'bad' : ''));
      charts.push(barChart(t('alerts_by_severity'), bySeverity));
    } else failed(t('alerts'), alerts.e);
    return [h('div', { class: 'stats', id: 'dashboard-stats' }, cards), h('div', { class: 'charts' }, charts)];
  });
}

// --- subject-request queue with fulfilment ---

const VERIFY_METHODS = ['in_person_id_document', 'authenticated_account', 'callback_on_record', 'video_id_check', 'notarised_letter'];

function fulfilment(r) {
  const kids = [message('ok', `${t('answer')}: ${r.answer}${r.detail ? ` — ${r.detail}` : ''}`),
    facts([['ID', r.request_id], [t('customer_id'), r.customer_id], [t('kind'), r.kind], [t('until'), r.until ? String(r.until) : '']])];
  const files = [];
  if (r.letter_html) files.push(download(t('letter'), `letter-${r.request_id}.html`, 'text/html', r.letter_html));
  if (r.report) files.push(download(t('report_json'), `report-${r.request_id}.json`, 'application/json', JSON.stringify(r.report, null, 2)));
  if (r.report_html) files.push(download(t('report_html'), `report-${r.request_id}.html`, 'text/html', r.report_html));
  if (r.package) {
    files.push(download('portability.zip', `portability-${r.request_id}.zip`, 'application/zip', base64Bytes(r.package.zip_base64)));
    files.push(download('manifest.json', `manifest-${r.request_id}.json`, 'application/json', r.package.manifest));
    files.push(download('manifest.sig', `manifest-${r.request_id}.sig`, 'text/plain', r.package.manifest_sig));
  }
  if (files.length) kids.push(h('p', { class: 'files' }, `${t('for_customer')} `, files));
  if (r.passphrase) kids.push(h('p', {}, `${t('passphrase_once')}: `, h('span', { class: 'secret' }, r.passphrase)));
  return kids;
}

function verifyForm(x, done) {
  const [mField, mSel] = field(t('method'), select(VERIFY_METHODS.map((m) => [m, m]), 'callback_on_record'));
  const [eField, eInput] = field(t('evidence'), input({ required: true, minlength: 3, maxlength: 200, name: 'verify-evidence' }));
  return form([mField, eField], t('verify'), async () => {
    await call('POST', `/v1/subject-requests/${encodeURIComponent(x.request_id)}/verify`, { body: { method: mSel.value, evidence_ref: eInput.value } });
    done();
    return message('ok', t('saved'));
  });
}

function closeForm(x, done) {
  const [oField, oSel] = field(t('outcome'), select([['fulfilled', t('outcome_fulfilled')], ['withdrawn', t('outcome_withdrawn')], ['refused', t('outcome_refused')]], 'fulfilled'));
  const [rField, rInput] = field(t('refusal_reason'), input({ maxlength: 500, name: 'close-reason' }));
  return form([oField, rField], t('close'), async () => {
    const body = { outcome: oSel.value };
    if (oSel.value === 'refused' && rInput.value) body.reason = rInput.value;
    const r = await call('POST', `/v1/subject-requests/${encodeURIComponent(x.request_id)}/close`, { body });
    done();
    return [message('ok', `${t('closed')}: ${r.outcome}`), r.letter_html ? download(t('letter'), `letter-${x.request_id}.html`, 'text/html', r.letter_html) : null];
  });
}

export function requestsScreen() {
  const work = h('div', { id: 'dsr-work', 'aria-live': 'polite' });
  const box = h('div', { id: 'dsr-queue' });
  const show = (title, ...kids) => work.replaceChildren(panel(title, ...kids));
  reloading(box, async (again) => {
    const r = await call('GET', '/v1/subject-requests', { query: { open: 'true' } });
    const items = (r.subject_requests || []).slice().sort((a, b) => a.due_at_ms - b.due_at_ms);
    const fulfil = (x) => async () => {
      show(`${t('fulfil')} ${x.request_id}`, message('info', t('loading')));
      try {
        const answer = await call('POST', `/v1/subject-requests/${encodeURIComponent(x.request_id)}/fulfil`);
        show(`${t('fulfil')} ${x.request_id}`, ...fulfilment(answer));
        again();
      } catch (e) {
        show(`${t('fulfil')} ${x.request_id}`, message('error', errorText(e)));
      }
    };
    return table(items, [
      ['request_id', 'ID'], ['customer_id', t('customer_id')], ['kind', t('kind')], ['reference', t('reference')],
      ['opened_by', t('opened_by')], ['due_at_ms', t('due'), (v, x) => h('span', { class: x.overdue ? 'bad' : '' }, `${date(v)}${x.overdue ? ` (${t('overdue')})` : ''}`)],
      ['steps', t('state'), (v) => (v || []).map((st) => st.step).join(', ')],
      ['request_id', t('actions'), (id, x) => {
        // What separation of duties lets this staff member do, as the vault says (`caller`):
        // a request they opened is neither verified nor fulfilled by them.
        const may = x.caller || { may_verify: true, may_fulfil: true };
        return h('span', { class: 'buttons' },
          may.may_verify ? button(t('verify'), () => show(`${t('verify')} ${id}`, verifyForm(x, again)), { class: 'secondary', 'data-verify': id }) : null,
          may.may_fulfil ? button(t('fulfil'), fulfil(x), { 'data-fulfil': id }) : null,
          may.may_verify && may.may_fulfil ? null : h('span', { class: 'own', title: may.refused_by || '', 'data-second-person': id }, t('dsr_second_person')),
          button(t('close'), () => show(`${t('close')} ${id}`, closeForm(x, again)), { class: 'secondary', 'data-close': id }));
      }],
    ]);
  });
  return h('div', {}, panel(t('dsr_queue'), box), work, liftPanel());
}

// --- lifting a restriction of processing (dual control; docs/subject_requests.md) ---

const LIFT_APPROVAL_HOURS = 24;

// The 409 and 404 of a lift said plainly beside the vault's own message; a 400 of the approval
// request about its justification is about the ticket reference it is made of.
function liftError(e) {
  const hint = { 409: 'lift_needs_approval', 404: 'lift_not_restricted' }[e && e.status];
  if (hint) return [message('error', errorText(e)), message('warn', t(hint))];
  if (e && e.status === 400 && /^justification:/.test(e.message || '')) return [message('error', errorText(e)), message('warn', t('lift_reference_note'))];
  return message('error', errorText(e));
}

// The lifter (dsr.lift) asks for a restriction_lift approval naming one customer, another staff
// member approves it in Approvals, then the lifter lifts: one approval, one lift. The customer
// id and the ticket reference only (no personal data: the reference goes into the audit log);
// the vault checks both and says which is wrong. The lifter's own pending and approved
// restriction_lift approvals are listed (GET /v1/approvals?requester=me).
function liftPanel() {
  const [cField, cInput] = field(t('customer_id'), input({ required: true, size: 30, name: 'lift-customer', autocomplete: 'off', spellcheck: 'false' }));
  const [rField, rInput] = field(t('reference'), input({ required: true, minlength: 3, maxlength: 200, name: 'lift-reference', autocomplete: 'off' }));
  const out = h('div', { class: 'out', id: 'lift-out', 'aria-live': 'polite' });
  const mine = h('div', { id: 'lift-approvals' });
  const loadMine = () => mine.replaceChildren(async(async () => {
    const r = await call('GET', '/v1/approvals', { query: { requester: session.staff } });
    const live = (r.approvals || []).filter((a) => a.kind === 'restriction_lift' && (a.state === 'requested' || a.state === 'approved'));
    return table(live, [['approval_id', 'ID'], ['scope', t('customer_id'), (v) => ((v && v.customers) || []).join(', ')],
      ['state', t('state')], ['approver', t('approver')], ['expires_at_ms', t('expires_at'), (v) => date(v)]]);
  }));
  const buttons = [];
  const run = (work) => async () => {
    if (!cInput.reportValidity() || !rInput.reportValidity()) return;
    // Both buttons wait for the vault's answer: no second call while one is in flight.
    for (const b of buttons) b.disabled = true;
    out.replaceChildren(message('info', t('loading')));
    try {
      const shown = await work(cInput.value.trim(), rInput.value.trim());
      out.replaceChildren(...[].concat(shown));
    } catch (e) {
      out.replaceChildren(...[].concat(liftError(e)));
    } finally {
      for (const b of buttons) b.disabled = false;
      loadMine();
    }
  };
  const ask = run(async (customer, reference) => {
    const r = await call('POST', '/v1/approvals', { body: {
      kind: 'restriction_lift', customers: [customer], justification: `${reference}: lift the restriction of processing`,
      duration_ms: LIFT_APPROVAL_HOURS * 3600 * 1000,
    } });
    return [message('ok', `${t('lift_asked')}: ${r.approval_id}`), message('info', t('lift_asked_next'))];
  });
  const lift = run(async (customer, reference) => {
    const r = await call('POST', '/v1/subject-requests/lift-restriction', { body: { customer_id: customer, reference } });
    return message('ok', `${t('lift_done')}: ${r.customer_id || customer}`);
  });
  buttons.push(button(t('lift_ask'), ask, { class: 'secondary', id: 'lift-ask' }), button(t('lift_do'), lift, { id: 'lift-do' }));
  loadMine();
  const f = h('form', { onsubmit: (ev) => ev.preventDefault() }, cField, rField, h('span', { class: 'buttons' }, buttons));
  return h('div', { id: 'lift-restriction' }, panel(t('lift_title'), message('info', t('lift_explain')), f, out,
    h('h3', {}, t('lift_mine')), mine));
}

// The support desk's own screen for it (the agent workspace, for holders of dsr.manage).
export function liftScreen() {
  return liftPanel();
}

// --- retention plans: propose, approve (dual control), run ---

function itemRows(items) {
  return table(items.slice(0, 200), [['kind', t('kind')], ['customer_id', t('customer_id')], ['record_id', t('record')],
    ['rule', t('rule')], ['event', t('event')], ['event_ms', t('event_at'), (v) => date(v)], ['due_ms', t('due_on'), (v) => date(v)],
    ['held', t('held_because')]]);
}

function planApprovals(plan, refresh) {
  return async(async () => {
    const r = await call('GET', '/v1/approvals');
    const mine = (r.approvals || []).filter((a) => a.kind === 'destruction' && a.scope && a.scope.plan === plan.plan_id);
    const out = h('div', { class: 'out' });
    const decide = (a, verb) => async () => {
      try { await call('POST', `/v1/approvals/${encodeURIComponent(a.approval_id)}/${verb}`); refresh(); } catch (e) { out.replaceChildren(message('error', errorText(e))); }
    };
    return [table(mine, [['approval_id', 'ID'], ['requester', t('requester')], ['justification', t('justification')],
      ['state', t('state')], ['approver', t('approver')], ['expires_at_ms', t('expires_at'), (v) => date(v)],
      ['approval_id', t('actions'), (_, a) => {
        if (a.state !== 'requested') return '';
        if (a.requester === session.staff) return h('span', { class: 'own' }, t('own_request'));
        return h('span', { class: 'buttons' }, button(t('approve'), decide(a, 'approve'), { class: 'approve', 'data-approval': a.approval_id }),
          button(t('reject'), decide(a, 'reject'), { class: 'reject secondary', 'data-approval': a.approval_id }));
      }]]), out];
  });
}

function planDetail(planId, refreshList) {
  const box = h('div', { id: 'plan-detail' });
  // The run's outcome stays below the plan, which reloads (done: no more request or run).
  const runOut = h('div', { class: 'out', id: 'run-out', 'aria-live': 'polite' });
  reloading(box, async (again) => {
    const p = await call('GET', `/v1/retention/plans/${encodeURIComponent(planId)}`, { query: { items: 200 } });
    const refresh = () => { again(); refreshList(); };
    const kids = [facts([['ID', p.plan_id], [t('state'), p.state], [t('created'), date(p.created_at_ms)], [t('created_by'), p.created_by],
      ['SHA-256', p.sha256], [t('retention_due'), p.due_count], [t('retention_held'), p.held_count], [t('run'), p.run_id]]),
    barChart(t('plan_chart'), [[t('retention_due'), p.due_count, 'warn'], [t('retention_held'), p.held_count]]),
    h('h3', {}, `${t('retention_due')} (${p.due_count})`), itemRows(p.due || []),
    h('h3', {}, `${t('retention_held')} (${p.held_count})`), itemRows(p.held || [])];
    if (p.truncated) kids.push(message('info', t('truncated')));
    kids.push(h('h3', {}, t('destruction_approvals')), planApprovals(p, refresh));
    if (p.state !== 'done') {
      const [whyField, whyInput] = field(t('justification'), input({ required: true, minlength: 10, maxlength: 500, name: 'plan-why' }));
      const [daysField, daysInput] = field(t('days_valid'), h('input', { type: 'number', min: 1, max: 30, value: 7, required: true, name: 'plan-days' }));
      kids.push(h('h3', {}, t('request_destruction')), form([whyField, daysField], t('request'), async () => {
        const r = await call('POST', `/v1/retention/plans/${encodeURIComponent(p.plan_id)}/request`, { body: { justification: whyInput.value, duration_ms: Number(daysInput.value) * DAY } });
        refresh();
        return message('ok', `${t('requested')}: ${r.approval_id}`);
      }));
      kids.push(h('h3', {}, t('run_plan')), message('warn', t('run_warning')), button(t('run_plan'), async () => {
        runOut.replaceChildren(message('info', t('loading')));
        try {
          const r = await call('POST', `/v1/retention/plans/${encodeURIComponent(p.plan_id)}/run`);
          runOut.replaceChildren(message('ok', t('run_done')), facts([[t('run'), r.run_id], [t('approval'), r.approval_id],
            [t('customers'), r.customers], [t('consent_kept'), r.consent_kept], [t('transactions'), r.transactions],
            [t('notes'), r.notes], [t('consent_erased'), r.consent_erased], [t('skipped_held'), r.skipped_held], [t('skipped_gone'), r.skipped_gone], [t('certificate'), r.certificate]]));
          again();
          refreshList();
        } catch (e) {
          runOut.replaceChildren(message('error', errorText(e)));
        }
      }, { id: 'run-plan' }));
    }
    return kids;
  });
  return h('div', {}, box, runOut);
}

function planTable(plans, open) {
  return table(plans, [['plan_id', 'ID'], ['created_at_ms', t('created'), (v) => date(v)], ['created_by', t('created_by')],
    ['state', t('state')], ['sha256', 'SHA-256', (v) => `${String(v).slice(0, 16)}…`], ['run_id', t('run')],
    ['plan_id', t('actions'), (id) => button(t('open'), () => open(id), { class: 'secondary', 'data-plan': id })]]);
}

export function retentionScreen() {
  const detail = h('div', { id: 'plan-view' });
  const list = h('div', { id: 'plans' });
  let refreshList = () => {};
  const open = (id) => detail.replaceChildren(panel(`${t('plan')} ${id}`, planDetail(id, () => refreshList())));
  reloading(list, async (again) => {
    refreshList = again;
    const r = await call('GET', '/v1/retention/plans', { query: { limit: 50 } });
    return planTable(r.plans || [], open);
  });
  const propose = h('div', { class: 'out' });
  const proposeButton = button(t('propose_plan'), async () => {
    propose.replaceChildren(message('info', t('loading')));
    try {
      const p = await call('POST', '/v1/retention/plans');
      propose.replaceChildren(message('ok', `${t('plan_saved')}: ${p.plan_id} (${t('retention_due')} ${p.due_count}, ${t('retention_held')} ${p.held_count})`));
      refreshList();
      open(p.plan_id);
    } catch (e) {
      propose.replaceChildren(message('error', errorText(e)));
    }
  }, { id: 'propose-plan' });
  return h('div', {}, panel(t('retention_plans'), message('info', t('retention_explain')), proposeButton, propose, list), detail);
}
