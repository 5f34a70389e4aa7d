// The evidence bundle (P6b; dpo.h, issue 19 item 5): what an authority's auditor asks for,
// in one zip with a manifest signed by the vault's audit key, checkable with `custos evidence
// verify` or with sha256sum and openssl alone (docs/dpo.md "The evidence bundle").
#include <fmt/format.h>
#include <zip.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <regex>

#include "audit/proofs.h"
#include "audit/tree_head.h"
#include "core/dates.h"
#include "crypto/digest.h"
#include "crypto/primitives.h"
#include "lifecycle/plan.h"
#include "vault/admission.h"
#include "vault/audit_service.h"
#include "vault/doctor.h"
#include "vault/dpo.h"
#include "vault/reports.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using schema::Action;
namespace fs = std::filesystem;

constexpr std::string_view kManifestFormat = "custos.evidence_manifest/1";

struct BundleFile {
  std::string name;
  std::string content;
};

std::string Base64(crypto::ByteView in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint32_t{in[i]} << 16) | (uint32_t{in[i + 1]} << 8) | in[i + 2];
    for (int shift = 18; shift >= 0; shift -= 6) out.push_back(kAlphabet[(n >> shift) & 63]);
  }
  if (i < in.size()) {
    const bool two = i + 1 < in.size();
    const uint32_t n = (uint32_t{in[i]} << 16) | (two ? uint32_t{in[i + 1]} << 8 : 0);
    out.push_back(kAlphabet[(n >> 18) & 63]);
    out.push_back(kAlphabet[(n >> 12) & 63]);
    out.push_back(two ? kAlphabet[(n >> 6) & 63] : '=');
    out.push_back('=');
  }
  return out;
}

// An Ed25519 public key as PEM (RFC 8410: SubjectPublicKeyInfo with OID 1.3.101.112), for
// `openssl pkeyutl -verify -pubin -inkey`.
std::string Ed25519Pem(const crypto::Bytes& key) {
  crypto::Bytes der = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
  der.insert(der.end(), key.begin(), key.end());
  return "-----BEGIN PUBLIC KEY-----\n" + Base64(der) + "\n-----END PUBLIC KEY-----\n";
}

nlohmann::json DoctorJsonOf(const DoctorReport& d) {
  nlohmann::json findings = nlohmann::json::array();
  for (const DoctorFinding& f : d.findings) {
    findings.push_back({{"id", f.id},
                        {"severity", SeverityName(f.severity)},
                        {"message", f.message},
                        {"fix", f.fix}});
  }
  return {{"at_ms", d.at_ms}, {"audit_seq", d.audit_seq}, {"findings", findings}};
}

// custos.toml with the values of `url` keys (a database URL may hold a password) replaced.
std::string RedactedConfig(const std::string& text) {
  static const std::regex kUrl(R"(^(\s*url\s*=\s*).*$)", std::regex::multiline);
  return std::regex_replace(text, kUrl, "$1\"(withheld from the bundle)\"");
}

std::string ReadText(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

// The destruction certificates (<vault>/certificates/*.json) whose run finished in the period.
std::vector<BundleFile> Certificates(const fs::path& dir, int64_t from_ms, int64_t to_ms) {
  std::vector<BundleFile> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir / "certificates", ec)) {
    if (!e.is_regular_file() || e.path().extension() != ".json") continue;
    std::string text = ReadText(e.path());
    const nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object()) continue;
    const int64_t at = j.value("finished_at_ms", int64_t{0});
    if (at < from_ms || at >= to_ms) continue;
    out.push_back({"certificates/" + e.path().filename().string(), std::move(text)});
  }
  std::sort(out.begin(), out.end(),
            [](const BundleFile& a, const BundleFile& b) { return a.name < b.name; });
  return out;
}

std::string Csv(const std::vector<std::vector<std::string>>& rows) {
  std::string out;
  for (const auto& row : rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      const std::string& c = row[i];
      const bool quote = c.find_first_of(",\"\n\r") != std::string::npos;
      std::string cell = c;
      if (quote) {
        cell.clear();
        for (char ch : c) cell += ch == '"' ? std::string("\"\"") : std::string(1, ch);
        cell.insert(0, 1, '"');
        cell.push_back('"');
      }
      if (i > 0) out += ',';
      out += cell;
    }
    out += "\r\n";
  }
  return out;
}

Result<BundleFile> TrainingFile(store::Transaction& txn) {
  std::vector<std::vector<std::string>> training = {
      {"staff_id", "post", "course", "completed", "valid_until", "recorded_by"}};
  CUSTOS_ASSIGN_OR_RETURN(auto staff, txn.ListStaff());
  for (const store::StaffRow& s : staff) {
    CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListTraining(s.staff_id));
    for (const store::TrainingRow& t : rows) {
      training.push_back({t.staff_id, s.post, t.course, core::UtcDateOfMs(t.completed_at_ms),
                          core::UtcDateOfMs(t.valid_until_ms), t.recorded_by});
    }
  }
  return BundleFile{"registers/training.csv", Csv(training)};
}

Result<BundleFile> PiasFile(store::Transaction& txn) {
  nlohmann::json pias = nlohmann::json::array();
  CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListPias());
  for (const store::PiaRow& p : rows) {
    pias.push_back({{"pia_id", p.pia_id},
                    {"title", p.title},
                    {"scope", nlohmann::json::parse(p.scope, nullptr, false)},
                    {"risks", p.risks},
                    {"measures", p.measures},
                    {"author", p.author},
                    {"created_at_ms", p.created_at_ms},
                    {"approver", p.approver},
                    {"approved_at_ms", p.approved_at_ms},
                    {"review_due_ms", p.review_due_ms},
                    {"keep_until_ms", p.keep_until_ms},
                    {"state", p.state}});
  }
  return BundleFile{"registers/impact_assessments.json", pias.dump(2) + "\n"};
}

// Incidents open at some time in [from_ms, to_ms), with their steps.
Result<BundleFile> IncidentsFile(store::Transaction& txn, int64_t from_ms, int64_t to_ms) {
  nlohmann::json incidents = nlohmann::json::array();
  CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListIncidents(false, 100000));
  for (const store::IncidentRow& i : rows) {
    if (i.opened_at_ms >= to_ms || (i.status == "closed" && i.closed_at_ms < from_ms)) continue;
    nlohmann::json steps = nlohmann::json::array();
    CUSTOS_ASSIGN_OR_RETURN(auto step_rows, txn.ListIncidentSteps(i.incident_id));
    for (const store::IncidentStepRow& st : step_rows) {
      steps.push_back({{"step_no", st.step_no},
                       {"at_ms", st.at_ms},
                       {"actor", st.actor},
                       {"kind", st.kind},
                       {"detail", st.detail}});
    }
    incidents.push_back({{"incident_id", i.incident_id},
                         {"opened_at_ms", i.opened_at_ms},
                         {"opened_by", i.opened_by},
                         {"title", i.title},
                         {"severity", i.severity},
                         {"status", i.status},
                         {"staff_id", i.subject_actor},
                         {"closed_by", i.closed_by},
                         {"closed_at_ms", i.closed_at_ms},
                         {"steps", steps}});
  }
  return BundleFile{"registers/incidents.json", incidents.dump(2) + "\n"};
}

// The latest self-assessment (none: no file) and the policy and config versions.
Status AddAssessmentAndVersions(store::Transaction& txn, std::vector<BundleFile>& out) {
  CUSTOS_ASSIGN_OR_RETURN(auto assessments, txn.ListAssessments(1));
  if (!assessments.empty()) {
    const store::AssessmentRow& a = assessments.front();
    const nlohmann::json doc = {{"assessment_id", a.assessment_id},
                                {"started_at_ms", a.started_at_ms},
                                {"started_by", a.started_by},
                                {"from_ms", a.from_ms},
                                {"to_ms", a.to_ms},
                                {"items", nlohmann::json::parse(a.items, nullptr, false)},
                                {"signed_off_by", a.signed_off_by},
                                {"signed_off_at_ms", a.signed_off_at_ms},
                                {"state", a.state}};
    out.push_back({"registers/self_assessment.json", doc.dump(2) + "\n"});
  }
  for (const char* kind : {"policy", "config"}) {
    nlohmann::json versions = nlohmann::json::array();
    CUSTOS_ASSIGN_OR_RETURN(auto rows, txn.ListPolicyVersions(kind));
    for (const store::PolicyVersionRow& v : rows) {
      versions.push_back({{"version_no", v.version_no},
                          {"sha256", v.sha256},
                          {"effective", core::UtcDateOfMs(v.effective_ms)},
                          {"effective_ms", v.effective_ms},
                          {"recorded_at_ms", v.recorded_at_ms},
                          {"recorded_by", v.recorded_by},
                          {"source", v.source}});
      if (std::string_view(kind) == "policy") {
        out.push_back({fmt::format("policy/policy-v{}.md", v.version_no), v.content});
      }
    }
    out.push_back({fmt::format("registers/{}_versions.json", kind), versions.dump(2) + "\n"});
  }
  return Status::Ok();
}

// The registers read in the bundle's own admitted transaction.
Result<std::vector<BundleFile>> RegisterFiles(store::Transaction& txn, int64_t from_ms,
                                              int64_t to_ms) {
  std::vector<BundleFile> out;
  CUSTOS_ASSIGN_OR_RETURN(BundleFile training, TrainingFile(txn));
  out.push_back(std::move(training));
  CUSTOS_ASSIGN_OR_RETURN(BundleFile pias, PiasFile(txn));
  out.push_back(std::move(pias));
  CUSTOS_ASSIGN_OR_RETURN(BundleFile incidents, IncidentsFile(txn, from_ms, to_ms));
  out.push_back(std::move(incidents));
  CUSTOS_RETURN_IF_ERROR(AddAssessmentAndVersions(txn, out));
  return out;
}

struct ZipSourceFree {
  void operator()(zip_source_t* s) const { zip_source_free(s); }
};

Result<std::string> WriteZip(const std::vector<BundleFile>& files) {
  zip_error_t error;
  zip_error_init(&error);
  std::unique_ptr<zip_source_t, ZipSourceFree> buffer(
      zip_source_buffer_create(nullptr, 0, 0, &error));
  if (buffer == nullptr) return Internal("evidence bundle: cannot make a buffer");
  zip_t* archive = zip_open_from_source(buffer.get(), ZIP_TRUNCATE, &error);
  if (archive == nullptr) return Internal("evidence bundle: cannot open the archive");
  zip_source_keep(buffer.get());
  for (const BundleFile& f : files) {
    zip_source_t* entry = zip_source_buffer(archive, f.content.data(), f.content.size(), 0);
    if (entry == nullptr || zip_file_add(archive, f.name.c_str(), entry, ZIP_FL_ENC_UTF_8) < 0) {
      if (entry != nullptr) zip_source_free(entry);
      Status st =
          Internal(fmt::format("evidence bundle: add {}: {}", f.name, zip_strerror(archive)));
      zip_discard(archive);
      return st;
    }
  }
  if (zip_close(archive) != 0) {
    Status st = Internal(fmt::format("evidence bundle: write: {}", zip_strerror(archive)));
    zip_discard(archive);
    return st;
  }
  zip_source_t* src = buffer.get();
  if (zip_source_open(src) != 0) return Internal("evidence bundle: cannot reread the archive");
  std::string out;
  if (zip_source_seek(src, 0, SEEK_END) == 0) {
    const zip_int64_t size = zip_source_tell(src);
    if (size >= 0 && zip_source_seek(src, 0, SEEK_SET) == 0) {
      out.resize(static_cast<size_t>(size));
      if (zip_source_read(src, out.data(), out.size()) != size) out.clear();
    }
  }
  zip_source_close(src);
  if (out.empty()) return Internal("evidence bundle: could not read the written archive");
  return out;
}

// Every entry of the zip `bytes`, by name. InvalidArgument when it is not a readable zip.
Result<std::map<std::string, std::string>> ReadZip(std::string_view bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* src = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (src == nullptr) return InvalidArgument("bundle: not a zip archive");
  zip_t* archive = zip_open_from_source(src, ZIP_RDONLY, &error);
  if (archive == nullptr) {
    zip_source_free(src);
    return InvalidArgument("bundle: not a zip archive");
  }
  std::map<std::string, std::string> out;
  const zip_int64_t n = zip_get_num_entries(archive, 0);
  for (zip_int64_t i = 0; i < n; ++i) {
    zip_stat_t st;
    zip_stat_init(&st);
    const auto index = static_cast<zip_uint64_t>(i);
    if (zip_stat_index(archive, index, 0, &st) != 0 || st.name == nullptr) continue;
    zip_file_t* f = zip_fopen_index(archive, index, 0);
    if (f == nullptr) continue;
    std::string content(static_cast<size_t>(st.size), '\0');
    const zip_int64_t read = zip_fread(f, content.data(), content.size());
    zip_fclose(f);
    if (read != static_cast<zip_int64_t>(st.size)) {
      zip_discard(archive);
      return InvalidArgument(fmt::format("bundle: entry {} cannot be read", st.name));
    }
    out[st.name] = std::move(content);
  }
  zip_discard(archive);  // read only: nothing to write; frees the source too
  return out;
}

constexpr std::string_view kReadme =
    "Custos evidence bundle\n"
    "======================\n"
    "MANIFEST.json lists every other file of this bundle with its SHA-256 and is signed by the\n"
    "vault's audit key (MANIFEST.sig, raw signature over MANIFEST.json's bytes). SHA256SUMS\n"
    "holds the same digests in sha256sum's format; its own digest is in MANIFEST.json.\n"
    "\n"
    "Check it with standard tools (Ed25519 vaults; compare the key with one you hold, e.g. the\n"
    "public_key of an audit head given to you earlier):\n"
    "  unzip bundle.zip -d bundle && cd bundle\n"
    "  openssl pkeyutl -verify -pubin -inkey vault_public_key.pem -rawin \\\n"
    "      -in MANIFEST.json -sigfile MANIFEST.sig\n"
    "  sha256sum SHA256SUMS        # equals MANIFEST.json's sha256sums\n"
    "  sha256sum -c SHA256SUMS\n"
    "or with Custos: custos evidence verify bundle.zip --public-key vault.pub\n";

// The manifest's period: its days in the company's zone, as the reports give them.
nlohmann::json PeriodJson(const std::string& time_zone, int64_t from_ms, int64_t to_ms) {
  Report period;
  period.time_zone = time_zone;
  return {{"from", ReportDay(period, from_ms)},
          {"to", ReportDay(period, to_ms - 1)},
          {"from_ms", from_ms},
          {"to_ms", to_ms},
          {"time_zone", time_zone}};
}

}  // namespace

Result<EvidenceBundle> DpoService::BuildEvidence(const Context& caller, int64_t from_ms,
                                                 int64_t to_ms) {
  VaultState& m = *state_;
  if (to_ms <= from_ms) return InvalidArgument("to: must be after from");
  RecordConfigVersion().status().IgnoreError();  // the version in force, best effort
  // Reports and audit proofs name the purpose they are read for: an audit by the authorities
  // is a legal obligation (P6b), unless the caller named another.
  Context ctx = caller;
  if (ctx.purpose.empty()) ctx.purpose = std::string(kLegalObligation);
  std::vector<BundleFile> files;
  for (std::string_view name : kReportNames) {
    CUSTOS_ASSIGN_OR_RETURN(Report r,
                            reports_->Build(ctx, ReportRequest{std::string(name), from_ms, to_ms}));
    files.push_back({fmt::format("reports/{}.json", name), RenderReportJson(r)});
    files.push_back({fmt::format("reports/{}.zh.html", name), RenderReportHtml(r, "zh")});
    files.push_back({fmt::format("reports/{}.en.html", name), RenderReportHtml(r, "en")});
  }
  // The log's size when the period began: the entries before the first one at or after from.
  const Operation op{Action::kEvidenceBundle, "evidence", Basis::kAdministration};
  int64_t size_at_from = 0;
  std::vector<BundleFile> registers;
  CUSTOS_RETURN_IF_ERROR(Write(m, ctx, op, [&](Scope& s) -> Result<Verdict> {
    store::AuditFilter f;
    f.from_ms = from_ms;
    CUSTOS_ASSIGN_OR_RETURN(auto first, s.txn.QueryAudit(f, 1));
    size_at_from = first.empty() ? -1 : first.front().seq - 1;
    CUSTOS_ASSIGN_OR_RETURN(registers, RegisterFiles(s.txn, from_ms, to_ms));
    // The period's days as the manifest and the reports name them (the company's zone).
    Report period;
    period.time_zone = m.config->server.time_zone;
    return Verdict::Allow(fmt::format("evidence bundle for {} .. {} ({})",
                                      ReportDay(period, from_ms), ReportDay(period, to_ms - 1),
                                      period.time_zone));
  }));
  CUSTOS_ASSIGN_OR_RETURN(audit::SignedTreeHead head, audit_->TreeHead(ctx));
  if (size_at_from < 0) size_at_from = head.tree_size;
  files.push_back({"audit/head.json", audit::TreeHeadJson(head)});
  CUSTOS_ASSIGN_OR_RETURN(audit::ConsistencyProof proof,
                          audit_->ProveConsistency(ctx, size_at_from, head.tree_size));
  files.push_back({"audit/consistency_from_period_start.json", audit::ConsistencyProofJson(proof)});
  for (BundleFile& f : registers) files.push_back(std::move(f));
  for (BundleFile& f : Certificates(m.dir, from_ms, to_ms)) files.push_back(std::move(f));
  Result<DoctorReport> doctor = doctor_->Last(ctx);
  if (doctor.ok()) files.push_back({"doctor.json", DoctorJsonOf(*doctor).dump(2) + "\n"});
  files.push_back({"config/custos.toml", RedactedConfig(ReadText(m.dir / kConfigFile))});
  const crypto::Bytes key = m.signing_key->PublicKeyBytes();
  const bool ed25519 = m.keyring->suite() != crypto::Suite::kSm4Gcm;
  files.push_back({"vault_public_key.hex", crypto::ToHex(key) + "\n"});
  if (ed25519) files.push_back({"vault_public_key.pem", Ed25519Pem(key)});
  files.push_back({"README.txt", std::string(kReadme)});

  std::string sums;
  nlohmann::json listed = nlohmann::json::array();
  EvidenceBundle out;
  for (const BundleFile& f : files) {
    const std::string digest = crypto::Sha256Hex(f.content);
    sums += digest + "  " + f.name + "\n";
    listed.push_back({{"name", f.name}, {"sha256", digest}, {"bytes", f.content.size()}});
    out.files.push_back(f.name);
  }
  nlohmann::json manifest;
  manifest["format"] = kManifestFormat;
  manifest["period"] = PeriodJson(m.config->server.time_zone, from_ms, to_ms);
  manifest["created_at_ms"] = m.Now();
  manifest["created_by"] = ctx.actor;
  manifest["audit_head"] = {{"tree_size", head.tree_size},
                            {"root_hash", crypto::ToHex(head.root_hash)}};
  manifest["files"] = listed;
  manifest["sha256sums"] = crypto::Sha256Hex(sums);
  manifest["signature"] = {{"suite", crypto::SuiteName(m.keyring->suite())},
                           {"algorithm", ed25519 ? "Ed25519" : "SM2 (SM3)"},
                           {"public_key", crypto::ToHex(key)},
                           {"signs", "the bytes of MANIFEST.json"}};
  out.manifest = manifest.dump(2) + "\n";
  const crypto::Bytes sig = m.signing_key->Sign(crypto::AsBytes(out.manifest));
  files.push_back({"SHA256SUMS", sums});
  out.files.push_back("SHA256SUMS");
  files.push_back({"MANIFEST.json", out.manifest});
  files.push_back({"MANIFEST.sig", std::string(sig.begin(), sig.end())});
  CUSTOS_ASSIGN_OR_RETURN(out.zip, WriteZip(files));
  return out;
}

EvidenceCheck VerifyEvidence(std::string_view zip, std::string_view expected_public_key_hex) {
  EvidenceCheck c;
  Result<std::map<std::string, std::string>> entries = ReadZip(zip);
  if (!entries.ok()) {
    c.problems.push_back(entries.status().message());
    return c;
  }
  const auto manifest_it = entries->find("MANIFEST.json");
  const auto sig_it = entries->find("MANIFEST.sig");
  if (manifest_it == entries->end() || sig_it == entries->end()) {
    c.problems.emplace_back("manifest: MANIFEST.json or MANIFEST.sig missing");
    return c;
  }
  const nlohmann::json manifest = nlohmann::json::parse(manifest_it->second, nullptr, false);
  if (manifest.is_discarded() || !manifest.is_object() ||
      manifest.value("format", "") != kManifestFormat || !manifest.contains("signature") ||
      !manifest["signature"].is_object() || !manifest.contains("files") ||
      !manifest["files"].is_array()) {
    c.problems.emplace_back("manifest: not a Custos evidence manifest");
    return c;
  }
  const std::string bundled_key = manifest["signature"].value("public_key", "");
  c.public_key =
      expected_public_key_hex.empty() ? bundled_key : std::string(expected_public_key_hex);
  if (!expected_public_key_hex.empty() && expected_public_key_hex != bundled_key) {
    c.problems.emplace_back("signature: the manifest names another public key than the one given");
  }
  Result<crypto::Suite> suite = crypto::ParseSuite(manifest["signature"].value("suite", ""));
  Result<crypto::Bytes> key = crypto::FromHex(c.public_key);
  if (!suite.ok() || !key.ok()) {
    c.problems.emplace_back("signature: the manifest's suite or public key is malformed");
  } else if (!crypto::VerifySignature(*suite, *key, crypto::AsBytes(manifest_it->second),
                                      crypto::AsBytes(sig_it->second))
                  .ok()) {
    c.problems.emplace_back("signature: MANIFEST.sig does not verify over MANIFEST.json");
  }
  std::map<std::string, bool> seen;
  for (const nlohmann::json& f : manifest["files"]) {
    if (!f.is_object()) continue;
    const std::string name = f.value("name", "");
    seen[name] = true;
    ++c.files;
    const auto it = entries->find(name);
    if (it == entries->end()) {
      c.problems.push_back(fmt::format("file {}: listed but missing", name));
    } else if (crypto::Sha256Hex(it->second) != f.value("sha256", "")) {
      c.problems.push_back(fmt::format("file {}: digest differs from the manifest", name));
    }
  }
  const auto sums = entries->find("SHA256SUMS");
  if (sums == entries->end() ||
      crypto::Sha256Hex(sums->second) != manifest.value("sha256sums", "")) {
    c.problems.emplace_back("file SHA256SUMS: missing or its digest differs from the manifest");
  }
  for (const auto& [name, content] : *entries) {
    if (name == "MANIFEST.json" || name == "MANIFEST.sig" || name == "SHA256SUMS") continue;
    if (!seen.count(name)) c.problems.push_back(fmt::format("file {}: not in the manifest", name));
  }
  c.ok = c.problems.empty();
  return c;
}

}  // namespace custos::vault
