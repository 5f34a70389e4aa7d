// Bulk import of customers from CSV (P3.1b: the import is the source of each record).
// Constant memory, batches committed with their progress, resumable after a kill; a worker
// seals the next batch while this thread commits the current one (docs/import.md).
#include <botan/hash.h>
#include <fmt/format.h>

#include <fstream>
#include <thread>

#include "vault/authorize.h"
#include "vault/consent_intake.h"
#include "vault/csv_reader.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

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

// One CSV data row on its way into the vault.
struct Pending {
  int64_t line = 0;
  FieldValues raw;
  // Filled by Prepare:
  Status status;
  store::CustomerRow row;
  store::WrappedKeyRow key;
  std::vector<store::IndexEntry> index;
  std::vector<std::string> names;
};

// Consecutive rows committed in one transaction, and the data line the batch ends on (the
// progress row's committed_lines once it is committed).
struct PendingBatch {
  std::vector<Pending> rows;
  int64_t last_data_line = 0;
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

}  // namespace

Result<ImportReport> CustomerService::ImportCsv(const Context& ctx,
                                                const std::filesystem::path& file,
                                                const ImportOptions& options) {
  VaultState& m = *state_;
  ImportReport report;
  Result<std::string> sha = FileSha256(file);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, m.BeginAuthorized(ctx, "import.start", "import:file"));
  if (!sha.ok()) return m.DenyAndCommit(*txn, ctx, "import.start", "import:file", sha.status());
  report.file_sha256 = *sha;
  CUSTOS_ASSIGN_OR_RETURN(auto existing, txn->GetImportByFile(*sha));
  store::ImportRow progress;
  if (existing.has_value() && existing->state == "done") {
    report.import_id = existing->import_id;
    report.already_complete = true;
    CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
        *txn, m.Event(ctx, "import.start", "import:" + existing->import_id, "allow",
                      fmt::format("file sha256 {} was already imported; nothing to do", *sha))));
    return report;
  }
  // P3.1a: every imported customer needs the consent given at collection. Checked once for
  // the whole file, before anything is imported; each row's entries name its line as evidence.
  CollectionConsent given;
  given.notice_version = options.notice_version;
  given.purposes = options.consent_purposes;
  given.sensitive = options.sensitive_consent;
  given.third_party = options.third_party_consent;
  consent::Collection collection = ToCollection(given, "import", "import:check:1");
  if (Status bad = CheckCollectionIn(*txn, *m.config, collection, m.Now()); !bad.ok()) {
    if (bad.code() != Code::kInvalidArgument) return bad;
    return m.DenyAndCommit(*txn, ctx, "import.start", "import:file", bad);
  }
  // P3.2b: every column of the file needs customer.import on its level for this purpose.
  if (Status denied = CheckImportColumns(m, *txn, ctx, file, options); !denied.ok()) {
    if (denied.code() != Code::kPermissionDenied) return denied;
    return m.DenyAndCommit(*txn, ctx, "import.start", "import:file", denied);
  }
  const std::string mode = options.on_error == OnError::kSkip ? "skip" : "reject-file";
  if (existing.has_value()) {
    progress = *existing;
    report.skipped_already_done = progress.committed_lines;
  } else {
    progress.import_id = NewId(m.Now());
    progress.file_sha256 = *sha;
    progress.actor = ctx.actor;
    progress.started_at_ms = m.Now();
    progress.state = "running";
  }
  progress.updated_at_ms = m.Now();
  report.import_id = progress.import_id;
  const std::string target = "import:" + progress.import_id;
  CUSTOS_RETURN_IF_ERROR(txn->PutImport(progress));
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *txn,
      m.Event(ctx, existing.has_value() ? "import.resume" : "import.start", target, "allow",
              fmt::format("file sha256 {}, on-error {}, {} line(s) already committed; {}", *sha,
                          mode, progress.committed_lines, DescribeCollection(collection)))));

  // The header, then (reject-file mode) a validation pass, then the import pass.
  auto open_rows =
      [&]() -> Result<std::pair<std::unique_ptr<CsvReader>, std::vector<std::string>>> {
    CUSTOS_ASSIGN_OR_RETURN(auto reader, CsvReader::Open(file));
    CUSTOS_ASSIGN_OR_RETURN(auto header, reader->Next());
    if (!header.has_value())
      return InvalidArgument("line 1: the file is empty (a header is required)");
    CUSTOS_ASSIGN_OR_RETURN(auto columns, MapHeader(*m.config, *header));
    return std::make_pair(std::move(reader), std::move(columns));
  };
  auto opened = open_rows();
  if (!opened.ok()) return m.Refuse(ctx, "import.reject", target, opened.status());
  auto& [reader, columns] = *opened;

  auto record_error = [&](int64_t line, const Status& st) {
    ++report.rejected;
    if (report.errors.size() < options.max_reported_errors) {
      report.errors.push_back(RowError{line, st.message()});
    }
  };

  if (options.on_error == OnError::kRejectFile && progress.committed_lines == 0) {
    while (true) {
      auto rec = reader->Next();
      if (!rec.ok()) return m.Refuse(ctx, "import.reject", target, rec.status());
      if (!rec->has_value()) break;
      Result<FieldValues> values = RowValues(columns, **rec);
      Status st = values.status();
      if (st.ok()) st = m.NormalizeCustomerFields(*values, true).status();
      if (!st.ok()) record_error((*rec)->line, st);
    }
    if (report.rejected > 0) {
      Status refused =
          m.Refuse(ctx, "import.reject", target,
                   InvalidArgument(fmt::format(
                       "{} bad row(s); nothing imported (on-error reject-file)", report.rejected)));
      if (refused.code() == Code::kUnavailable) return refused;
      return report;
    }
    auto reopened = open_rows();
    if (!reopened.ok()) return reopened.status();
    reader = std::move(reopened->first);
  }

  // Seals one row: validation, DEK, envelopes, index tokens. Runs on worker threads.
  auto prepare = [&](Pending& p) {
    if (!p.status.ok()) return;  // the row's shape was already wrong
    Result<FieldValues> norm = m.NormalizeCustomerFields(p.raw, /*is_create=*/true);
    if (!norm.ok()) {
      p.status = norm.status();
      return;
    }
    const int64_t now = m.Now();
    p.row.customer_id = NewId(now);
    p.row.created_at_ms = now;
    p.row.updated_at_ms = now;
    p.row.source = fmt::format("import:{}:{}", progress.import_id, p.line);
    p.row.schema_version = m.config->schema_version;
    const crypto::SecretBytes dek = m.keyring->NewDek();
    Result<VaultState::Sealed> sealed = m.SealCustomer(p.row.customer_id, dek, *norm);
    if (!sealed.ok()) {
      p.status = sealed.status();
      return;
    }
    p.row.envelopes = std::move(sealed->envelopes);
    p.index = std::move(sealed->index);
    p.key.customer_id = p.row.customer_id;
    Result<crypto::Bytes> wrapped = m.keyring->WrapDek(p.row.customer_id, dek);
    Result<uint32_t> version =
        wrapped.ok() ? crypto::WrappedKeyKekVersion(*wrapped) : Result<uint32_t>(wrapped.status());
    if (!version.ok()) {
      p.status = version.status();
      return;
    }
    p.key.kek_version = *version;
    p.key.wrapped_dek = std::move(wrapped).value();
    p.names = FieldNames(*norm);
  };

  int64_t data_line = 0;  // records after the header
  // Commits one sealed batch with the progress row: committed_lines becomes its last line.
  auto commit_batch = [&](PendingBatch& batch) -> Status {
    CUSTOS_ASSIGN_OR_RETURN(auto btxn, m.store->Begin());
    // Later batches wrap under a KEK version a rotation activated meanwhile; keys of this one
    // wrapped under the older version are picked up by the rotation's last pass.
    CUSTOS_RETURN_IF_ERROR(m.FollowKekVersion(*btxn));
    int64_t imported = 0;
    for (Pending& p : batch.rows) {
      if (!p.status.ok()) {
        record_error(p.line, p.status);
        CUSTOS_RETURN_IF_ERROR(m.audit->Append(
            *btxn,
            m.Event(ctx, "import.reject_row", target, "deny",
                    fmt::format("line {}: {}", p.line, p.status.message()), FieldNames(p.raw))));
        continue;
      }
      CUSTOS_RETURN_IF_ERROR(btxn->InsertCustomer(p.row));
      CUSTOS_RETURN_IF_ERROR(btxn->PutWrappedKey(p.key));
      CUSTOS_RETURN_IF_ERROR(btxn->StageIndexEntries(p.row.customer_id, p.index));
      collection.evidence_ref = p.row.source;  // "import:<import_id>:<line>"
      CUSTOS_RETURN_IF_ERROR(
          AppendCollection(*btxn, p.row.customer_id, collection, ctx.actor, p.row.created_at_ms));
      CUSTOS_RETURN_IF_ERROR(m.audit->Append(
          *btxn, m.Event(ctx, "customer.create", CustomerTarget(p.row.customer_id), "allow",
                         fmt::format("import {} line {}", progress.import_id, p.line), p.names)));
      ++imported;
    }
    progress.committed_lines = batch.last_data_line;
    progress.imported += imported;
    progress.rejected = progress.rejected + static_cast<int64_t>(batch.rows.size()) - imported;
    progress.updated_at_ms = m.Now();
    CUSTOS_RETURN_IF_ERROR(btxn->PutImport(progress));
    Status st = btxn->Commit();
    if (!st.ok()) return Unavailable("import batch could not be committed: " + st.message());
    report.imported += imported;
    if (options.progress) options.progress(batch.last_data_line);
    return Status::Ok();
  };

  // Two stages on the two cores: while this thread commits batch n, a worker validates and
  // seals batch n+1. Batches are still committed one by one and in file order, each with its
  // progress row, so a killed import resumes exactly as before. Declared before the worker,
  // so that the worker (joined on destruction, also on an early return) never outlives it.
  PendingBatch sealing;
  PendingBatch retired;  // committed; freed by the next worker rather than by the writer
  std::jthread sealer;
  // Hands `next` to the worker and commits the batch it sealed before, if any.
  auto advance = [&](PendingBatch next) -> Status {
    if (sealer.joinable()) sealer.join();
    PendingBatch sealed = std::move(sealing);
    sealing = std::move(next);
    if (!sealing.rows.empty()) {
      sealer = std::jthread([&, old = std::move(retired)]() mutable {
        old.rows.clear();
        for (Pending& p : sealing.rows) prepare(p);
      });
    }
    if (sealed.rows.empty()) return Status::Ok();
    Status st = commit_batch(sealed);
    retired = std::move(sealed);
    return st;
  };
  // Seals and commits everything handed over so far.
  auto drain = [&](PendingBatch last) -> Status {
    CUSTOS_RETURN_IF_ERROR(advance(std::move(last)));
    return advance(PendingBatch{});
  };

  PendingBatch batch;
  batch.rows.reserve(options.batch_size);
  while (true) {
    auto rec = reader->Next();
    if (!rec.ok()) {
      // Malformed CSV: what was committed stays; the rest is refused (the file must be fixed,
      // and a fixed file is a new import).
      CUSTOS_RETURN_IF_ERROR(drain(std::move(batch)));
      return m.Refuse(ctx, "import.reject", target, rec.status());
    }
    if (!rec->has_value()) break;
    ++data_line;
    if (data_line <= progress.committed_lines) continue;  // done by an earlier, killed run
    Pending p;
    p.line = (*rec)->line;
    Result<FieldValues> values = RowValues(columns, **rec);
    if (values.ok()) {
      p.raw = std::move(values).value();
    } else {
      p.status = values.status();
    }
    batch.rows.push_back(std::move(p));
    batch.last_data_line = data_line;
    if (batch.rows.size() >= options.batch_size) {
      CUSTOS_RETURN_IF_ERROR(advance(std::move(batch)));
      batch = PendingBatch{};
      batch.rows.reserve(options.batch_size);
    }
  }
  CUSTOS_RETURN_IF_ERROR(drain(std::move(batch)));
  CUSTOS_RETURN_IF_ERROR(m.store->MergeStagedIndex());

  CUSTOS_ASSIGN_OR_RETURN(auto done, m.store->Begin());
  progress.state = "done";
  progress.updated_at_ms = m.Now();
  CUSTOS_RETURN_IF_ERROR(done->PutImport(progress));
  CUSTOS_RETURN_IF_ERROR(
      m.AuditAndCommit(*done, m.Event(ctx, "import.finish", target, "allow",
                                      fmt::format("{} imported, {} rejected in all",
                                                  progress.imported, progress.rejected))));
  return report;
}

}  // namespace custos::vault
