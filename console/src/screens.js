// The screens per role (docs/console.md). Each shows what the API answers for the signed-in
// staff member; what their role may not do is refused by the vault and shown as refused.
import { h } from './dom.js';
import { t, purposeLabel } from './i18n.js';
import { call, session } from './api.js';
import { panel, message, errorText, date, table, field, select, input, button, form, async } from './ui.js';
import { dayRange } from './tz.js';

const DSR_KINDS = ['access', 'copy', 'portability', 'correction', 'deletion', 'restriction', 'explanation'];

// --- support agent ---

function customerView(id) {
  const base = `/v1/customers/${encodeURIComponent(id)}`;
  const profile = async(async () => {
    const c = await call('GET', base, { data: true });
    const rows = Object.entries(c.fields || {}).map(([k, v]) => ({ field: k, value: v }));
    return table(rows, [['field', t('field')], ['value', t('field_value')]]);
  });
  const txns = async(async () => {
    const r = await call('GET', `${base}/transactions`, { data: true });
    const items = (r.transactions || []).map((x) => ({ ...(x.fields || {}) }));
    const keys = [...new Set(items.flatMap((x) => Object.keys(x)))];
    return table(items, keys.map((k) => [k, k]));
  });
  const noteList = h('div');
  const loadNotes = () => noteList.replaceChildren(async(async () => {
    const r = await call('GET', `${base}/notes`, { data: true });
    return table(r.notes || [], [['created_at_ms', t('time'), (v) => date(v)], ['source', 'source'], ['text', t('note_text')]]);
  }));
  loadNotes();
  const [noteField, noteInput] = field(t('note_text'), h('textarea', { rows: 2, required: true }));
  const addNote = form([noteField], t('save'), async () => {
    await call('POST', `${base}/notes`, { data: true, body: { text: noteInput.value } });
    noteInput.value = '';
    loadNotes();
    return message('ok', t('saved'));
  });
  const consents = async(async () => {
    const r = await call('GET', `${base}/consents`, { data: true });
    return [h('p', {}, `${t('consents')}: `, h('strong', {}, (r.granted_purposes || []).map(purposeLabel).join('、') || t('none'))),
      table(r.entries || [], [['recorded_at_ms', t('time'), (v) => date(v)], ['action', t('action')], ['scope', 'scope'],
        ['purpose', t('purpose'), (v) => purposeLabel(v)], ['notice_version', 'notice'], ['channel', 'channel'], ['actor', t('actor')]])];
  });
  const [kindField, kindSel] = field(t('dsr_kind'), select(DSR_KINDS.map((k) => [k, k]), 'access'));
  const [refField, refInput] = field(t('reference'), input({ required: true, minlength: 3, maxlength: 200 }));
  const dsr = form([kindField, refField], t('submit'), async () => {
    const r = await call('POST', '/v1/subject-requests', { body: { customer_id: id, kind: kindSel.value, reference: refInput.value } });
    return message('ok', `${t('dsr_opened')}${date(r.due_at_ms)} (${r.request_id})`);
  });
  return h('div', { class: 'customer' },
    panel(`${t('customer')} ${id}`, profile),
    panel(t('transactions'), txns),
    panel(t('notes'), noteList, h('h3', {}, t('add_note')), addNote),
    panel(t('consents'), consents),
    panel(t('open_dsr'), dsr));
}

// Search fields the signed-in person may search by under the purpose chosen: GET /v1/me's
// search_fields, decided by the vault as it decides a search (its grants reach the field's
// level, and the role does not see the field masked: docs/security.md "No search on what one
// sees masked" — so the support agent is not offered the ID number). Before a purpose is
// chosen, those of any purpose. A field the vault refuses all the same (403 "field 'x': ...",
// e.g. after a role change) is no longer offered for the rest of the session.
function maskedSearchFields() {
  if (!session.maskedSearch) session.maskedSearch = new Set();
  return session.maskedSearch;
}

function searchFieldsOffered() {
  const byPurpose = (session.me && session.me.search_fields) || {};
  const fields = session.purpose ? (byPurpose[session.purpose] || []) : Object.values(byPurpose).flat();
  const refused = maskedSearchFields();
  return new Set(fields.filter((f) => !refused.has(f)));
}

export function agentScreen() {
  const view = h('div', { id: 'customer-view' });
  const results = h('div', { id: 'results' });
  const open = (id) => view.replaceChildren(customerView(id));
  const hidden = maskedSearchFields();
  const offered = searchFieldsOffered();
  const allOptions = [['phone', t('by_phone')], ['id_number', t('by_id_number')], ['email', t('by_email')]];
  const byOptions = allOptions.filter(([f]) => offered.has(f));
  const [byField, bySel] = field(t('field'), select(byOptions, byOptions.length ? byOptions[0][0] : ''));
  bySel.setAttribute('name', 'search-field');
  const [valueField, valueInput] = field(t('value'), input({ required: true, autocomplete: 'off', name: 'search-value' }));
  const notOffered = byOptions.length < allOptions.length;
  const masked = h('div', { class: 'out' }, notOffered ? h('p', { class: 'aside', id: 'masked-search' }, t(byOptions.length ? 'masked_search' : 'no_search')) : null);
  const search = form([byField, valueField], t('search'), async () => {
    let r;
    try {
      r = await call('GET', '/v1/customers/search', { data: true, query: { field: bySel.value, value: valueInput.value } });
    } catch (e) {
      if (e.status === 403 && (e.message || '').startsWith(`field '${bySel.value}':`) && bySel.options.length > 1) {
        hidden.add(bySel.value);
        bySel.querySelector(`option[value="${bySel.value}"]`).remove();
        masked.replaceChildren(h('p', { class: 'aside', id: 'masked-search' }, t('masked_search')));
      }
      throw e;
    }
    const ids = r.customer_ids || [];
    if (ids.length === 1) open(ids[0]);
    return ids.length ? h('ul', { class: 'ids' }, ids.map((c) => h('li', {}, button(c, () => open(c))))) : message('info', t('none'));
  });
  const [idField, idInput] = field(t('customer_id'), input({ required: true, pattern: '[0-9A-Z]{26}', autocomplete: 'off', name: 'customer-id' }));
  const byId = form([idField], t('open'), async () => { open(idInput.value.trim()); return []; });
  return h('div', { class: 'screen' }, panel(t('find'), h('div', { class: 'row' }, search, byId), masked, results), view);
}

// --- approvals (DPO and security admin): the requester never sees a decision button ---

export function approvalsPanel(withRequestForm, filter = () => true, title = '') {
  const list = h('div', { id: 'approvals' });
  const load = () => list.replaceChildren(async(async () => {
    const r = await call('GET', '/v1/approvals', { query: { state: 'requested' } });
    const outcome = h('div', { class: 'out' });
    const decide = (a, verb) => async () => {
      try {
        await call('POST', `/v1/approvals/${encodeURIComponent(a.approval_id)}/${verb}`);
        load();
      } catch (e) {
        outcome.replaceChildren(message('error', errorText(e)));
      }
    };
    return [table((r.approvals || []).filter(filter), [
      ['approval_id', 'ID'], ['kind', t('kind')], ['requester', t('requester')], ['justification', t('justification')],
      ['scope', 'scope'], ['requested_at_ms', t('requested_at'), (v) => date(v)], ['expires_at_ms', t('expires_at'), (v) => date(v)],
      ['approval_id', t('actions'), (_, a) => (a.requester === session.staff
        ? h('span', { class: 'own' }, t('own_request'))
        : h('span', { class: 'buttons' },
          button(t('approve'), decide(a, 'approve'), { class: 'approve', 'data-approval': a.approval_id }),
          button(t('reject'), decide(a, 'reject'), { class: 'reject secondary', 'data-approval': a.approval_id })))],
    ]), outcome];
  }));
  load();
  const kids = [list];
  if (withRequestForm) {
    // A role grant gives roles that read confidential fields or decide approvals; a credential
    // reset lets the requester reset such an account's password or second factor once.
    const [kindField, kindSel] = field(t('kind'), select([['role_grant', t('kind_role_grant')], ['credential_reset', t('kind_credential_reset')]], 'role_grant'));
    kindSel.setAttribute('name', 'grant-kind');
    const [staffField, staffInput] = field(t('staff_id'), input({ required: true, name: 'grant-staff' }));
    const [rolesField, rolesInput] = field(t('roles'), input({ required: true, name: 'grant-roles' }));
    kindSel.addEventListener('change', () => {
      const grant = kindSel.value === 'role_grant';
      rolesField.hidden = !grant;
      rolesInput.required = grant;
    });
    const [whyField, whyInput] = field(t('justification'), input({ required: true, minlength: 3, name: 'grant-why' }));
    const [hoursField, hoursInput] = field(t('hours'), h('input', { type: 'number', min: 1, max: 720, value: 24, required: true, name: 'grant-hours' }));
    kids.push(h('h3', {}, t('request_approval')), form([kindField, staffField, rolesField, whyField, hoursField], t('request'), async () => {
      const body = { kind: kindSel.value, staff_id: staffInput.value, justification: whyInput.value, duration_ms: Number(hoursInput.value) * 3600 * 1000 };
      if (kindSel.value === 'role_grant') body.roles = rolesInput.value.split(',').map((x) => x.trim()).filter(Boolean);
      const r = await call('POST', '/v1/approvals', { body });
      load();
      return message('ok', r.approval_id);
    }));
  }
  return panel(title || t('approvals'), ...kids);
}

// --- audit search (DPO) ---

export function auditScreen() {
  const results = h('div');
  const [custField, custInput] = field(t('customer_id'), input({ name: 'audit-customer' }));
  const [actorField, actorInput] = field(t('actor'), input({ name: 'audit-actor' }));
  const [fromField, fromInput] = field(`${t('from')} (${session.tz})`, h('input', { type: 'date', name: 'audit-from' }));
  const [toField, toInput] = field(`${t('to')} (${session.tz})`, h('input', { type: 'date', name: 'audit-to' }));
  const f = form([custField, actorField, fromField, toField], t('search'), async () => {
    // The days are the company's (session.tz), sent as instants with its offset: the API
    // reads a bare date as a UTC day.
    const { from, to } = dayRange(fromInput.value, toInput.value, session.tz);
    const r = await call('GET', '/v1/audit', { data: true, query: {
      customer_id: custInput.value.trim(), actor: actorInput.value.trim(), from, to, limit: 200,
    } });
    return table(r.entries || [], [['seq', '#'], ['ts_ms', t('time'), (v) => date(v)], ['actor', t('actor')],
      ['action', t('action')], ['decision', t('decision')], ['purpose', t('purpose')], ['channel', 'channel'], ['target', t('target')], ['reason', 'reason']]);
  });
  return panel(t('audit'), f, results);
}

// --- security admin ---

export function staffScreen() {
  return async(async () => {
    const [staff, roles] = await Promise.all([call('GET', '/v1/staff'), call('GET', '/v1/roles').catch(() => ({ roles: [], posts: [] }))]);
    // The vault's rule (config/custos.toml [access]; docs/security.md): a role that administers
    // access (a grant of staff.manage or config.manage) and a role that handles customer data
    // (customer.*, txn.*, note.*) are never held by one person unless [access]
    // allowed_role_pairs lists the pair. An account holding such a pair (its own roles and its
    // post's) holds it under that exception: shown for review. One role doing both is refused
    // by the vault's configuration check, so it cannot appear.
    const grants = new Map((roles.roles || []).map((r) => [r.name, (r.grants || []).flatMap((g) => g.actions)]));
    const postRoles = new Map((roles.posts || []).map((p) => [p.name, p.roles || []]));
    const isAdmin = (r) => (grants.get(r) || []).some((a) => a === 'staff.manage' || a === 'config.manage');
    const isData = (r) => (grants.get(r) || []).some((a) => /^(customer|txn|note)\./.test(a));
    const warn = (m) => {
      const held = [...new Set([...(m.roles || []), ...(postRoles.get(m.post) || [])])];
      const pairs = held.filter(isAdmin).flatMap((a) => held.filter((d) => d !== a && isData(d)).map((d) => `${a}+${d}`));
      return pairs.length ? `${t('sod_warning')} ${pairs.join(', ')}` : '';
    };
    return [
      table(staff.staff || [], [['staff_id', t('staff_id')], ['display_name', t('name')], ['post', t('post')], ['roles', t('roles')],
        ['status', t('status')], ['totp_enrolled', t('second_factor'), (v) => (v ? t('yes') : t('no'))],
        ['locked_until_ms', t('locked'), (v) => (v ? date(v) : '')], ['staff_id', t('sod'), (id, m) => h('span', { class: 'warn', 'data-sod': id }, warn(m))]]),
      h('h3', {}, t('posts')),
      table(roles.posts || [], [['name', t('post')], ['label', t('label')], ['roles', t('roles')]]),
    ];
  });
}

export function tokensScreen() {
  const box = h('div');
  const load = () => box.replaceChildren(async(async () => {
    const r = await call('GET', '/v1/tokens');
    const out = h('div', { class: 'out' });
    return [table((r.tokens || []).filter((x) => x.state === 'active'), [['token_id', 'ID'], ['staff_id', t('staff_id')], ['label', t('label')],
      ['created_at_ms', t('created'), (v) => date(v)], ['expires_at_ms', t('expires_at'), (v) => date(v)],
      ['token_id', t('actions'), (id) => button(t('revoke'), async () => {
        try { await call('DELETE', `/v1/tokens/${encodeURIComponent(id)}`); load(); } catch (e) { out.replaceChildren(message('error', errorText(e))); }
      }, { class: 'secondary', 'data-token': id })]]), out];
  }));
  load();
  return box;
}
