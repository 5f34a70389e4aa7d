// The web console of custos serve (issue 21; docs/console.md). Signs in with password and
// TOTP code (POST /console/session), then shows the screens of each role; every action is an
// API call under the signed-in staff member with the purpose chosen on screen.
import { h, clear } from './dom.js';
import { t, toggleLanguage, language, purposeLabel, PURPOSES } from './i18n.js';
import { call, session, whenExpired } from './api.js';
import { message, errorText, field, input, select, button } from './ui.js';
import { agentScreen, dpoScreen, securityScreen } from './screens.js';

const root = () => document.getElementById('app');
const SCREENS = { agent: ['nav_agent', agentScreen], dpo: ['nav_dpo', dpoScreen], security: ['nav_security', securityScreen] };
let notice = '';

function route() {
  const name = (location.hash || '').replace(/^#\/?/, '');
  return SCREENS[name] ? name : 'agent';
}

function languageButton() {
  return button(t('language'), () => { toggleLanguage(); render(); }, { class: 'secondary', id: 'lang', lang: language() === 'en' ? 'zh-CN' : 'en' });
}

function signInPage() {
  const [idField, idInput] = field(t('staff_id'), input({ name: 'staff_id', autocomplete: 'username', required: true }));
  const [pwField, pwInput] = field(t('password'), h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true }));
  const [codeField, codeInput] = field(t('totp'), input({ name: 'totp_code', autocomplete: 'one-time-code', inputmode: 'numeric', pattern: '[0-9]{6}' }));
  const [newField, newInput] = field(t('new_password'), h('input', { type: 'password', name: 'new_password', autocomplete: 'new-password' }));
  const out = h('div', { class: 'out' }, notice ? message('error', notice) : null);
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
        render();
      } catch (e) {
        out.replaceChildren(message('error', errorText(e)));
      }
    },
  }, idField, pwField, codeField, newField, h('button', { type: 'submit', id: 'signin' }, t('signin')));
  return h('main', { class: 'signin-page' }, h('h1', {}, t('title')), f, out, h('p', { class: 'aside' }, languageButton()));
}

function adopt(s) {
  session.staff = s.staff_id;
  session.csrf = s.csrf_token;
  session.tz = s.time_zone || session.tz;
  session.idleMs = s.idle_timeout_ms;
}

function header(current) {
  const purposeSel = select([['', t('choose_purpose')], ...PURPOSES.map((p) => [p, purposeLabel(p)])], session.purpose);
  purposeSel.id = 'purpose';
  purposeSel.addEventListener('change', () => { session.purpose = purposeSel.value; render(); });
  return h('header', { class: 'top' },
    h('span', { class: 'brand' }, t('title')),
    h('nav', { 'aria-label': t('title') }, Object.entries(SCREENS).map(([name, [label]]) =>
      h('a', { href: `#/${name}`, 'aria-current': name === current ? 'page' : false }, t(label)))),
    h('div', { class: 'purpose' }, h('label', { for: 'purpose' }, t('purpose')), purposeSel),
    h('span', { class: 'who' }, `${t('signed_in_as')}: `, h('strong', { id: 'who' }, session.staff), ` · ${t('time_zone')}: ${session.tz}`),
    languageButton(),
    button(t('signout'), signOut, { id: 'signout', class: 'secondary' }));
}

async function signOut() {
  try { await call('DELETE', '/console/session'); } catch (_) { /* gone already */ }
  session.staff = '';
  session.csrf = '';
  session.purpose = '';
  render();
}

function render() {
  document.title = t('title');
  if (!session.staff) {
    clear(root(), signInPage());
    return;
  }
  const current = route();
  const [label, screen] = SCREENS[current];
  clear(root(), header(current), h('main', { id: 'main' }, h('h1', {}, t(label)),
    session.purpose ? null : message('warn', t('need_purpose')), screen()));
}

whenExpired(() => {
  session.staff = '';
  session.csrf = '';
  notice = t('expired');
  render();
});
window.addEventListener('hashchange', render);

async function start() {
  document.documentElement.lang = language() === 'en' ? 'en' : 'zh-CN';
  try {
    const s = await call('GET', '/console/session');
    if (s.staff_id) adopt(s);
  } catch (e) {
    if (e.status !== 401) notice = errorText(e);
  }
  render();
}

start();
