// The security administrator's keys and backups (issue 21; docs/console.md): key status and
// the KEK rotation (GET /v1/keys, POST /v1/keys/rotate), backups and their verification
// (GET /v1/backups, POST /v1/backups/{id}/verify). The vault decides who may: the rotation is
// the administrator's (key.manage), and its refusal is shown as the vault words it.
import { h } from './dom.js';
import { t } from './i18n.js';
import { call } from './api.js';
import { panel, message, errorText, date, table, button, reloading, facts } from './ui.js';

// `out` is outside the reloading part: the rotation's outcome stays while the status reloads.
function keyStatus(again, out) {
  return call('GET', '/v1/keys').then((k) => {
    const r = k.rotation || {};
    // Two steps: the button shows what a rotation does and asks for the confirmation.
    const confirmBox = h('div');
    const ask = () => confirmBox.replaceChildren(
      message('warn', t('rotate_warning')),
      button(t('confirm_rotate'), async () => {
        confirmBox.replaceChildren();
        out.replaceChildren(message('info', t('loading')));
        try {
          const done = await call('POST', '/v1/keys/rotate');
          out.replaceChildren(message('ok', t('rotated')), facts([[t('from_version'), `v${done.from_version}`],
            [t('to_version'), `v${done.to_version}`], [t('epoch_keys'), done.epoch_keys], [t('vault_keys'), done.vault_keys],
            [t('wrapped_deks'), done.rewrapped]]));
          again();
        } catch (e) {
          out.replaceChildren(message('error', errorText(e)));
        }
      }, { id: 'confirm-rotate' }),
      button(t('cancel'), () => confirmBox.replaceChildren(), { class: 'secondary' }));
    return [
      facts([[t('kek_provider'), k.provider], [t('active_version'), `v${k.active_version}`]]),
      table(k.versions || [], [['version', t('version'), (v) => `v${v}`], ['state', t('state'), (v) => t(`kek_${v}`)],
        ['wrapped_deks', t('wrapped_deks')], ['epoch_keys', t('epoch_keys')], ['vault_keys', t('vault_keys')],
        ['material_present', t('material_present'), (v) => (v ? t('yes') : t('no'))]], t('kek_versions')),
      h('h3', {}, t('last_rotation')),
      r.state && r.state !== 'none'
        ? facts([[t('state'), t(`rotation_${r.state}`)], [t('from_version'), `v${r.from_version}`], [t('to_version'), `v${r.to_version}`],
          [t('rewrapped'), r.rewrapped], [t('remaining'), r.remaining], [t('started'), date(r.started_at_ms)], [t('finished'), date(r.finished_at_ms)]])
        : message('info', t('no_rotation')),
      h('h3', {}, t('rotate_kek')),
      message('info', t('rotate_who')),
      button(t('rotate_kek'), ask, { id: 'rotate-kek' }),
      confirmBox,
    ];
  });
}

// As for keyStatus, the verification's result (`out`) stays while the list reloads.
function backupList(again, out) {
  return call('GET', '/v1/backups').then((b) => {
    const verify = (id) => button(t('verify_backup'), async () => {
      out.replaceChildren(message('info', t('loading')));
      try {
        const r = await call('POST', `/v1/backups/${encodeURIComponent(id)}/verify`);
        if (r.ok) {
          const rows = Object.values(r.row_counts || {}).reduce((a, n) => a + n, 0);
          out.replaceChildren(message('ok', `${id}: ${t('verify_ok')}`), facts([[t('chunks'), r.chunks], [t('rows'), rows],
            [t('key_backup'), r.key_backup ? `${r.key_backup} (${r.key_backup_checked ? t('checked') : t('not_beside')})` : '']]));
        } else {
          out.replaceChildren(message('error', `${id}: ${t('verify_failed')} ${r.error}`));
        }
        again();
      } catch (e) {
        out.replaceChildren(message('error', errorText(e)));
      }
    }, { class: 'secondary', 'data-backup': id, 'aria-label': `${t('verify_backup')} ${id}` });
    return [
      table(b.backups || [], [['backup_id', t('backup_id')], ['created_at_ms', t('created'), (v) => date(v)], ['format', t('format')],
        ['bytes', t('size_bytes')], ['key_backup', t('key_backup')],
        ['verified', t('verified'), (v, it) => h('span', { class: v === 'failed' ? 'warn' : '' },
          `${t(`verified_${v}`)}${it.verified_at_ms ? ` (${date(it.verified_at_ms)})` : ''}${it.problem ? ` ${it.problem}` : ''}`)],
        ['backup_id', t('actions'), (id) => verify(id)]], t('backups_in_dir')),
    ];
  });
}

export function keysScreen() {
  const out = h('div', { class: 'out', id: 'rotate-out', 'aria-live': 'polite' });
  return panel(t('keys'), reloading(h('div'), (again) => keyStatus(again, out)), out);
}

export function backupsScreen() {
  const out = h('div', { class: 'out', id: 'verify-out', 'aria-live': 'polite' });
  return panel(t('backups'), reloading(h('div'), (again) => backupList(again, out)), message('info', t('backups_cli')), out);
}
