CREATE TABLE meta(
  key   TEXT PRIMARY KEY,
  value BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE customers(
  customer_id      TEXT PRIMARY KEY,
  created_at_ms    INTEGER NOT NULL,
  updated_at_ms    INTEGER NOT NULL,
  source           TEXT NOT NULL,
  schema_version   INTEGER NOT NULL,
  env_general      BLOB,
  env_internal     BLOB,
  env_confidential BLOB
);
CREATE TABLE wrapped_keys(
  customer_id TEXT PRIMARY KEY,
  kek_version INTEGER NOT NULL,
  wrapped_dek BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE blind_index(
  field       TEXT NOT NULL,
  token       BLOB NOT NULL,
  customer_id TEXT NOT NULL,
  PRIMARY KEY(field, token, customer_id)
) WITHOUT ROWID;
CREATE TABLE customer_tokens(
  customer_id TEXT PRIMARY KEY,
  tokens      BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE blind_index_staged(
  seq         INTEGER PRIMARY KEY,
  field       TEXT NOT NULL,
  token       BLOB NOT NULL,
  customer_id TEXT NOT NULL
);
CREATE TABLE transactions(
  customer_id   TEXT NOT NULL,
  txn_id        TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  source        TEXT NOT NULL,
  ciphertext    BLOB NOT NULL,
  PRIMARY KEY(customer_id, txn_id)
) WITHOUT ROWID;
CREATE TABLE notes(
  customer_id   TEXT NOT NULL,
  note_id       TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  source        TEXT NOT NULL,
  level         INTEGER NOT NULL,
  ciphertext    BLOB NOT NULL,
  PRIMARY KEY(customer_id, note_id)
) WITHOUT ROWID;
CREATE TABLE audit_log(
  seq        INTEGER PRIMARY KEY,
  ts_ms      INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  channel    TEXT NOT NULL,
  decision   TEXT NOT NULL,
  reason     TEXT NOT NULL,
  fields     TEXT NOT NULL,
  request_id TEXT NOT NULL,
  prev_hash  BLOB NOT NULL,
  hash       BLOB NOT NULL
);
CREATE TABLE audit_checkpoints(
  seq       INTEGER PRIMARY KEY,
  ts_ms     INTEGER NOT NULL,
  hash      BLOB NOT NULL,
  signature BLOB NOT NULL
);
CREATE TABLE staff(
  staff_id      TEXT PRIMARY KEY,
  display_name  TEXT NOT NULL,
  post          TEXT NOT NULL,
  roles         TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  status        TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE imports(
  import_id       TEXT PRIMARY KEY,
  file_sha256     TEXT NOT NULL UNIQUE,
  actor           TEXT NOT NULL,
  started_at_ms   INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL,
  committed_lines INTEGER NOT NULL,
  imported        INTEGER NOT NULL,
  rejected        INTEGER NOT NULL,
  state           TEXT NOT NULL
);
CREATE TABLE staff_credentials(
  staff_id        TEXT PRIMARY KEY,
  password_hash   TEXT NOT NULL,
  totp_sealed     BLOB NOT NULL,
  failed_attempts INTEGER NOT NULL,
  locked_until_ms INTEGER NOT NULL,
  updated_at_ms   INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE api_tokens(
  token_id      TEXT PRIMARY KEY,
  staff_id      TEXT NOT NULL,
  secret_sha256 BLOB NOT NULL UNIQUE,
  label         TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  expires_at_ms INTEGER NOT NULL,
  revoked_at_ms INTEGER NOT NULL
);
CREATE INDEX api_tokens_by_staff ON api_tokens(staff_id, created_at_ms);
CREATE TABLE training_records(
  staff_id        TEXT NOT NULL,
  course          TEXT NOT NULL,
  completed_at_ms INTEGER NOT NULL,
  valid_until_ms  INTEGER NOT NULL,
  recorded_by     TEXT NOT NULL,
  PRIMARY KEY(staff_id, course, completed_at_ms)
) WITHOUT ROWID;
CREATE TABLE approvals(
  approval_id     TEXT PRIMARY KEY,
  kind            TEXT NOT NULL,
  requester       TEXT NOT NULL,
  justification   TEXT NOT NULL,
  scope           TEXT NOT NULL,
  requested_at_ms INTEGER NOT NULL,
  expires_at_ms   INTEGER NOT NULL,
  approver        TEXT NOT NULL,
  decided_at_ms   INTEGER NOT NULL,
  state           TEXT NOT NULL
);
CREATE INDEX approvals_by_requester ON approvals(requester, requested_at_ms);
CREATE TABLE privacy_notices(
  version         INTEGER PRIMARY KEY,
  text_sha256     TEXT NOT NULL,
  text            TEXT NOT NULL,
  purposes        TEXT NOT NULL,
  effective_at_ms INTEGER NOT NULL,
  published_at_ms INTEGER NOT NULL,
  publisher       TEXT NOT NULL
);
CREATE TABLE consent_ledger(
  customer_id    TEXT NOT NULL,
  seq            INTEGER NOT NULL,
  action         TEXT NOT NULL,
  scope          TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  notice_version INTEGER NOT NULL,
  channel        TEXT NOT NULL,
  evidence_ref   TEXT NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  actor          TEXT NOT NULL,
  PRIMARY KEY(customer_id, seq)
) WITHOUT ROWID;
CREATE TRIGGER consent_ledger_no_update BEFORE UPDATE ON consent_ledger
BEGIN SELECT RAISE(ABORT, 'consent_ledger is append-only'); END;
CREATE TABLE legal_holds(
  customer_id    TEXT NOT NULL,
  hold_id        TEXT NOT NULL,
  reason         TEXT NOT NULL,
  owner          TEXT NOT NULL,
  placed_by      TEXT NOT NULL,
  placed_at_ms   INTEGER NOT NULL,
  released_by    TEXT NOT NULL,
  released_at_ms INTEGER NOT NULL,
  PRIMARY KEY(customer_id, hold_id)
) WITHOUT ROWID;
CREATE INDEX legal_holds_by_hold ON legal_holds(hold_id);
CREATE TABLE retention_plans(
  plan_id        TEXT PRIMARY KEY,
  content_sha256 TEXT NOT NULL,
  content        TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  state          TEXT NOT NULL,
  run_id         TEXT NOT NULL,
  updated_at_ms  INTEGER NOT NULL
);
CREATE TABLE destruction_log(
  seq     INTEGER PRIMARY KEY,
  ts_ms   INTEGER NOT NULL,
  run_id  TEXT NOT NULL,
  kind    TEXT NOT NULL,
  id_hash TEXT NOT NULL
);
CREATE INDEX destruction_log_by_run ON destruction_log(run_id, seq);
CREATE TABLE consent_erasures(
  customer_id TEXT PRIMARY KEY
) WITHOUT ROWID;
CREATE TRIGGER consent_ledger_no_delete BEFORE DELETE ON consent_ledger
WHEN NOT EXISTS (SELECT 1 FROM consent_erasures WHERE customer_id = OLD.customer_id)
BEGIN SELECT RAISE(ABORT, 'consent_ledger is append-only'); END;
CREATE TABLE account_closures(
  customer_id  TEXT PRIMARY KEY,
  closed_at_ms INTEGER NOT NULL,
  closed_by    TEXT NOT NULL,
  reason       TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE subject_requests(
  request_id   TEXT PRIMARY KEY,
  customer_id  TEXT NOT NULL,
  kind         TEXT NOT NULL,
  reference    TEXT NOT NULL,
  opened_by    TEXT NOT NULL,
  opened_at_ms INTEGER NOT NULL,
  due_at_ms    INTEGER NOT NULL,
  closed_by    TEXT NOT NULL,
  closed_at_ms INTEGER NOT NULL,
  outcome      TEXT NOT NULL
);
CREATE INDEX subject_requests_by_customer ON subject_requests(customer_id, closed_at_ms);
CREATE TABLE audit_tree(
  tree_size INTEGER NOT NULL,
  level     INTEGER NOT NULL,
  hash      BLOB NOT NULL,
  PRIMARY KEY(tree_size, level)
) WITHOUT ROWID;
CREATE TABLE subject_request_steps(
  request_id TEXT NOT NULL,
  step       TEXT NOT NULL,
  at_ms      INTEGER NOT NULL,
  actor      TEXT NOT NULL,
  method     TEXT NOT NULL,
  detail     TEXT NOT NULL,
  PRIMARY KEY(request_id, step)
) WITHOUT ROWID;
CREATE TABLE restrictions(
  customer_id  TEXT NOT NULL,
  request_id   TEXT NOT NULL,
  rule         TEXT NOT NULL,
  placed_by    TEXT NOT NULL,
  placed_at_ms INTEGER NOT NULL,
  until_ms     INTEGER NOT NULL,
  PRIMARY KEY(customer_id, request_id)
) WITHOUT ROWID;
CREATE TABLE subject_request_values(
  request_id  TEXT PRIMARY KEY,
  customer_id TEXT NOT NULL,
  sealed      BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE deid_releases(
  release_id     TEXT PRIMARY KEY,
  created_at_ms  INTEGER NOT NULL,
  actor          TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  profile        TEXT NOT NULL,
  profile_sha256 TEXT NOT NULL,
  parameters     TEXT NOT NULL,
  figures        TEXT NOT NULL,
  row_count      INTEGER NOT NULL,
  file_sha256    TEXT NOT NULL,
  recipients     TEXT NOT NULL
);
CREATE TABLE deid_budgets(
  profile       TEXT NOT NULL,
  actor         TEXT NOT NULL,
  epsilon_spent INTEGER NOT NULL,
  delta_spent   INTEGER NOT NULL,
  answers       INTEGER NOT NULL,
  updated_at_ms INTEGER NOT NULL,
  PRIMARY KEY(profile, actor)
) WITHOUT ROWID;
CREATE TABLE partners(
  partner_id        TEXT PRIMARY KEY,
  name              TEXT NOT NULL,
  uscc              TEXT NOT NULL,
  category          TEXT NOT NULL,
  cert_pem          TEXT NOT NULL,
  cert_sha256       TEXT NOT NULL,
  cert_subject      TEXT NOT NULL,
  cert_not_after_ms INTEGER NOT NULL,
  added_by          TEXT NOT NULL,
  added_at_ms       INTEGER NOT NULL
);
CREATE TABLE share_agreements(
  agreement_id             TEXT PRIMARY KEY,
  partner_id               TEXT NOT NULL,
  document_sha256          TEXT NOT NULL,
  purposes                 TEXT NOT NULL,
  fields                   TEXT NOT NULL,
  profile                  TEXT NOT NULL,
  valid_until_ms           INTEGER NOT NULL,
  max_rows                 INTEGER NOT NULL,
  cross_border             TEXT NOT NULL,
  impact_assessment        TEXT NOT NULL,
  proposed_by              TEXT NOT NULL,
  proposed_at_ms           INTEGER NOT NULL,
  approval_id              TEXT NOT NULL,
  revoked_by               TEXT NOT NULL,
  revoked_at_ms            INTEGER NOT NULL,
  revoke_reason            TEXT NOT NULL,
  deletion_due_ms          INTEGER NOT NULL,
  deletion_sha256          TEXT NOT NULL,
  deletion_confirmed_by    TEXT NOT NULL,
  deletion_confirmed_at_ms INTEGER NOT NULL
);
CREATE INDEX share_agreements_by_partner ON share_agreements(partner_id);
CREATE TABLE shares(
  share_id      TEXT PRIMARY KEY,
  agreement_id  TEXT NOT NULL,
  partner_id    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  fields        TEXT NOT NULL,
  row_count     INTEGER NOT NULL,
  left_out      INTEGER NOT NULL,
  canary_count  INTEGER NOT NULL,
  file_sha256   TEXT NOT NULL,
  manifest      TEXT NOT NULL,
  approval_id   TEXT NOT NULL
);
CREATE INDEX shares_by_agreement ON shares(agreement_id, created_at_ms);
CREATE TABLE ops_alerts(
  alert_id     TEXT PRIMARY KEY,
  raised_at_ms INTEGER NOT NULL,
  rule         TEXT NOT NULL,
  severity     TEXT NOT NULL,
  actor        TEXT NOT NULL,
  trigger_seq  INTEGER NOT NULL,
  evidence     TEXT NOT NULL,
  subject      TEXT NOT NULL,
  detail       TEXT NOT NULL,
  status       TEXT NOT NULL,
  incident_id  TEXT NOT NULL
);
CREATE INDEX ops_alerts_by_trigger ON ops_alerts(rule, trigger_seq);
CREATE TABLE honey_records(
  customer_id   TEXT PRIMARY KEY,
  created_at_ms INTEGER NOT NULL,
  created_by    TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE incidents(
  incident_id   TEXT PRIMARY KEY,
  opened_at_ms  INTEGER NOT NULL,
  opened_by     TEXT NOT NULL,
  title         TEXT NOT NULL,
  severity      TEXT NOT NULL,
  status        TEXT NOT NULL,
  subject_actor TEXT NOT NULL,
  alert_ids     TEXT NOT NULL,
  from_ms       INTEGER NOT NULL,
  to_ms         INTEGER NOT NULL,
  closed_by     TEXT NOT NULL,
  closed_at_ms  INTEGER NOT NULL
);
CREATE TABLE incident_steps(
  incident_id TEXT NOT NULL,
  step_no     INTEGER NOT NULL,
  at_ms       INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  kind        TEXT NOT NULL,
  detail      TEXT NOT NULL,
  PRIMARY KEY(incident_id, step_no)
) WITHOUT ROWID;
CREATE TABLE violations(
  violation_id   TEXT PRIMARY KEY,
  staff_id       TEXT NOT NULL,
  rule           TEXT NOT NULL,
  evidence       TEXT NOT NULL,
  incident_id    TEXT NOT NULL,
  handling       TEXT NOT NULL,
  status         TEXT NOT NULL,
  recorded_by    TEXT NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  closed_by      TEXT NOT NULL,
  closed_at_ms   INTEGER NOT NULL
);
CREATE INDEX violations_by_staff ON violations(staff_id, status);
CREATE TABLE staff_addresses(
  staff_id      TEXT NOT NULL,
  address       TEXT NOT NULL,
  first_seen_ms INTEGER NOT NULL,
  PRIMARY KEY(staff_id, address)
) WITHOUT ROWID;
CREATE TABLE pias(
  pia_id         TEXT PRIMARY KEY,
  title          TEXT NOT NULL,
  scope          TEXT NOT NULL,
  risks          TEXT NOT NULL,
  measures       TEXT NOT NULL,
  author         TEXT NOT NULL,
  created_at_ms  INTEGER NOT NULL,
  approver       TEXT NOT NULL,
  approved_at_ms INTEGER NOT NULL,
  review_due_ms  INTEGER NOT NULL,
  keep_until_ms  INTEGER NOT NULL,
  state          TEXT NOT NULL
);
CREATE TABLE assessments(
  assessment_id    TEXT PRIMARY KEY,
  started_at_ms    INTEGER NOT NULL,
  started_by       TEXT NOT NULL,
  from_ms          INTEGER NOT NULL,
  to_ms            INTEGER NOT NULL,
  items            TEXT NOT NULL,
  signed_off_by    TEXT NOT NULL,
  signed_off_at_ms INTEGER NOT NULL,
  state            TEXT NOT NULL
);
CREATE TABLE policy_versions(
  kind           TEXT NOT NULL,
  version_no     INTEGER NOT NULL,
  sha256         TEXT NOT NULL,
  effective_ms   INTEGER NOT NULL,
  recorded_at_ms INTEGER NOT NULL,
  recorded_by    TEXT NOT NULL,
  source         TEXT NOT NULL,
  content        TEXT NOT NULL,
  PRIMARY KEY(kind, version_no)
) WITHOUT ROWID;
CREATE TABLE partner_certificates(
  partner_id        TEXT NOT NULL,
  cert_sha256       TEXT NOT NULL,
  cert_subject      TEXT NOT NULL,
  cert_not_after_ms INTEGER NOT NULL,
  cert_pem          TEXT NOT NULL,
  in_use_from_ms    INTEGER NOT NULL,
  replaced_by       TEXT NOT NULL,
  replaced_at_ms    INTEGER NOT NULL,
  PRIMARY KEY(partner_id, cert_sha256)
) WITHOUT ROWID;
CREATE TABLE notice_shares(
  notice_version INTEGER NOT NULL,
  target         TEXT NOT NULL,
  PRIMARY KEY(notice_version, target)
) WITHOUT ROWID;
CREATE TABLE audit_keys_state(
  id          INTEGER PRIMARY KEY,
  indexed_seq INTEGER NOT NULL
);
CREATE TABLE audit_time_spans(
  first_seq INTEGER PRIMARY KEY,
  last_seq  INTEGER NOT NULL,
  min_ts_ms INTEGER NOT NULL,
  max_ts_ms INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE audit_key_spans(
  col       INTEGER NOT NULL,
  key       TEXT NOT NULL,
  first_seq INTEGER NOT NULL,
  last_seq  INTEGER NOT NULL,
  PRIMARY KEY(col, key, first_seq)
) WITHOUT ROWID;
CREATE TABLE consent_kept(
  customer_id     TEXT PRIMARY KEY,
  destroyed_at_ms INTEGER NOT NULL,
  run_id          TEXT NOT NULL,
  request_id      TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE deid_release_classes(
  release_id TEXT PRIMARY KEY,
  profile    TEXT NOT NULL,
  levels     TEXT NOT NULL,
  counts     TEXT NOT NULL
);
CREATE INDEX deid_release_classes_by_profile ON deid_release_classes(profile, levels);
