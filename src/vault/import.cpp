// Bulk import of customers from CSV (P3.1b: the import is the source of each record).
// Constant memory, batches committed with their progress, resumable after a kill; a worker
// seals the next batch while this thread commits the current one (docs/import.md). Runs of
// one file in several processes at once take turns on the file's progress row: each batch
// re-reads it, locked, in its own transaction and writes only lines nobody committed yet.
#include <botan/hash.h>
#include <fmt/format.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "vault/admission.h"
#include "vault/authorize.h"
#include "vault/consent_intake.h"
#include "vault/csv_reader.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;

Result<std::string> FileSha256(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(fmt::format("cannot open {}", path.string()));
  auto hash = Botan::HashFunction::create_or_throw("SHA-256");
  std::vector<char> buf(1 << 16);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    hash->update(reinterpret_cast<const uint8_t*>(buf.data()), static_cast<size_t>(in.gcount()));
  }
  if (in.bad()) return Unavailable(fmt::format("cannot read {}", path.string()));
  const Botan::secure_vector<uint8_t> digest = hash->final();
  return crypto::ToHex(crypto::ByteView(digest.data(), digest.size()));
}

// One CSV data row on its way into the vault: read, validated and sealed by the worker,
// written by the committing thread (CommitBatch), which only binds what is here.
struct Pending {
  int64_t line = 0;       // physical line in the file (for messages)
  int64_t data_line = 0;  // records after the header: what the progress row counts
  Status status;          // not OK: the row is rejected (the rule it broke)
  store::CustomerRow row;
  store::WrappedKeyRow key;
  std::vector<store::IndexEntry> index;
  std::vector<store::ConsentRow> consents;  // the consent given at collection (P3.1a)
  audit::AuditEvent event;                  // customer.create, or import.reject_row
  bool flagged = false;                     // the event carries an intake flag
};

// Consecutive rows committed in one transaction, and the data line the batch ends on (the
// progress row's committed_lines once it is committed).
struct PendingBatch {
  std::vector<Pending> rows;
  int64_t first_data_line = 0;
  int64_t last_data_line = 0;
  // Data lines the worker passed over because a run had committed them already (counted
  // into done_by_other_runs when the batch is taken).
  int64_t skipped = 0;
  // The file ends after this batch: at its end (OK), or at malformed CSV (the error, which
  // refuses the rest of the file once the batch is committed).
  bool last = false;
  Status end;
};

}  // namespace

namespace {

// Maps the header to catalogue fields. InvalidArgument naming line 1 and the column.
Result<std::vector<std::string>> MapHeader(const schema::Config& config, const CsvRecord& header) {
  std::vector<std::string> columns;
  for (const std::string& raw : header.fields) {
    std::string name = raw;
    while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.pop_back();
    if (config.FindField(name) == nullptr) {
      return InvalidArgument(
          fmt::format("line {}: column '{}' is not a field of the catalogue (custos.toml)",
                      header.line, name.size() > 64 ? name.substr(0, 64) + "..." : name));
    }
    if (std::find(columns.begin(), columns.end(), name) != columns.end()) {
      return InvalidArgument(fmt::format("line {}: column '{}' appears twice", header.line, name));
    }
    columns.push_back(std::move(name));
  }
  for (const schema::FieldDef& def : config.fields) {
    if (def.required && std::find(columns.begin(), columns.end(), def.name) == columns.end()) {
      return InvalidArgument(
          fmt::format("line {}: required column '{}' is missing", header.line, def.name));
    }
  }
  return columns;
}

Result<FieldValues> RowValues(const std::vector<std::string>& columns, const CsvRecord& rec) {
  if (rec.fields.size() != columns.size()) {
    return InvalidArgument(
        fmt::format("has {} fields, the header has {}", rec.fields.size(), columns.size()));
  }
  FieldValues values;
  for (size_t i = 0; i < columns.size(); ++i) values.emplace(columns[i], rec.fields[i]);
  return values;
}

// PermissionDenied naming the first column the actor may not import (or that the consent the
// file's customers gave does not cover for this purpose), OK otherwise (also when
// the header cannot be read: the import pass reports that with its line).
Status CheckImportColumns(VaultState& m, store::Transaction& txn, const Context& ctx,
                          const std::filesystem::path& file, const ImportOptions& options) {
  auto reader = CsvReader::Open(file);
  if (!reader.ok()) return Status::Ok();
  auto header = (*reader)->Next();
  if (!header.ok() || !header->has_value()) return Status::Ok();
  auto columns = MapHeader(*m.config, **header);
  if (!columns.ok()) return Status::Ok();
  const int64_t now = m.Now();
  CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts staff, LoadStaffFacts(txn, ctx.actor, "", now));
  const consent::ConsentState given = CollectionState(
      options.consent_purposes, options.sensitive_consent, options.third_party_consent);
  const std::vector<FieldDecision> decided = DecideFields(
      *m.config, staff, access::DataRequest{"customer.import", ctx.purpose, &given, now}, *columns);
  if (const FieldDecision* d = FirstDenied(decided)) {
    return PermissionDenied(fmt::format("column '{}': {}", d->field->name, d->decision.reason));
  }
  return Status::Ok();
}

// One run of ImportCsv: what its steps share.
struct ImportRun {
  ImportRun(VaultState& m_in, const Context& ctx_in, const std::filesystem::path& file_in,
            const ImportOptions& options_in)
      : m(m_in), ctx(ctx_in), file(file_in), options(options_in) {}

  VaultState& m;
  Context ctx;  // as admission recorded it
  const std::filesystem::path& file;
  const ImportOptions& options;
  ImportReport report;
  // The progress row as this run last read or wrote it (committed_lines only grows). Touched
  // by this thread only; the sealing worker reads import_id below.
  store::ImportRow progress;
  std::string import_id;  // set by StartImport, then constant
  consent::Collection collection;
  std::string target;                 // "import:<import_id>"
  std::unique_ptr<CsvReader> reader;  // read by the worker during the import pass
  std::vector<std::string> columns;
  // progress.committed_lines as last committed, for the worker reading ahead: lines up to it
  // need no sealing. Only a hint: CommitBatch decides under the lock what is written.
  std::atomic<int64_t> committed_hint{0};

  // Records an "import.reject" refusal and returns `why` (Unavailable if it cannot be recorded).
  Status Reject(const Status& why) {
    return RecordRefusal(m, ctx, Operation{Action::kImportReject, target}, why);
  }
  void CountError(int64_t line, const Status& st) {
    ++report.rejected;
    if (report.errors.size() < options.max_reported_errors) {
      report.errors.push_back(RowError{line, st.message()});
    }
  }
};

// The checks of "import.start" inside its transaction, before anything is imported: P3.1a,
// every imported customer needs the consent given at collection (checked once for the whole
// file; each row's entries name its line as evidence), and P3.2b, every column of the file
// needs customer.import on its level for this purpose. Sets `refusal` when refused; fails
// with the store's error.
Status CheckImportStart(ImportRun& r, Scope& s, Status& refusal) {
  CollectionConsent given;
  given.notice_version = r.options.notice_version;
  given.purposes = r.options.consent_purposes;
  given.sensitive = r.options.sensitive_consent;
  given.third_party = r.options.third_party_consent;
  given.shares = r.options.share_consents;
  r.collection = ToCollection(given, "import", "import:check:1");
  refusal = CheckCollectionIn(s.txn, *r.m.config, r.collection, r.m.Now());
  if (!refusal.ok()) return refusal.code() == Code::kInvalidArgument ? Status::Ok() : refusal;
  refusal = CheckImportColumns(r.m, s.txn, s.ctx, r.file, r.options);
  if (!refusal.ok()) return refusal.code() == Code::kPermissionDenied ? Status::Ok() : refusal;
  return Status::Ok();
}

// Step 1, "import.start" (or "import.resume"): admission, the checks, and the progress row,
// committed with the entry. Sets r.report.already_complete when the file was imported before.
Status StartImport(ImportRun& r) {
  Result<std::string> sha = FileSha256(r.file);
  const Operation op{Action::kImportStart, "import:file"};
  return Write(r.m, r.ctx, op, [&](Scope& s) -> Result<Verdict> {
    r.ctx = s.ctx;
    if (!sha.ok()) return Verdict::Deny(sha.status());
    r.report.file_sha256 = *sha;
    // Locked until this transaction commits: concurrent first runs of one file take turns, and
    // the later ones find the row the first wrote (one import id per file).
    CUSTOS_ASSIGN_OR_RETURN(auto existing, s.txn.LockImportByFile(*sha));
    if (existing.has_value() && existing->state == "done") {
      r.report.import_id = existing->import_id;
      r.report.already_complete = true;
      Verdict v =
          Verdict::Allow(fmt::format("file sha256 {} was already imported; nothing to do", *sha));
      v.target = "import:" + existing->import_id;
      return v;
    }
    Status refusal;
    CUSTOS_RETURN_IF_ERROR(CheckImportStart(r, s, refusal));
    if (!refusal.ok()) return Verdict::Deny(refusal);
    const std::string mode = r.options.on_error == OnError::kSkip ? "skip" : "reject-file";
    if (existing.has_value()) {
      r.progress = *existing;
      r.report.skipped_already_done = r.progress.committed_lines;
    } else {
      r.progress.import_id = NewId(r.m.Now());
      r.progress.file_sha256 = *sha;
      r.progress.actor = s.ctx.actor;
      r.progress.started_at_ms = r.m.Now();
      r.progress.state = "running";
    }
    r.progress.updated_at_ms = r.m.Now();
    r.report.import_id = r.progress.import_id;
    r.import_id = r.progress.import_id;
    r.target = "import:" + r.progress.import_id;
    CUSTOS_RETURN_IF_ERROR(s.txn.PutImport(r.progress));
    return Verdict::Entries({s.Event(
        existing.has_value() ? Action::kImportResume : Action::kImportStart, r.target, "allow",
        fmt::format("file sha256 {}, on-error {}, {} line(s) already committed; {}", *sha, mode,
                    r.progress.committed_lines, DescribeCollection(r.collection)))});
  });
}

// Opens the file and maps its header (r.reader, r.columns).
Status OpenRows(ImportRun& r) {
  CUSTOS_ASSIGN_OR_RETURN(r.reader, CsvReader::Open(r.file));
  CUSTOS_ASSIGN_OR_RETURN(auto header, r.reader->Next());
  if (!header.has_value()) {
    return InvalidArgument("line 1: the file is empty (a header is required)");
  }
  CUSTOS_ASSIGN_OR_RETURN(r.columns, MapHeader(*r.m.config, *header));
  return Status::Ok();
}

// The validation pass of reject-file mode: every row is checked before any is imported.
// Returns whether the import may go on (false: refused and recorded, the report says why);
// an error when the file cannot be read or the refusal cannot be recorded.
Result<bool> ValidateAll(ImportRun& r) {
  while (true) {
    auto rec = r.reader->Next();
    if (!rec.ok()) return r.Reject(rec.status());
    if (!rec->has_value()) break;
    Result<FieldValues> values = RowValues(r.columns, **rec);
    Status st = values.status();
    if (st.ok()) st = r.m.NormalizeCustomerFields(*values, true).status();
    if (!st.ok()) r.CountError((*rec)->line, st);
  }
  if (r.report.rejected > 0) {
    Status refused = r.Reject(InvalidArgument(
        fmt::format("{} bad row(s); nothing imported (on-error reject-file)", r.report.rejected)));
    if (refused.code() == Code::kUnavailable) return refused;
    return false;
  }
  CUSTOS_RETURN_IF_ERROR(OpenRows(r));
  return true;
}

// The sealing part of Prepare for a valid row whose customer id is set.
Status SealRow(const ImportRun& r, const FieldValues& norm, Pending& p) {
  VaultState& m = r.m;
  const int64_t now = m.Now();
  p.row.created_at_ms = now;
  p.row.updated_at_ms = now;
  p.row.source = fmt::format("import:{}:{}", r.import_id, p.line);
  p.row.schema_version = m.config->schema_version;
  const crypto::SecretBytes dek = m.keyring->NewDek();
  CUSTOS_ASSIGN_OR_RETURN(VaultState::Sealed sealed, m.SealCustomer(p.row.customer_id, dek, norm));
  p.row.envelopes = std::move(sealed.envelopes);
  p.index = std::move(sealed.index);
  CUSTOS_ASSIGN_OR_RETURN(p.key, m.WrapDek(p.row.customer_id, dek));
  return Status::Ok();
}

// Seals one row: validation, DEK, envelopes, index tokens, wrapped DEK, its consent-ledger
// entries and its audit event. Runs on the worker thread. `raw` is the row's shape-checked
// cells, `collection` the file's consent (its evidence_ref is set per row here).
void Prepare(const ImportRun& r, Result<FieldValues> raw, consent::Collection& collection,
             Pending& p) {
  VaultState& m = r.m;
  Result<FieldValues> norm =
      raw.ok() ? m.NormalizeCustomerFields(*raw, /*is_create=*/true) : raw.status();
  if (norm.ok()) {
    p.row.customer_id = NewId(m.Now());
    p.status = SealRow(r, *norm, p);
  } else {
    p.status = norm.status();
  }
  if (!p.status.ok()) {
    p.event = m.Event(r.ctx, "import.reject_row", r.target, "deny",
                      fmt::format("line {}: {}", p.line, p.status.message()),
                      raw.ok() ? FieldNames(*raw) : std::vector<std::string>{});
    return;
  }
  const std::string flags = IntakeFlags(*m.config, *norm);
  p.flagged = !flags.empty();
  collection.evidence_ref = p.row.source;  // "import:<import_id>:<line>"
  p.consents =
      consent::CollectionEntries(p.row.customer_id, collection, r.ctx.actor, p.row.created_at_ms);
  p.event =
      m.Event(r.ctx, "customer.create", CustomerTarget(p.row.customer_id), "allow",
              fmt::format("import {} line {}{}", r.import_id, p.line, flags), FieldNames(*norm));
}

// The worker's step: reads the next batch of rows from the file (after `data_line`, the
// records read so far, which it advances) and seals each. Lines a run has committed already
// (committed_hint) are passed over unsealed. Malformed CSV ends the batch and the file.
PendingBatch ReadBatch(ImportRun& r, int64_t& data_line) {
  PendingBatch batch;
  batch.rows.reserve(r.options.batch_size);
  consent::Collection collection = r.collection;
  while (batch.rows.size() < r.options.batch_size) {
    auto rec = r.reader->Next();
    if (!rec.ok() || !rec->has_value()) {
      batch.last = true;
      batch.end = rec.status();
      break;
    }
    ++data_line;
    if (data_line <= r.committed_hint.load(std::memory_order_relaxed)) {
      ++batch.skipped;  // committed by an earlier (killed) run, or a run beside this one
      continue;
    }
    if (batch.rows.empty()) batch.first_data_line = data_line;
    batch.last_data_line = data_line;
    Pending& p = batch.rows.emplace_back();
    p.line = (*rec)->line;
    p.data_line = data_line;
    Prepare(r, RowValues(r.columns, **rec), collection, p);
  }
  return batch;
}

// The rows of `batch` not yet committed by any run of this file, written with their audit
// entries, consent and keys, and the progress row (committed_lines becomes the batch's last
// line), all in one transaction. The progress row is re-read under LockImportByFile first: rows
// another run committed meanwhile are left out (counted in done_by_other_runs), so concurrent
// runs never write a line twice. Unavailable when the batch cannot be committed. Moves the
// batch's audit events out.
Status CommitBatch(ImportRun& r, PendingBatch& batch) {
  VaultState& m = r.m;
  CUSTOS_ASSIGN_OR_RETURN(auto btxn, m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::ImportRow> current,
                          btxn->LockImportByFile(r.report.file_sha256));
  if (!current.has_value() || current->import_id != r.import_id) {
    return FailedPrecondition(fmt::format("import {}: its progress row is gone", r.import_id));
  }
  const int64_t done = current->committed_lines;
  if (done < batch.first_data_line - 1) {
    return Internal(fmt::format("import {}: progress went back to line {}", r.import_id, done));
  }
  store::ImportRow progress = *std::move(current);
  if (done >= batch.last_data_line) {  // another run committed all of it: nothing to write
    r.report.done_by_other_runs += static_cast<int64_t>(batch.rows.size());
    r.progress = std::move(progress);
    r.committed_hint.store(r.progress.committed_lines, std::memory_order_relaxed);
    if (r.options.progress) r.options.progress(batch.last_data_line);
    return Status::Ok();  // the transaction rolls back: it wrote nothing
  }
  // Later batches wrap under an epoch a rotation made current meanwhile; keys of this one
  // wrapped under the older epoch are picked up by the rotation's last pass (and an epoch a
  // key still names is never destroyed).
  CUSTOS_RETURN_IF_ERROR(m.FollowWrapEpoch(*btxn));
  int64_t imported = 0;
  int64_t rejected = 0;
  int64_t by_others = 0;
  int64_t flagged = 0;
  // The batch's entries, appended together (one signed tip for the batch) before the commit.
  std::vector<audit::AuditEvent> entries;
  entries.reserve(batch.rows.size());
  for (Pending& p : batch.rows) {
    if (p.data_line <= done) {  // committed by another run meanwhile
      ++by_others;
      continue;
    }
    if (!p.status.ok()) {
      ++rejected;
      entries.push_back(std::move(p.event));
      continue;
    }
    CUSTOS_RETURN_IF_ERROR(btxn->InsertCustomer(p.row));
    CUSTOS_RETURN_IF_ERROR(btxn->PutWrappedKey(p.key));
    CUSTOS_RETURN_IF_ERROR(btxn->StageIndexEntries(p.row.customer_id, p.index));
    for (const store::ConsentRow& c : p.consents) CUSTOS_RETURN_IF_ERROR(btxn->AppendConsent(c));
    entries.push_back(std::move(p.event));
    ++imported;
    if (p.flagged) ++flagged;
  }
  CUSTOS_RETURN_IF_ERROR(m.audit->AppendAll(*btxn, entries));
  progress.committed_lines = batch.last_data_line;
  progress.imported += imported;
  progress.rejected += rejected;
  progress.updated_at_ms = m.Now();
  CUSTOS_RETURN_IF_ERROR(btxn->PutImport(progress));
  Status st = btxn->Commit();
  if (!st.ok()) return Unavailable("import batch could not be committed: " + st.message());
  r.progress = std::move(progress);
  r.committed_hint.store(r.progress.committed_lines, std::memory_order_relaxed);
  r.report.imported += imported;
  r.report.flagged += flagged;
  r.report.done_by_other_runs += by_others;
  for (const Pending& p : batch.rows) {
    if (p.data_line > done && !p.status.ok()) r.CountError(p.line, p.status);
  }
  if (r.options.progress) r.options.progress(batch.last_data_line);
  return Status::Ok();
}

// Two stages on the two cores: while this thread commits batch n, a worker reads batch n+1
// from the file, validates and seals it (ReadBatch). Batches are still committed one by one
// and in file order, each with its progress row, so a killed import resumes exactly as
// before. The worker touches the reader only between Start and Take; this thread only when
// no worker runs.
class Pipeline {
 public:
  explicit Pipeline(ImportRun& r) : r_(r) {}
  Pipeline(const Pipeline&) = delete;
  Pipeline& operator=(const Pipeline&) = delete;

  // Starts the worker on the next batch; `retired` (committed) is freed on the worker too.
  void Start(PendingBatch retired) {
    worker_ = std::jthread([this, old = std::move(retired)]() mutable {
      old = PendingBatch{};
      next_ = ReadBatch(r_, data_line_);
    });
  }
  // Waits for the worker and returns the batch it read and sealed.
  PendingBatch Take() {
    worker_.join();
    return std::move(next_);
  }

 private:
  ImportRun& r_;
  int64_t data_line_ = 0;  // records after the header read so far (the worker's)
  PendingBatch next_;
  std::jthread worker_;  // declared last: joined before what it writes goes
};

// Step 2: every row after those committed by an earlier, killed run, in batches.
Status ImportRows(ImportRun& r) {
  r.committed_hint.store(r.progress.committed_lines, std::memory_order_relaxed);
  Pipeline pipeline(r);
  pipeline.Start(PendingBatch{});
  PendingBatch retired;  // the batch committed last, freed by the next worker
  while (true) {
    PendingBatch batch = pipeline.Take();
    r.report.done_by_other_runs += batch.skipped;
    if (!batch.last) pipeline.Start(std::move(retired));
    if (!batch.rows.empty()) {
      // On failure the worker's batch is dropped unwritten (the pipeline joins it).
      CUSTOS_RETURN_IF_ERROR(CommitBatch(r, batch));
    }
    if (batch.last) {
      // Malformed CSV: what was committed stays; the rest is refused (the file must be fixed,
      // and a fixed file is a new import).
      if (!batch.end.ok()) return r.Reject(batch.end);
      return Status::Ok();
    }
    retired = std::move(batch);
  }
}

// Step 3: the progress row marked done (re-read under its lock: other runs of the file may
// have committed lines meanwhile), committed with "import.finish", which gives this run's
// counts and the file's.
Status FinishImport(ImportRun& r) {
  CUSTOS_RETURN_IF_ERROR(r.m.store->MergeStagedIndex());
  CUSTOS_ASSIGN_OR_RETURN(auto done, r.m.store->Begin());
  CUSTOS_ASSIGN_OR_RETURN(std::optional<store::ImportRow> current,
                          done->LockImportByFile(r.report.file_sha256));
  if (!current.has_value() || current->import_id != r.import_id) {
    return FailedPrecondition(fmt::format("import {}: its progress row is gone", r.import_id));
  }
  r.progress = *std::move(current);
  r.progress.state = "done";
  r.progress.updated_at_ms = r.m.Now();
  CUSTOS_RETURN_IF_ERROR(done->PutImport(r.progress));
  return CommitOutcome(
      r.m, *done, r.ctx, Operation{Action::kImportFinish, r.target},
      Verdict::Allow(fmt::format(
          "this run: {} imported, {} rejected, {} line(s) handled by other runs; {} imported, "
          "{} rejected in all",
          r.report.imported, r.report.rejected, r.report.done_by_other_runs, r.progress.imported,
          r.progress.rejected)));
}

}  // namespace

Result<ImportReport> CustomerService::ImportCsv(const Context& ctx,
                                                const std::filesystem::path& file,
                                                const ImportOptions& options) {
  ImportRun r(*state_, ctx, file, options);
  CUSTOS_RETURN_IF_ERROR(StartImport(r));
  if (r.report.already_complete) return std::move(r.report);
  // The header, then (reject-file mode) a validation pass, then the import pass.
  if (Status opened = OpenRows(r); !opened.ok()) return r.Reject(opened);
  if (options.on_error == OnError::kRejectFile && r.progress.committed_lines == 0) {
    CUSTOS_ASSIGN_OR_RETURN(bool valid, ValidateAll(r));
    if (!valid) return std::move(r.report);
  }
  CUSTOS_RETURN_IF_ERROR(ImportRows(r));
  CUSTOS_RETURN_IF_ERROR(FinishImport(r));
  return std::move(r.report);
}

}  // namespace custos::vault
