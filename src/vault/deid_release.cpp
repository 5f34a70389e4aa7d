// DeidService::Release (deid.h): two passes over the population, bounded memory.
#include <botan/hash.h>
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "access/policy.h"
#include "crypto/keyring.h"
#include "crypto/primitives.h"
#include "deid/dataset.h"
#include "deid/lattice.h"
#include "vault/admission.h"
#include "vault/deid.h"
#include "vault/deid_pass.h"
#include "vault/deid_plan.h"
#include "vault/kek_state.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;
using Pseudonym = std::function<std::string(std::string_view field, std::string_view value)>;

std::string ProfileKeyField(const schema::DeidProfileDef& p) { return "deid." + p.name; }

// The profile's joinable key: created (KEK-wrapped, in the metadata beside the index keys)
// on the first release, loaded into the keyring afterwards.
Status PrepareProfileKey(VaultState& m, store::Transaction& txn,
                         const schema::DeidProfileDef& profile) {
  const std::string field = ProfileKeyField(profile);
  const std::string meta = std::string(kIndexKeyPrefix) + field;
  // Read in place (not moved out of the Result): GCC 12 with -fsanitize=thread warns, wrongly,
  // that the moved optional's vector may be used uninitialized.
  const Result<std::optional<store::Bytes>> wrapped = txn.GetMeta(meta);
  if (!wrapped.ok()) return wrapped.status();
  if (wrapped->has_value()) return m.keyring->LoadIndexKey(field, **wrapped);
  CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes fresh, m.keyring->NewIndexKey(field));
  return txn.PutMeta(meta, fresh);
}

// "deid.release": the purpose, the role and the profile's key, then the start entry.
Status Start(DeidRun& run) {
  const schema::DeidProfileDef& p = *run.plan.profile;
  const Operation op{
      Action::kDeidRelease,  "deid_profile:" + p.name, Basis::kPurpose, p.purpose, {},
      run.plan.source_fields};
  return Write(run.m, run.ctx, op, [&](Scope& s) -> Result<Verdict> {
    if (s.ctx.purpose != p.purpose) {
      return Verdict::Deny(PermissionDenied(
          fmt::format("purpose: profile '{}' releases for purpose '{}' only", p.name, p.purpose)));
    }
    CUSTOS_ASSIGN_OR_RETURN(access::StaffFacts facts, s.Facts(""));
    const std::vector<std::string> roles = access::EffectiveRoles(*run.m.config, facts);
    const bool named = std::any_of(roles.begin(), roles.end(), [&](const std::string& r) {
      return std::find(p.roles.begin(), p.roles.end(), r) != p.roles.end();
    });
    if (!named) {
      return Verdict::Deny(PermissionDenied(
          fmt::format("role: profile '{}' is released only by its roles", p.name)));
    }
    if (p.joinable) CUSTOS_RETURN_IF_ERROR(PrepareProfileKey(run.m, s.txn, p));
    run.ctx = s.ctx;
    return Verdict::Allow(fmt::format("release {} under profile {} (sha256 {})", run.run_id, p.name,
                                      ProfileSha256(p)),
                          run.plan.source_fields);
  });
}

// First pass: the frequency set of the quasi-identifiers and sensitive attributes.
Result<deid::Dataset> Collect(DeidRun& run) {
  std::vector<deid::Hierarchy> hierarchies;
  for (size_t q : run.plan.quasi) hierarchies.push_back(*run.plan.rules[q].hierarchy);
  deid::Dataset data(std::move(hierarchies), run.plan.sensitive.size());
  std::vector<std::string> quasi(run.plan.quasi.size());
  std::vector<std::string> sensitive(run.plan.sensitive.size());
  CUSTOS_RETURN_IF_ERROR(ForEachDeidCustomer(
      run, true, [&](const std::vector<std::string>& v, const std::vector<FieldValues>&) {
        for (size_t i = 0; i < quasi.size(); ++i) quasi[i] = v[run.plan.quasi[i]];
        for (size_t i = 0; i < sensitive.size(); ++i) sensitive[i] = v[run.plan.sensitive[i]];
        data.Add(quasi, sensitive);
        return Status::Ok();
      }));
  return data;
}

// The rows written, recounted by class as they go (the release's own last check).
struct Tally {
  std::map<std::string, std::pair<uint64_t, std::vector<std::set<std::string>>>> classes;

  int64_t customers = 0;

  void Add(const std::string& key, const std::vector<std::string>& sensitive) {
    ++customers;
    auto& c = classes[key];
    ++c.first;
    c.second.resize(sensitive.size());
    for (size_t i = 0; i < sensitive.size(); ++i) c.second[i].insert(sensitive[i]);
  }
  // k and distinct l; entropy l and t were met by the search and only fewer rows than
  // expected (customers gone between the passes) could break them, which k catches first.
  bool Meets(const deid::PrivacyModel& model) const {
    for (const auto& [key, c] : classes) {
      if (c.first < model.k) return false;
      for (const auto& values : c.second) {
        if (model.diversity == deid::Diversity::kDistinct &&
            static_cast<double>(values.size()) < model.l) {
          return false;
        }
      }
    }
    return true;
  }
};

// A CSV or JSON Lines file, hashed as it is written.
class ReleaseFile {
 public:
  ReleaseFile(deid::FileFormat format, std::vector<std::string> columns, std::ostream& out)
      : format_(format),
        columns_(std::move(columns)),
        out_(out),
        hash_(Botan::HashFunction::create_or_throw("SHA-256")) {
    if (format_ == deid::FileFormat::kCsv) Emit(CsvLine(columns_));
  }
  void Row(const std::vector<std::string>& cells) {
    if (format_ == deid::FileFormat::kCsv) {
      Emit(CsvLine(cells));
    } else {
      nlohmann::ordered_json j;
      for (size_t i = 0; i < columns_.size(); ++i) j[columns_[i]] = cells[i];
      Emit(j.dump() + "\n");
    }
    ++rows_;
  }
  int64_t rows() const { return rows_; }
  bool ok() const { return static_cast<bool>(out_); }
  std::string Sha256() { return crypto::ToHex(hash_->final_stdvec()); }

 private:
  static std::string CsvLine(const std::vector<std::string>& cells) {
    std::string line;
    for (size_t i = 0; i < cells.size(); ++i) {
      if (i > 0) line.push_back(',');
      const std::string& v = cells[i];
      // A leading = + @ would be a formula in a spreadsheet: quoted with a leading '.
      const bool formula = !v.empty() && (v[0] == '=' || v[0] == '+' || v[0] == '@');
      if (!formula && v.find_first_of(",\"\r\n") == std::string::npos) {
        line += v;
        continue;
      }
      line += formula ? "\"'" : "\"";
      for (char c : v) line += c == '"' ? std::string("\"\"") : std::string(1, c);
      line.push_back('"');
    }
    line.push_back('\n');
    return line;
  }
  void Emit(const std::string& text) {
    hash_->update(text);
    out_ << text;
  }

  deid::FileFormat format_;
  std::vector<std::string> columns_;
  std::ostream& out_;
  std::unique_ptr<Botan::HashFunction> hash_;
  int64_t rows_ = 0;
};

// The pseudonyms of this release: the profile's key when joinable, else a random key that is
// never stored (so no two releases can be joined).
Result<Pseudonym> PseudonymsFor(const DeidRun& run) {
  const schema::DeidProfileDef& p = *run.plan.profile;
  if (p.joinable) {
    const std::string key_field = ProfileKeyField(p);
    const crypto::Keyring* keyring = run.m.keyring.get();
    return Pseudonym([keyring, key_field](std::string_view field, std::string_view value) {
      std::string message(field);
      message.push_back('\0');
      message.append(value);
      Result<crypto::Bytes> token = keyring->BlindIndex(key_field, message);
      return token.ok() ? crypto::ToHex(*token) : std::string("*");
    });
  }
  CUSTOS_ASSIGN_OR_RETURN(
      std::shared_ptr<deid::Pseudonymiser> one,
      deid::Pseudonymiser::New(run.m.keyring->suite(), crypto::RandomSecret(32)));
  return Pseudonym([one](std::string_view field, std::string_view value) {
    return one->Pseudonym(field, value);
  });
}

// Second pass: every customer again, transformed at `levels`; suppressed classes left out.
// Rows per transaction: the customer's cells, then one row per transaction with its cells
// (a customer without transactions one row with empty transaction cells, so that every class
// keeps the customers the model counted). The tally counts customers, not rows.
Status WriteRows(DeidRun& run, const std::vector<int>& levels,
                 const std::unordered_set<std::string>& suppressed, const DeidRowSink& sink,
                 Tally& tally) {
  CUSTOS_ASSIGN_OR_RETURN(Pseudonym pseudonym, PseudonymsFor(run));
  const DeidPlan& plan = run.plan;
  std::vector<int> level_of(plan.rules.size(), 0);
  for (size_t i = 0; i < plan.quasi.size(); ++i) level_of[plan.quasi[i]] = levels[i];
  std::vector<std::string> quasi(plan.quasi.size());
  std::vector<std::string> sensitive(plan.sensitive.size());
  std::vector<std::string> cells;
  return ForEachDeidCustomer(
      run, false, [&](const std::vector<std::string>& v, const std::vector<FieldValues>& txns) {
        for (size_t i = 0; i < quasi.size(); ++i) {
          quasi[i] = plan.rules[plan.quasi[i]].hierarchy->Generalise(v[plan.quasi[i]], levels[i]);
        }
        const std::string key = deid::ClassKey(quasi);
        if (suppressed.count(key) != 0) return Status::Ok();
        for (size_t i = 0; i < sensitive.size(); ++i) sensitive[i] = v[plan.sensitive[i]];
        cells.clear();
        for (size_t r = 0; r < plan.rules.size(); ++r) {
          const deid::FieldRule& rule = plan.rules[r];
          if (rule.kind == deid::TransformKind::kDrop) continue;
          cells.push_back(rule.kind == deid::TransformKind::kPseudonymise
                              ? pseudonym(rule.field, v[r])
                              : deid::ApplyRule(rule, v[r], level_of[r]));
        }
        if (!plan.RowsPerTransaction()) {
          CUSTOS_RETURN_IF_ERROR(sink(cells));
        } else {
          const size_t customer_cells = cells.size();
          for (size_t t = 0; t < std::max<size_t>(1, txns.size()); ++t) {
            cells.resize(customer_cells);
            AppendTxnCells(plan, txns.empty() ? nullptr : &txns[t], cells);
            CUSTOS_RETURN_IF_ERROR(sink(cells));
          }
        }
        tally.Add(key, sensitive);
        return Status::Ok();
      });
}

DeidReleaseReport BaseReport(const DeidRun& run) {
  DeidReleaseReport r;
  r.profile = run.plan.profile->name;
  r.profile_sha256 = ProfileSha256(*run.plan.profile);
  for (size_t q : run.plan.quasi) r.quasi_identifiers.push_back(run.plan.rules[q].field);
  r.columns = ReleaseColumns(*run.plan.profile);
  return r;
}

// The model cannot be met (or the population is empty): "deid.release.refused".
Status Refuse(DeidRun& run, const Status& why) {
  const Operation op{Action::kDeidReleaseRefused, "deid_release:" + run.run_id};
  Status recorded = RecordOutcome(run.m, run.ctx, op, Verdict::Deny(why));
  return recorded.code() == why.code() ? Status::Ok() : recorded;
}

// The register row, the class sizes and "deid.release.complete", in one transaction.
Status Register(DeidRun& run, const DeidReleaseOptions& options, const DeidReleaseReport& report,
                const std::map<std::string, uint64_t>& class_sizes,
                const std::set<std::string>& compared_with) {
  store::DeidReleaseRow row;
  row.release_id = run.run_id;
  row.created_at_ms = run.m.Now();
  row.actor = run.ctx.actor;
  row.purpose = run.ctx.purpose;
  row.profile = report.profile;
  row.profile_sha256 = report.profile_sha256;
  row.parameters = ParametersJson(*run.plan.profile, options.format);
  row.figures = RecordedFiguresJson(report);
  row.row_count = report.rows_written;
  row.file_sha256 = report.file_sha256;
  row.recipients = options.recipients;
  const store::DeidReleaseClassesRow classes = ClassSizesRow(run.run_id, report, class_sizes);
  CUSTOS_ASSIGN_OR_RETURN(auto txn, run.m.store->Begin());
  // An output of the profile made at the same time was not in the history the passes read.
  Status concurrent =
      CheckNoConcurrentOutput(*txn, classes, ModelOf(*run.plan.profile).k, compared_with);
  if (concurrent.code() == Code::kConflict) {
    txn.reset();  // rolled back: the refusal is recorded in a transaction of its own
    CUSTOS_RETURN_IF_ERROR(Refuse(run, concurrent));
    return concurrent;
  }
  CUSTOS_RETURN_IF_ERROR(concurrent);
  CUSTOS_RETURN_IF_ERROR(txn->InsertDeidRelease(row));
  CUSTOS_RETURN_IF_ERROR(txn->InsertDeidReleaseClasses(classes));
  const Operation op{Action::kDeidReleaseComplete, "deid_release:" + run.run_id};
  std::string reason = fmt::format("{} rows, k {}, file sha256 {}", report.rows_written,
                                   report.figures.smallest_class, report.file_sha256);
  if (report.differencing_classes > 0) {
    reason += "; " + DifferencingNote(report.differencing_classes, report.differencing_customers);
  }
  return CommitOutcome(run.m, *txn, run.ctx, op,
                       Verdict::Allow(std::move(reason), run.plan.source_fields));
}

int64_t SinceMs(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               t0)
      .count();
}

// "2,1,0": the levels as the register keys a release's class sizes.
std::string LevelsText(const std::vector<int>& levels) {
  std::string text;
  for (size_t i = 0; i < levels.size(); ++i) {
    text += fmt::format("{}{}", i > 0 ? "," : "", levels[i]);
  }
  return text;
}

// The most earlier releases and shares of one profile and levels an output is checked against.
constexpr size_t kMaxEarlierReleases = 1000;

// The class sizes a register row keeps (ClassSizesRow's counts).
Result<std::map<std::string, uint64_t>> ParseClassSizes(const std::string& counts) {
  const auto j = nlohmann::json::parse(counts, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return DataLoss("deid_release_classes: counts do not parse");
  std::map<std::string, uint64_t> sizes;
  for (const auto& [digest, n] : j.items()) {
    if (!n.is_number_unsigned()) return DataLoss("deid_release_classes: a count is not one");
    sizes[digest] = n.get<uint64_t>();
  }
  return sizes;
}

// Whether the class `digest`, of `n` customers, differs by 1 to k-1 customers from its size in
// one of `outputs` (a recipient of both could isolate the customers who came or went).
bool DiffersFromAny(const std::string& digest, uint64_t n,
                    const std::vector<EarlierOutput>& outputs, uint64_t k) {
  return std::any_of(outputs.begin(), outputs.end(), [&](const EarlierOutput& o) {
    const auto it = o.sizes.find(digest);
    if (it == o.sizes.end()) return false;
    const uint64_t diff = n > it->second ? n - it->second : it->second - n;
    return diff > 0 && diff < k;
  });
}

// The 1,000 newest earlier releases and shares of the run's profile at `levels`, read in their
// own transaction.
Result<std::vector<EarlierOutput>> EarlierOutputs(const DeidRun& run,
                                                  const std::vector<int>& levels) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, run.m.store->BeginRead());
  CUSTOS_ASSIGN_OR_RETURN(
      auto rows,
      txn->ListDeidReleaseClasses(run.plan.profile->name, LevelsText(levels), kMaxEarlierReleases));
  std::vector<EarlierOutput> out;
  out.reserve(rows.size());
  for (store::DeidReleaseClassesRow& row : rows) {
    CUSTOS_ASSIGN_OR_RETURN(auto sizes, ParseClassSizes(row.counts));
    out.push_back(EarlierOutput{std::move(row.release_id), std::move(sizes)});
  }
  return out;
}

}  // namespace

Status CheckNoConcurrentOutput(store::Transaction& txn, const store::DeidReleaseClassesRow& mine,
                               uint64_t k, const std::set<std::string>& compared_with) {
  // Registrations are ordered by the audit log's lock, which GetAuditHead takes (PostgreSQL's
  // advisory lock; on SQLite the write transaction holds the database's write lock already):
  // from here on the history read below holds every output registered before this one.
  CUSTOS_RETURN_IF_ERROR(txn.GetAuditHead().status());
  CUSTOS_ASSIGN_OR_RETURN(
      auto rows, txn.ListDeidReleaseClasses(mine.profile, mine.levels, kMaxEarlierReleases));
  std::vector<EarlierOutput> unseen;
  for (store::DeidReleaseClassesRow& row : rows) {
    if (row.release_id == mine.release_id || compared_with.contains(row.release_id)) continue;
    CUSTOS_ASSIGN_OR_RETURN(auto sizes, ParseClassSizes(row.counts));
    unseen.push_back(EarlierOutput{std::move(row.release_id), std::move(sizes)});
  }
  if (unseen.empty()) return Status::Ok();
  CUSTOS_ASSIGN_OR_RETURN(const auto sizes, ParseClassSizes(mine.counts));
  for (const auto& [digest, n] : sizes) {
    if (DiffersFromAny(digest, n, unseen, k)) {
      return Conflict(fmt::format(
          "profile '{}': another release or share of it was registered while this one was made, "
          "and a class differs from it by fewer than k customers; nothing was released or "
          "shared (make it again: that class is then left out)",
          mine.profile));
    }
  }
  return Status::Ok();
}

store::DeidReleaseClassesRow ClassSizesRow(std::string_view id, const DeidReleaseReport& report,
                                           const std::map<std::string, uint64_t>& sizes) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [digest, n] : sizes) counts[digest] = n;
  return store::DeidReleaseClassesRow{std::string(id), report.profile,
                                      LevelsText(report.figures.levels), counts.dump()};
}

std::string RecordedFiguresJson(const DeidReleaseReport& report) {
  std::string text = FiguresJson(report.figures, report.quasi_identifiers);
  if (report.differencing_classes == 0) return text;
  auto figures = nlohmann::json::parse(text);
  figures["differencing"] = {{"classes", report.differencing_classes},
                             {"customers", report.differencing_customers}};
  return figures.dump();
}

Result<DeidPassOutcome> RunDeidPasses(DeidRun& run, const DeidRowSink& sink) {
  const schema::DeidProfileDef& profile = *run.plan.profile;
  CUSTOS_ASSIGN_OR_RETURN(deid::Dataset data, Collect(run));
  DeidPassOutcome outcome;
  DeidReleaseReport& report = outcome.report;
  report = BaseReport(run);
  const deid::PrivacyModel model = ModelOf(profile);
  const auto t0 = std::chrono::steady_clock::now();
  Result<deid::SearchResult> found = deid::SearchLattice(data, model);
  report.search_ms = SinceMs(t0);
  if (!found.ok()) {
    outcome.search = FailedPrecondition(found.status().message());
    return outcome;
  }
  report.figures = found->best;
  report.lattice_nodes = found->nodes;
  report.evaluated_nodes = found->evaluated;
  if (!found->met) {
    report.reason = found->reason;
    return outcome;
  }
  std::unordered_set<std::string> suppressed;
  std::unordered_map<std::string, uint64_t> kept;
  std::unordered_set<std::string> left_out;  // for differencing
  std::vector<EarlierOutput> before;         // the earlier outputs compared with
  data.Evaluate(found->best.levels, model, &suppressed, &kept);
  CUSTOS_ASSIGN_OR_RETURN(before, EarlierOutputs(run, found->best.levels));
  for (const EarlierOutput& o : before) outcome.compared_with.insert(o.id);
  for (const auto& [key, size] : kept) {
    if (!DiffersFromAny(ClassDigest(key), size, before, model.k)) continue;
    suppressed.insert(key);
    left_out.insert(key);
    ++report.differencing_classes;
    report.differencing_customers += size;
  }
  // The figures of what is written: the differencing classes count as suppressed (a share's
  // manifest carries them, and its partner could otherwise work out what was left out).
  if (!left_out.empty()) {
    report.figures = data.Evaluate(found->best.levels, model, nullptr, nullptr, &left_out);
  }
  int64_t rows = 0;
  Tally tally;
  CUSTOS_RETURN_IF_ERROR(WriteRows(
      run, found->best.levels, suppressed,
      [&](const std::vector<std::string>& cells) -> Status {
        ++rows;
        return sink(cells);
      },
      tally));
  if (!tally.Meets(model)) {
    return Conflict("customers changed during the release; the file is void, release again");
  }
  for (const auto& [key, c] : tally.classes) outcome.class_sizes[ClassDigest(key)] = c.first;
  // A class that lost customers between the passes may now differ by fewer than k from an
  // earlier output it matched in the first pass.
  for (const auto& [digest, n] : outcome.class_sizes) {
    if (DiffersFromAny(digest, n, before, model.k)) {
      return Conflict(
          "customers changed during the release so that a class differs by fewer than k from an "
          "earlier release or share; the file is void, release again");
    }
  }
  report.met = true;
  report.rows_written = rows;
  outcome.customers_written = tally.customers;
  return outcome;
}

std::string ClassDigest(std::string_view class_key) {
  const crypto::Bytes hash = crypto::Hash(crypto::Suite::kAes256Gcm, crypto::AsBytes(class_key));
  return crypto::ToHex(crypto::ByteView(hash.data(), 16));
}

Result<DeidReleaseReport> DeidService::Release(const Context& ctx,
                                               const DeidReleaseOptions& options,
                                               std::ostream& out) {
  VaultState& m = *state_;
  const schema::DeidProfileDef* profile = m.config->FindDeidProfile(options.profile);
  if (profile == nullptr) {
    return RecordRefusal(m, ctx, Operation{Action::kDeidRelease, "deid_profile"},
                         NotFound("profile: no such de-identification profile"));
  }
  CUSTOS_ASSIGN_OR_RETURN(DeidPlan plan, CompilePlan(*m.config, *profile));
  const std::string id = NewId(m.Now());
  DeidRun run{m,
              ctx,
              options.page_size,
              std::move(plan),
              id,
              Action::kDeidRelease,
              "deid_release:" + id,
              {},
              {},
              Basis::kPurpose,
              Action::kDeidCustomer,
              {}};
  CUSTOS_RETURN_IF_ERROR(Start(run));
  // Opened on the first row (or once the model is met with no row): a refused release leaves
  // `out` empty.
  std::optional<ReleaseFile> file;
  const auto open = [&]() -> ReleaseFile& {
    if (!file.has_value()) file.emplace(options.format, ReleaseColumns(*profile), out);
    return *file;
  };
  CUSTOS_ASSIGN_OR_RETURN(
      DeidPassOutcome outcome,
      RunDeidPasses(run, [&open](const std::vector<std::string>& cells) -> Status {
        ReleaseFile& f = open();
        f.Row(cells);
        return f.ok() ? Status::Ok() : Unavailable("the release file cannot be written");
      }));
  if (!outcome.search.ok()) {
    CUSTOS_RETURN_IF_ERROR(Refuse(run, outcome.search));
    return outcome.search;
  }
  DeidReleaseReport report = std::move(outcome.report);
  if (!report.met) {
    CUSTOS_RETURN_IF_ERROR(Refuse(run, FailedPrecondition(report.reason)));
    return report;
  }
  open();
  out.flush();
  if (!out) return Unavailable("the release file cannot be written");
  report.release_id = run.run_id;
  report.rows_written = open().rows();
  report.file_sha256 = open().Sha256();
  CUSTOS_RETURN_IF_ERROR(
      Register(run, options, report, outcome.class_sizes, outcome.compared_with));
  return report;
}

}  // namespace custos::vault
