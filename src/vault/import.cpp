// Bulk import of customers from CSV (P3.1b: the import is the source of each record).
// Constant memory, batches committed with their progress, resumable after a kill, sealed on
// two threads while one writer commits (docs/import.md).
#include <botan/hash.h>
#include <fmt/format.h>

#include <fstream>
#include <thread>

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

}  // namespace

namespace {

// Maps the header to catalogue fields. InvalidArgument naming line 1 and the column.
Result<std::vector<std::string>> MapHeader(const schema::Config& config, const CsvRecord& header) {
  std::vector<std::string> columns;
  for (const std::string& raw : header.fields) {
    std::string name = raw;
    while (!name.empty() && (name.back() == ' ' || name.back() == '\r')) name.pop_back();
    if (config.FindField(name) == nullptr) {
      return InvalidArgument(fmt::format(
          "line {}: column '{}' is not a field of the catalogue (custos.toml)", header.line,
          name.size() > 64 ? name.substr(0, 64) + "..." : name));
    }
    if (std::find(columns.begin(), columns.end(), name) != columns.end()) {
      return InvalidArgument(fmt::format("line {}: column '{}' appears twice", header.line, name));
    }
    columns.push_back(std::move(name));
  }
  for (const schema::FieldDef& def : config.fields) {
    if (def.required && std::find(columns.begin(), columns.end(), def.name) == columns.end()) {
      return InvalidArgument(fmt::format("line {}: required column '{}' is missing", header.line,
                                         def.name));
    }
  }
  return columns;
}

Result<FieldValues> RowValues(const std::vector<std::string>& columns, const CsvRecord& rec) {
  if (rec.fields.size() != columns.size()) {
    return InvalidArgument(fmt::format("has {} fields, the header has {}", rec.fields.size(),
                                       columns.size()));
  }
  FieldValues values;
  for (size_t i = 0; i < columns.size(); ++i) values.emplace(columns[i], rec.fields[i]);
  return values;
}

}  // namespace

Result<ImportReport> Vault::ImportCsv(const Context& ctx, const std::filesystem::path& file,
                                      const ImportOptions& options) {
  Impl& m = *impl_;
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
      *txn, m.Event(ctx, existing.has_value() ? "import.resume" : "import.start", target, "allow",
                    fmt::format("file sha256 {}, on-error {}, {} line(s) already committed", *sha,
                                mode, progress.committed_lines))));

  // The header, then (reject-file mode) a validation pass, then the import pass.
  auto open_rows = [&]() -> Result<std::pair<std::unique_ptr<CsvReader>, std::vector<std::string>>> {
    CUSTOS_ASSIGN_OR_RETURN(auto reader, CsvReader::Open(file));
    CUSTOS_ASSIGN_OR_RETURN(auto header, reader->Next());
    if (!header.has_value()) return InvalidArgument("line 1: the file is empty (a header is required)");
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
      Status refused = m.Refuse(
          ctx, "import.reject", target,
          InvalidArgument(fmt::format("{} bad row(s); nothing imported (on-error reject-file)",
                                      report.rejected)));
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
    Result<Impl::Sealed> sealed = m.SealCustomer(p.row.customer_id, dek, *norm);
    if (!sealed.ok()) {
      p.status = sealed.status();
      return;
    }
    p.row.envelopes = std::move(sealed->envelopes);
    p.index = std::move(sealed->index);
    p.key.customer_id = p.row.customer_id;
    p.key.kek_version = m.keyring->provider().Version();
    Result<crypto::Bytes> wrapped = m.keyring->WrapDek(p.row.customer_id, dek);
    if (!wrapped.ok()) {
      p.status = wrapped.status();
      return;
    }
    p.key.wrapped_dek = std::move(wrapped).value();
    p.names = FieldNames(*norm);
  };

  auto seal_parallel = [&](std::vector<Pending>& batch) {
    const size_t half = batch.size() / 2;
    std::thread worker([&] {
      for (size_t i = half; i < batch.size(); ++i) prepare(batch[i]);
    });
    for (size_t i = 0; i < half; ++i) prepare(batch[i]);
    worker.join();
  };

  int64_t data_line = 0;  // records after the header
  auto commit_batch = [&](std::vector<Pending>& batch) -> Status {
    seal_parallel(batch);
    CUSTOS_ASSIGN_OR_RETURN(auto btxn, m.store->Begin());
    int64_t imported = 0;
    for (Pending& p : batch) {
      if (!p.status.ok()) {
        record_error(p.line, p.status);
        CUSTOS_RETURN_IF_ERROR(m.audit->Append(
            *btxn, m.Event(ctx, "import.reject_row", target, "deny",
                           fmt::format("line {}: {}", p.line, p.status.message()),
                           FieldNames(p.raw))));
        continue;
      }
      CUSTOS_RETURN_IF_ERROR(btxn->InsertCustomer(p.row));
      CUSTOS_RETURN_IF_ERROR(btxn->PutWrappedKey(p.key));
      CUSTOS_RETURN_IF_ERROR(btxn->StageIndexEntries(p.row.customer_id, p.index));
      CUSTOS_RETURN_IF_ERROR(m.audit->Append(
          *btxn, m.Event(ctx, "customer.create", CustomerTarget(p.row.customer_id), "allow",
                         fmt::format("import {} line {}", progress.import_id, p.line), p.names)));
      ++imported;
    }
    progress.committed_lines = data_line;
    progress.imported += imported;
    progress.rejected = progress.rejected + static_cast<int64_t>(batch.size()) - imported;
    progress.updated_at_ms = m.Now();
    CUSTOS_RETURN_IF_ERROR(btxn->PutImport(progress));
    Status st = btxn->Commit();
    if (!st.ok()) return Unavailable("import batch could not be committed: " + st.message());
    report.imported += imported;
    if (options.progress) options.progress(data_line);
    batch.clear();
    return Status::Ok();
  };

  std::vector<Pending> batch;
  batch.reserve(options.batch_size);
  while (true) {
    auto rec = reader->Next();
    if (!rec.ok()) {
      // Malformed CSV: what was committed stays; the rest is refused (the file must be fixed,
      // and a fixed file is a new import).
      CUSTOS_RETURN_IF_ERROR(commit_batch(batch));
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
    batch.push_back(std::move(p));
    if (batch.size() >= options.batch_size) CUSTOS_RETURN_IF_ERROR(commit_batch(batch));
  }
  CUSTOS_RETURN_IF_ERROR(commit_batch(batch));
  CUSTOS_RETURN_IF_ERROR(m.store->MergeStagedIndex());

  CUSTOS_ASSIGN_OR_RETURN(auto done, m.store->Begin());
  progress.state = "done";
  progress.updated_at_ms = m.Now();
  CUSTOS_RETURN_IF_ERROR(done->PutImport(progress));
  CUSTOS_RETURN_IF_ERROR(m.AuditAndCommit(
      *done, m.Event(ctx, "import.finish", target, "allow",
                     fmt::format("{} imported, {} rejected in all", progress.imported,
                                 progress.rejected))));
  return report;
}

}  // namespace custos::vault
