
CREATE TABLE meta(
  key   TEXT COLLATE "C" PRIMARY KEY,
  value BYTEA NOT NULL
);

CREATE TABLE customers(
  customer_id      TEXT COLLATE "C" PRIMARY KEY,
  created_at_ms    BIGINT NOT NULL,
  updated_at_ms    BIGINT NOT NULL,
  source           TEXT NOT NULL,
  schema_version   BIGINT NOT NULL,
  env_general      BYTEA,
  env_internal     BYTEA,
  env_confidential BYTEA
);

CREATE TABLE wrapped_keys(
  customer_id TEXT COLLATE "C" PRIMARY KEY,
  kek_version BIGINT NOT NULL,
  wrapped_dek BYTEA NOT NULL
);

CREATE TABLE blind_index(
  customer_id TEXT COLLATE "C" NOT NULL,
  field       TEXT COLLATE "C" NOT NULL,
  token       BYTEA NOT NULL,
  PRIMARY KEY(customer_id, field, token)
);
CREATE INDEX blind_index_by_token ON blind_index(field, token, customer_id);

CREATE TABLE transactions(
  customer_id   TEXT COLLATE "C" NOT NULL,
  txn_id        TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  source        TEXT NOT NULL,
  ciphertext    BYTEA NOT NULL,
  PRIMARY KEY(customer_id, txn_id)
);

CREATE TABLE notes(
  customer_id   TEXT COLLATE "C" NOT NULL,
  note_id       TEXT COLLATE "C" NOT NULL,
  created_at_ms BIGINT NOT NULL,
  source        TEXT NOT NULL,
  level         BIGINT NOT NULL,
  ciphertext    BYTEA NOT NULL,
  PRIMARY KEY(customer_id, note_id)
);

CREATE TABLE audit_log(
  seq        BIGINT PRIMARY KEY,
  ts_ms      BIGINT NOT NULL,
  actor      TEXT NOT NULL,
  action     TEXT NOT NULL,
  target     TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  channel    TEXT NOT NULL,
  decision   TEXT NOT NULL,
  reason     TEXT NOT NULL,
  fields     TEXT NOT NULL,
  request_id TEXT NOT NULL,
  prev_hash  BYTEA NOT NULL,
  hash       BYTEA NOT NULL
);

CREATE TABLE audit_checkpoints(
  seq       BIGINT PRIMARY KEY,
  ts_ms     BIGINT NOT NULL,
  hash      BYTEA NOT NULL,
  signature BYTEA NOT NULL
);

CREATE TABLE staff(
  staff_id      TEXT COLLATE "C" PRIMARY KEY,
  display_name  TEXT NOT NULL,
  post          TEXT NOT NULL,
  roles         TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  status        TEXT NOT NULL
);

CREATE TABLE imports(
  import_id       TEXT COLLATE "C" PRIMARY KEY,
  file_sha256     TEXT COLLATE "C" NOT NULL UNIQUE,
  actor           TEXT NOT NULL,
  started_at_ms   BIGINT NOT NULL,
  updated_at_ms   BIGINT NOT NULL,
  committed_lines BIGINT NOT NULL,
  imported        BIGINT NOT NULL,
  rejected        BIGINT NOT NULL,
  state           TEXT NOT NULL
);


CREATE TABLE staff_credentials(
  staff_id        TEXT COLLATE "C" PRIMARY KEY,
  password_hash   TEXT NOT NULL,
  totp_sealed     BYTEA NOT NULL,
  failed_attempts BIGINT NOT NULL,
  locked_until_ms BIGINT NOT NULL,
  updated_at_ms   BIGINT NOT NULL
);

CREATE TABLE api_tokens(
  token_id      TEXT COLLATE "C" PRIMARY KEY,
  staff_id      TEXT COLLATE "C" NOT NULL,
  secret_sha256 BYTEA NOT NULL UNIQUE,
  label         TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  expires_at_ms BIGINT NOT NULL,
  revoked_at_ms BIGINT NOT NULL
);
CREATE INDEX api_tokens_by_staff ON api_tokens(staff_id, created_at_ms);

CREATE TABLE training_records(
  staff_id        TEXT COLLATE "C" NOT NULL,
  course          TEXT COLLATE "C" NOT NULL,
  completed_at_ms BIGINT NOT NULL,
  valid_until_ms  BIGINT NOT NULL,
  recorded_by     TEXT NOT NULL,
  PRIMARY KEY(staff_id, course, completed_at_ms)
);

CREATE TABLE approvals(
  approval_id     TEXT COLLATE "C" PRIMARY KEY,
  kind            TEXT NOT NULL,
  requester       TEXT COLLATE "C" NOT NULL,
  justification   TEXT NOT NULL,
  scope           TEXT NOT NULL,
  requested_at_ms BIGINT NOT NULL,
  expires_at_ms   BIGINT NOT NULL,
  approver        TEXT NOT NULL,
  decided_at_ms   BIGINT NOT NULL,
  state           TEXT NOT NULL
);
CREATE INDEX approvals_by_requester ON approvals(requester, requested_at_ms);


CREATE TABLE privacy_notices(
  version         BIGINT PRIMARY KEY,
  text_sha256     TEXT NOT NULL,
  text            TEXT NOT NULL,
  purposes        TEXT NOT NULL,
  effective_at_ms BIGINT NOT NULL,
  published_at_ms BIGINT NOT NULL,
  publisher       TEXT NOT NULL
);

CREATE TABLE consent_ledger(
  customer_id    TEXT COLLATE "C" NOT NULL,
  seq            BIGINT NOT NULL,
  action         TEXT NOT NULL,
  scope          TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  notice_version BIGINT NOT NULL,
  channel        TEXT NOT NULL,
  evidence_ref   TEXT NOT NULL,
  recorded_at_ms BIGINT NOT NULL,
  actor          TEXT NOT NULL,
  PRIMARY KEY(customer_id, seq)
);
CREATE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'consent_ledger is append-only';
END
$$;
CREATE TRIGGER consent_ledger_no_change BEFORE UPDATE OR DELETE ON consent_ledger
  FOR EACH ROW EXECUTE FUNCTION consent_ledger_append_only();


CREATE TABLE legal_holds(
  customer_id    TEXT COLLATE "C" NOT NULL,
  hold_id        TEXT COLLATE "C" NOT NULL,
  reason         TEXT NOT NULL,
  owner          TEXT NOT NULL,
  placed_by      TEXT NOT NULL,
  placed_at_ms   BIGINT NOT NULL,
  released_by    TEXT NOT NULL,
  released_at_ms BIGINT NOT NULL,
  PRIMARY KEY(customer_id, hold_id)
);
CREATE INDEX legal_holds_by_hold ON legal_holds(hold_id);

CREATE TABLE retention_plans(
  plan_id        TEXT COLLATE "C" PRIMARY KEY,
  content_sha256 TEXT NOT NULL,
  content        TEXT NOT NULL,
  created_by     TEXT NOT NULL,
  created_at_ms  BIGINT NOT NULL,
  state          TEXT NOT NULL,
  run_id         TEXT NOT NULL,
  updated_at_ms  BIGINT NOT NULL
);

CREATE TABLE destruction_log(
  seq     BIGINT PRIMARY KEY,
  ts_ms   BIGINT NOT NULL,
  run_id  TEXT COLLATE "C" NOT NULL,
  kind    TEXT NOT NULL,
  id_hash TEXT NOT NULL
);
CREATE INDEX destruction_log_by_run ON destruction_log(run_id, seq);

CREATE TABLE consent_erasures(
  customer_id TEXT COLLATE "C" PRIMARY KEY
);
CREATE OR REPLACE FUNCTION consent_ledger_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND EXISTS (SELECT 1 FROM consent_erasures e
                                  WHERE e.customer_id = OLD.customer_id) THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'consent_ledger is append-only';
END
$$;


CREATE TABLE account_closures(
  customer_id  TEXT COLLATE "C" PRIMARY KEY,
  closed_at_ms BIGINT NOT NULL,
  closed_by    TEXT NOT NULL,
  reason       TEXT NOT NULL
);

CREATE TABLE subject_requests(
  request_id   TEXT COLLATE "C" PRIMARY KEY,
  customer_id  TEXT COLLATE "C" NOT NULL,
  kind         TEXT NOT NULL,
  reference    TEXT NOT NULL,
  opened_by    TEXT NOT NULL,
  opened_at_ms BIGINT NOT NULL,
  due_at_ms    BIGINT NOT NULL,
  closed_by    TEXT NOT NULL,
  closed_at_ms BIGINT NOT NULL,
  outcome      TEXT NOT NULL
);
CREATE INDEX subject_requests_by_customer ON subject_requests(customer_id, closed_at_ms);

CREATE TABLE audit_tree(
  tree_size BIGINT NOT NULL,
  level     BIGINT NOT NULL,
  hash      BYTEA NOT NULL,
  PRIMARY KEY(tree_size, level)
);

CREATE TABLE subject_request_steps(
  request_id TEXT COLLATE "C" NOT NULL,
  step       TEXT COLLATE "C" NOT NULL,
  at_ms      BIGINT NOT NULL,
  actor      TEXT NOT NULL,
  method     TEXT NOT NULL,
  detail     TEXT NOT NULL,
  PRIMARY KEY(request_id, step)
);
CREATE TABLE restrictions(
  customer_id  TEXT COLLATE "C" NOT NULL,
  request_id   TEXT COLLATE "C" NOT NULL,
  rule         TEXT NOT NULL,
  placed_by    TEXT NOT NULL,
  placed_at_ms BIGINT NOT NULL,
  until_ms     BIGINT NOT NULL,
  PRIMARY KEY(customer_id, request_id)
);
CREATE TABLE subject_request_values(
  request_id  TEXT COLLATE "C" PRIMARY KEY,
  customer_id TEXT COLLATE "C" NOT NULL,
  sealed      BYTEA NOT NULL
);

-- migration 9 (issue 16): the register of de-identified releases
CREATE TABLE deid_releases(
  release_id     TEXT COLLATE "C" PRIMARY KEY,
  created_at_ms  BIGINT NOT NULL,
  actor          TEXT NOT NULL,
  purpose        TEXT NOT NULL,
  profile        TEXT NOT NULL,
  profile_sha256 TEXT NOT NULL,
  parameters     TEXT NOT NULL,
  figures        TEXT NOT NULL,
  row_count      BIGINT NOT NULL,
  file_sha256    TEXT NOT NULL,
  recipients     TEXT NOT NULL
);
-- migration 10 (issue 16): the privacy budget spent per profile and analyst
CREATE TABLE deid_budgets(
  profile       TEXT COLLATE "C" NOT NULL,
  actor         TEXT COLLATE "C" NOT NULL,
  epsilon_spent BIGINT NOT NULL,
  delta_spent   BIGINT NOT NULL,
  answers       BIGINT NOT NULL,
  updated_at_ms BIGINT NOT NULL,
  PRIMARY KEY(profile, actor)
);
-- migration 11 (issue 17): partners, data-sharing agreements and shares
CREATE TABLE partners(
  partner_id        TEXT COLLATE "C" PRIMARY KEY,
  name              TEXT NOT NULL,
  uscc              TEXT NOT NULL,
  category          TEXT NOT NULL,
  cert_pem          TEXT NOT NULL,
  cert_sha256       TEXT NOT NULL,
  cert_subject      TEXT NOT NULL,
  cert_not_after_ms BIGINT NOT NULL,
  added_by          TEXT NOT NULL,
  added_at_ms       BIGINT NOT NULL
);
CREATE TABLE share_agreements(
  agreement_id             TEXT COLLATE "C" PRIMARY KEY,
  partner_id               TEXT COLLATE "C" NOT NULL,
  document_sha256          TEXT NOT NULL,
  purposes                 TEXT NOT NULL,
  fields                   TEXT NOT NULL,
  profile                  TEXT NOT NULL,
  valid_until_ms           BIGINT NOT NULL,
  max_rows                 BIGINT NOT NULL,
  cross_border             TEXT NOT NULL,
  impact_assessment        TEXT NOT NULL,
  proposed_by              TEXT NOT NULL,
  proposed_at_ms           BIGINT NOT NULL,
  approval_id              TEXT NOT NULL,
  revoked_by               TEXT NOT NULL,
  revoked_at_ms            BIGINT NOT NULL,
  revoke_reason            TEXT NOT NULL,
  deletion_due_ms          BIGINT NOT NULL,
  deletion_sha256          TEXT NOT NULL,
  deletion_confirmed_by    TEXT NOT NULL,
  deletion_confirmed_at_ms BIGINT NOT NULL
);
CREATE INDEX share_agreements_by_partner ON share_agreements(partner_id);
CREATE TABLE shares(
  share_id      TEXT COLLATE "C" PRIMARY KEY,
  agreement_id  TEXT COLLATE "C" NOT NULL,
  partner_id    TEXT NOT NULL,
  created_by    TEXT NOT NULL,
  created_at_ms BIGINT NOT NULL,
  fields        TEXT NOT NULL,
  row_count     BIGINT NOT NULL,
  left_out      BIGINT NOT NULL,
  canary_count  BIGINT NOT NULL,
  file_sha256   TEXT NOT NULL,
  manifest      TEXT NOT NULL,
  approval_id   TEXT NOT NULL
);
CREATE INDEX shares_by_agreement ON shares(agreement_id, created_at_ms);
-- migration 12 (issue 20): security operations
CREATE TABLE ops_alerts(
  alert_id     TEXT COLLATE "C" PRIMARY KEY,
  raised_at_ms BIGINT NOT NULL,
  rule         TEXT COLLATE "C" NOT NULL,
  severity     TEXT NOT NULL,
  actor        TEXT NOT NULL,
  trigger_seq  BIGINT NOT NULL,
  evidence     TEXT NOT NULL,
  subject      TEXT NOT NULL,
  detail       TEXT NOT NULL,
  status       TEXT NOT NULL,
  incident_id  TEXT NOT NULL
);
CREATE INDEX ops_alerts_by_trigger ON ops_alerts(rule, trigger_seq);
CREATE TABLE honey_records(
  customer_id   TEXT COLLATE "C" PRIMARY KEY,
  created_at_ms BIGINT NOT NULL,
  created_by    TEXT NOT NULL
);
CREATE TABLE incidents(
  incident_id   TEXT COLLATE "C" PRIMARY KEY,
  opened_at_ms  BIGINT NOT NULL,
  opened_by     TEXT NOT NULL,
  title         TEXT NOT NULL,
  severity      TEXT NOT NULL,
  status        TEXT NOT NULL,
  subject_actor TEXT NOT NULL,
  alert_ids     TEXT NOT NULL,
  from_ms       BIGINT NOT NULL,
  to_ms         BIGINT NOT NULL,
  closed_by     TEXT NOT NULL,
  closed_at_ms  BIGINT NOT NULL
);
CREATE TABLE incident_steps(
  incident_id TEXT COLLATE "C" NOT NULL,
  step_no     BIGINT NOT NULL,
  at_ms       BIGINT NOT NULL,
  actor       TEXT NOT NULL,
  kind        TEXT NOT NULL,
  detail      TEXT NOT NULL,
  PRIMARY KEY(incident_id, step_no)
);
CREATE TABLE violations(
  violation_id   TEXT COLLATE "C" PRIMARY KEY,
  staff_id       TEXT COLLATE "C" NOT NULL,
  rule           TEXT NOT NULL,
  evidence       TEXT NOT NULL,
  incident_id    TEXT NOT NULL,
  handling       TEXT NOT NULL,
  status         TEXT NOT NULL,
  recorded_by    TEXT NOT NULL,
  recorded_at_ms BIGINT NOT NULL,
  closed_by      TEXT NOT NULL,
  closed_at_ms   BIGINT NOT NULL
);
CREATE INDEX violations_by_staff ON violations(staff_id, status);
CREATE TABLE staff_addresses(
  staff_id      TEXT COLLATE "C" NOT NULL,
  address       TEXT COLLATE "C" NOT NULL,
  first_seen_ms BIGINT NOT NULL,
  PRIMARY KEY(staff_id, address)
);
CREATE TABLE pias(
  pia_id         TEXT COLLATE "C" PRIMARY KEY,
  title          TEXT NOT NULL,
  scope          TEXT NOT NULL,
  risks          TEXT NOT NULL,
  measures       TEXT NOT NULL,
  author         TEXT NOT NULL,
  created_at_ms  BIGINT NOT NULL,
  approver       TEXT NOT NULL,
  approved_at_ms BIGINT NOT NULL,
  review_due_ms  BIGINT NOT NULL,
  keep_until_ms  BIGINT NOT NULL,
  state          TEXT NOT NULL
);
CREATE TABLE assessments(
  assessment_id    TEXT COLLATE "C" PRIMARY KEY,
  started_at_ms    BIGINT NOT NULL,
  started_by       TEXT NOT NULL,
  from_ms          BIGINT NOT NULL,
  to_ms            BIGINT NOT NULL,
  items            TEXT NOT NULL,
  signed_off_by    TEXT NOT NULL,
  signed_off_at_ms BIGINT NOT NULL,
  state            TEXT NOT NULL
);
CREATE TABLE policy_versions(
  kind           TEXT COLLATE "C" NOT NULL,
  version_no     BIGINT NOT NULL,
  sha256         TEXT NOT NULL,
  effective_ms   BIGINT NOT NULL,
  recorded_at_ms BIGINT NOT NULL,
  recorded_by    TEXT NOT NULL,
  source         TEXT NOT NULL,
  content        TEXT NOT NULL,
  PRIMARY KEY(kind, version_no)
);
CREATE TABLE partner_certificates(
  partner_id        TEXT COLLATE "C" NOT NULL,
  cert_sha256       TEXT COLLATE "C" NOT NULL,
  cert_subject      TEXT NOT NULL,
  cert_not_after_ms BIGINT NOT NULL,
  cert_pem          TEXT NOT NULL,
  in_use_from_ms    BIGINT NOT NULL,
  replaced_by       TEXT NOT NULL,
  replaced_at_ms    BIGINT NOT NULL,
  PRIMARY KEY(partner_id, cert_sha256)
);
CREATE TABLE notice_shares(
  notice_version BIGINT NOT NULL,
  target         TEXT COLLATE "C" NOT NULL,
  PRIMARY KEY(notice_version, target)
);
CREATE TABLE audit_keys_state(
  id          BIGINT PRIMARY KEY,
  indexed_seq BIGINT NOT NULL
);
CREATE TABLE audit_time_spans(
  first_seq BIGINT PRIMARY KEY,
  last_seq  BIGINT NOT NULL,
  min_ts_ms BIGINT NOT NULL,
  max_ts_ms BIGINT NOT NULL
);
CREATE TABLE audit_key_spans(
  col       BIGINT NOT NULL,
  key       TEXT COLLATE "C" NOT NULL,
  first_seq BIGINT NOT NULL,
  last_seq  BIGINT NOT NULL,
  PRIMARY KEY(col, key, first_seq)
);
CREATE TABLE consent_kept(
  customer_id     TEXT COLLATE "C" PRIMARY KEY,
  destroyed_at_ms BIGINT NOT NULL,
  run_id          TEXT NOT NULL,
  request_id      TEXT NOT NULL
);
CREATE TABLE deid_release_classes(
  release_id TEXT COLLATE "C" PRIMARY KEY,
  profile    TEXT COLLATE "C" NOT NULL,
  levels     TEXT COLLATE "C" NOT NULL,
  counts     TEXT NOT NULL
);
CREATE INDEX deid_release_classes_by_profile ON deid_release_classes(profile, levels);
