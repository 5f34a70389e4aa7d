// The web console of custos serve (issue 21; docs/console.md). Signs in with password and
// TOTP code (POST /console/session), then shows the screens of each role; every action is an
// API call under the signed-in staff member with the purpose chosen on screen.
import { h, clear } from './dom.js';
import { t, toggleLanguage, language, purposeLabel, PURPOSES } from './i18n.js';
import { call, session, whenExpired } from './api.js';
import { panel, message, errorText, field, input, select, button } from './ui.js';
import { agentScreen, approvalsPanel, auditScreen, staffScreen, tokensScreen } from './screens.js';
import { keysScreen, backupsScreen } from './security.js';
import { dashboard, liftScreen, requestsScreen, retentionScreen } from './dpo.js';
import { reportsScreen, doctorScreen, opsScreen, sharingScreen } from './oversight.js';

const root = () => document.getElementById('app');
// The workspaces and their screens (docs/console.md). A workspace is offered to a person
// whose roles grant one of its `needs` actions (GET /v1/me); the vault still decides each call.
const WORKSPACES = {
  agent: {
    label: 'nav_agent',
    needs: ['customer.search', 'customer.read'],
    // A tab's fourth member: the actions one of which it needs (GET /v1/me); every tab until
    // /v1/me answered. The support desk lifts the restrictions its requests made (dsr.manage).
    tabs: [['customer', 'find', agentScreen], ['lift', 'lift_title', liftScreen, ['dsr.manage']]],
  },
  dpo: {
    label: 'nav_dpo',
    needs: ['report.read', 'retention.plan'],
    tabs: [
      ['dashboard', 'dashboard', () => panel(t('dashboard'), dashboard())],
      ['requests', 'dsr_queue', requestsScreen],
      ['approvals', 'approvals', () => approvalsPanel(false)],
      ['retention', 'retention_plans', retentionScreen],
      ['audit', 'audit', auditScreen],
      ['reports', 'reports', reportsScreen],
      ['incidents', 'incidents', opsScreen(false)],
      ['sharing', 'sharing', () => sharingScreen((f, title) => approvalsPanel(false, f, title))],
      ['doctor', 'doctor', doctorScreen],
    ],
  },
  security: {
    label: 'nav_security',
    needs: ['staff.manage', 'ops.manage'],
    tabs: [
      ['staff', 'staff', () => panel(t('staff'), staffScreen())],
      ['approvals', 'approvals', () => approvalsPanel(true)],
      ['tokens', 'tokens', () => panel(t('tokens'), tokensScreen())],
      ['alerts', 'incidents', opsScreen(true)],
      ['retention', 'retention_plans', retentionScreen],
      ['doctor', 'doctor', doctorScreen],
      ['keys', 'keys', keysScreen],
      ['backups', 'backups', backupsScreen],
    ],
  },
};
let notice = '';

// The workspaces this person's roles reach (all of them until /v1/me answered).
function offered() {
  const names = Object.keys(WORKSPACES);
  if (!session.me) return names;
  const granted = new Set(session.me.actions || []);
  const mine = names.filter((n) => WORKSPACES[n].needs.some((a) => granted.has(a)));
  return mine.length ? mine : names;
}

// "#/dpo/retention" -> ['dpo', 'retention']; the first offered workspace and its first
// screen otherwise.
function route() {
  const [ws, tab] = (location.hash || '').replace(/^#\/?/, '').split('/');
  const name = WORKSPACES[ws] ? ws : offered()[0];
  const tabs = tabsOf(name);
  return [name, tabs.find(([k]) => k === tab) || tabs[0]];
}

// The workspace's tabs this person's roles reach (a tab without `needs` always).
function tabsOf(name) {
  const granted = new Set((session.me && session.me.actions) || []);
  return WORKSPACES[name].tabs.filter(([, , , needs]) => !needs || !session.me || needs.some((a) => granted.has(a)));
}

// Purposes offered in the selector: those the roles' data grants name, with legal_obligation
// when a grant works under any purpose (the DPO's and the administrators'); the whole
// catalogue until /v1/me answered.
function purposesOffered() {
  const me = session.me;
  if (!me) return PURPOSES;
  const out = PURPOSES.filter((p) => (me.purposes || []).includes(p));
  if (me.any_purpose && !out.includes('legal_obligation')) out.push('legal_obligation');
  return out.length ? out : PURPOSES;
}

async function loadMe() {
  try {
    session.me = await call('GET', '/v1/me');
  } catch (_) {
    session.me = null;  // the console still works; the vault decides every call
  }
}

function languageButton() {
  return button(t('language'), () => { toggleLanguage(); render(); }, { class: 'secondary', id: 'lang', lang: language() === 'en' ? 'zh-CN' : 'en' });
}

// The sign-in needs password AND code (the vault refuses a staff member with no enrolled
// factor, 409 "totp: ..."). A first factor is enrolled here with the password
// (POST /v1/totp/enrollment): the secret and its otpauth: link are shown once.
function signInPage() {
  const [idField, idInput] = field(t('staff_id'), input({ name: 'staff_id', autocomplete: 'username', required: true }));
  const [pwField, pwInput] = field(t('password'), h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true }));
  const [codeField, codeInput] = field(t('totp'), input({ name: 'totp_code', autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]{6}', required: true }));
  const [newField, newInput] = field(t('new_password'), h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password' }));
  const out = h('div', { class: 'out' }, notice ? message('error', notice) : null);
  const enrolOut = h('div', { id: 'enrol-out' });
  const enrol = async () => {
    if (!idInput.reportValidity() || !pwInput.reportValidity()) return;
    try {
      const e = await call('POST', '/v1/totp/enrollment', { body: { staff_id: idInput.value.trim(), password: pwInput.value } });
      enrolOut.replaceChildren(message('ok', t('enrol_done')),
        h('dl', { class: 'facts' },
          h('dt', {}, t('enrol_secret')), h('dd', {}, h('code', { class: 'secret', id: 'enrol-secret' }, e.secret_base32)),
          h('dt', {}, t('enrol_uri')), h('dd', {}, h('code', { id: 'enrol-uri' }, e.otpauth_uri))));
      codeInput.focus();
    } catch (e) {
      enrolOut.replaceChildren(message('error', errorText(e)));
    }
  };
  const f = h('form', {
    class: 'signin',
    onsubmit: async (ev) => {
      ev.preventDefault();
      try {
        const body = { staff_id: idInput.value.trim(), password: pwInput.value, totp_code: codeInput.value.trim() };
        if (newInput.value) body.new_password = newInput.value;
        const s = await call('POST', '/console/session', { body });
        notice = '';
        adopt(s);
        await loadMe();
        render();
      } catch (e) {
        const noFactor = e.status === 409 && /^totp:/.test(e.message || '');
        out.replaceChildren(message('error', errorText(e)), noFactor ? message('warn', t('enrol_needed')) : null);
      }
    },
  }, idField, pwField, codeField, newField, h('button', { type: 'submit', id: 'signin' }, t('signin')));
  return h('main', { class: 'signin-page' }, h('h1', {}, t('title')), f, out,
    h('section', { class: 'enrol', 'aria-labelledby': 'enrol-title' },
      h('h2', { id: 'enrol-title' }, t('enrol_totp')), h('p', { class: 'aside' }, t('enrol_intro')),
      button(t('enrol_totp'), enrol, { id: 'enrol-totp', class: 'secondary' }), enrolOut),
    h('p', { class: 'aside' }, languageButton()));
}

function adopt(s) {
  session.staff = s.staff_id;
  session.csrf = s.csrf_token;
  session.tz = s.time_zone || session.tz;
  session.idleMs = s.idle_timeout_ms;
  session.maskedSearch = null;
}

function header(current) {
  const choices = purposesOffered();
  if (session.purpose && !choices.includes(session.purpose)) session.purpose = '';
  const purposeSel = select([['', t('choose_purpose')], ...choices.map((p) => [p, purposeLabel(p)])], session.purpose);
  purposeSel.id = 'purpose';
  purposeSel.addEventListener('change', () => { session.purpose = purposeSel.value; render(); });
  const me = session.me;
  const who = me ? `${me.display_name || me.staff_id}${me.post ? ` · ${me.post}` : ''}` : '';
  return h('header', { class: 'top' },
    h('span', { class: 'brand' }, t('title')),
    h('nav', { 'aria-label': t('workspaces') }, offered().map((name) =>
      h('a', { href: `#/${name}`, 'aria-current': name === current ? 'page' : false }, t(WORKSPACES[name].label)))),
    h('div', { class: 'purpose' }, h('label', { for: 'purpose' }, t('purpose')), purposeSel),
    h('span', { class: 'who', title: who }, `${t('signed_in_as')}: `, h('strong', { id: 'who' }, session.staff),
      ` · ${t('time_zone')}: ${session.tz}`),
    languageButton(),
    button(t('signout'), signOut, { id: 'signout', class: 'secondary' }));
}

function tabs(name, current) {
  return h('nav', { class: 'tabs', 'aria-label': t(WORKSPACES[name].label) }, tabsOf(name).map(([key, label]) =>
    h('a', { href: `#/${name}/${key}`, 'aria-current': key === current ? 'page' : false, 'data-tab': key }, t(label))));
}

async function signOut() {
  try { await call('DELETE', '/console/session'); } catch (_) { /* gone already */ }
  session.staff = '';
  session.csrf = '';
  session.purpose = '';
  session.me = null;
  session.maskedSearch = null;
  render();
}

function render() {
  document.title = t('title');
  if (!session.staff) {
    clear(root(), signInPage());
    return;
  }
  const [name, [tab, label, screen]] = route();
  clear(root(), header(name), h('main', { id: 'main' }, h('h1', {}, `${t(WORKSPACES[name].label)} · ${t(label)}`),
    tabsOf(name).length > 1 ? tabs(name, tab) : null,
    session.purpose ? null : message('warn', t('need_purpose')), screen()));
}

whenExpired(() => {
  session.staff = '';
  session.csrf = '';
  session.me = null;
  notice = t('expired');
  render();
});
window.addEventListener('hashchange', render);

async function start() {
  document.documentElement.lang = language() === 'en' ? 'en' : 'zh-CN';
  try {
    const s = await call('GET', '/console/session');
    if (s.staff_id) {
      adopt(s);
      await loadMe();
    }
  } catch (e) {
    if (e.status !== 401) notice = errorText(e);
  }
  render();
}

start();
