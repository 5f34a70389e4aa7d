// Shared pieces of the screens: panels, tables, forms, messages.
import { h, s, uid } from './dom.js';
import { t, formatDate } from './i18n.js';
import { session } from './api.js';

export function panel(title, ...kids) {
  const id = uid('panel');
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), ...kids);
}

export function message(kind, text) {
  return h('p', { class: `msg ${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function errorText(e) {
  if (e && e.code === 'purpose_required') return t('need_purpose');
  const code = e && e.code ? ` [${e.code}]` : '';
  return `${t('error')} ${e && e.status ? e.status : ''}${code}: ${e && e.message ? e.message : e}`;
}

export function date(ms) {
  return formatDate(ms, session.tz);
}

function cell(v) {
  if (v === null || v === undefined) return '';
  if (Array.isArray(v)) return v.map(cell).join(', ');
  if (typeof v === 'object') {
    return Object.entries(v).filter(([, x]) => cell(x) !== '').map(([k, x]) => `${k}: ${cell(x)}`).join('; ');
  }
  return String(v);
}

// columns: [[key, label, render?]]
export function table(items, columns, caption) {
  if (!items || items.length === 0) return message('info', t('empty'));
  return h('div', { class: 'scroll' }, h('table', {},
    caption ? h('caption', {}, caption) : null,
    h('thead', {}, h('tr', {}, columns.map(([, label]) => h('th', { scope: 'col' }, label)))),
    h('tbody', {}, items.map((it) => h('tr', {}, columns.map(([key, , render]) =>
      h('td', {}, render ? render(it[key], it) : cell(it[key]))))))));
}

// A labelled control; returns [wrapper, control].
export function field(label, control) {
  const id = uid('f');
  control.setAttribute('id', id);
  return [h('div', { class: 'field' }, h('label', { for: id }, label), control), control];
}

export function select(options, value) {
  return h('select', {}, options.map(([v, label]) => h('option', { value: v, selected: v === value }, label)));
}

export function input(attrs) {
  return h('input', { type: 'text', ...attrs });
}

export function button(label, onclick, attrs = {}) {
  return h('button', { type: 'button', onclick, ...attrs }, label);
}

// What a loader returned, as nodes: nested lists flattened, nothing for null.
function nodes(content) {
  return [].concat(content ?? []).flat(Infinity).filter((x) => x !== null && x !== undefined && x !== false);
}

// A form whose submit runs `run` and shows its outcome in `out`.
export function form(kids, submitLabel, run) {
  const out = h('div', { class: 'out' });
  const f = h('form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      out.replaceChildren(message('info', t('loading')));
      try {
        const shown = await run();
        out.replaceChildren(...nodes(shown));
      } catch (e) {
        out.replaceChildren(message('error', errorText(e)));
      }
    },
  }, kids, h('button', { type: 'submit' }, submitLabel));
  return h('div', {}, f, out);
}

// Loads `load` into a placeholder; errors are shown where the content would be.
export function async(load) {
  const box = h('div', { class: 'async' }, message('info', t('loading')));
  load().then((content) => box.replaceChildren(...nodes(content)))
    .catch((e) => box.replaceChildren(message('error', errorText(e))));
  return box;
}

// A bar chart of [label, value, class?] triples as SVG (no inline style: the CSP allows none).
export function barChart(title, pairs) {
  const max = Math.max(1, ...pairs.map(([, v]) => v));
  const width = 320;
  const row = 26;
  const height = pairs.length * row + 8;
  return h('figure', { class: 'chart' },
    s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': title },
      pairs.map(([label, v, kind], i) => [
        s('text', { x: 0, y: i * row + 18, class: 'chart-label' }, label),
        s('rect', { x: 120, y: i * row + 4, height: 18, width: Math.max(2, (v / max) * 160), class: `chart-bar ${kind || ''}` }),
        s('text', { x: 126 + (v / max) * 160, y: i * row + 18, class: 'chart-value' }, String(v)),
      ])),
    h('figcaption', {}, title));
}

export function stat(label, value, kind = '') {
  return h('div', { class: `stat ${kind}` }, h('div', { class: 'stat-value' }, String(value)), h('div', { class: 'stat-label' }, label));
}

// A link that saves `text` (or bytes) as a file: a Blob URL, so nothing is parsed as markup
// in the console's page (an HTML letter or report opens as its own file).
export function download(label, name, type, content) {
  const url = URL.createObjectURL(new Blob([content], { type }));
  return h('a', { href: url, download: name, class: 'download' }, label);
}

export function base64Bytes(text) {
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i += 1) out[i] = raw.charCodeAt(i);
  return out;
}

// Every scalar member of the items as a column (lists of the register: partners, shares...).
export function autoTable(items, labels = {}, render = {}) {
  const keys = [];
  for (const it of items || []) {
    for (const [k, v] of Object.entries(it)) {
      if (!keys.includes(k) && (v === null || typeof v !== 'object' || Array.isArray(v))) keys.push(k);
    }
  }
  return table(items, keys.map((k) => [k, labels[k] || k, render[k] || (k.endsWith('_ms') ? (v) => date(v) : undefined)]));
}

// Loads `load` again each time the returned function is called, into `box`.
export function reloading(box, load) {
  const again = () => box.replaceChildren(async(() => load(again)));
  again();
  return box;
}

// Definition list of [label, value] pairs.
export function facts(pairs) {
  return h('dl', { class: 'facts' }, pairs.filter(([, v]) => v !== '' && v !== undefined && v !== null)
    .map(([k, v]) => [h('dt', {}, k), h('dd', {}, v instanceof Node ? v : String(v))]));
}
