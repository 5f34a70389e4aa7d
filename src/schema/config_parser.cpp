// ParseConfig: custos.toml text -> a validated Config. The rules are listed in config.h; each
// Read* function below reads one table and rejects anything it does not know.
#include <algorithm>
#include <array>
#include <exception>
#include <limits>
#include <string>

#include <fmt/format.h>
#include <toml++/toml.h>

#include "schema/config.h"
#include "schema/internal/backup_section.h"
#include "schema/internal/deid_section.h"
#include "schema/internal/ops_section.h"
#include "schema/internal/role_section.h"
#include "schema/internal/server_section.h"
#include "schema/internal/settings_sections.h"
#include "schema/internal/toml_section.h"

namespace custos::schema {
namespace {

using internal::TomlSection;

constexpr std::array<std::string_view, 20> kRootKeys = {
    "schema_version",   "keys",    "store", "audit",  "retention", "fields", "records", "purposes",
    "server",           "roles",   "posts", "backup", "lifecycle", "access", "deid",    "log",
    "subject_requests", "sharing", "ops",   "dpo"};
constexpr std::array<std::string_view, 8> kKeysKeys = {
    "suite",         "provider",     "keyfile",          "passphrase_env",
    "pkcs11_module", "pkcs11_token", "pkcs11_key_label", "pkcs11_pin_env"};
constexpr std::array<std::string_view, 5> kStoreKeys = {"backend", "path", "synchronous", "url",
                                                        "schema"};
constexpr std::array<std::string_view, 4> kAuditKeys = {"checkpoint_every", "head_file",
                                                        "witness_file", "read_journal"};
constexpr std::array<std::string_view, 4> kRetentionKeys = {"description", "event", "min", "max"};
constexpr std::array<std::string_view, 10> kFieldKeys = {
    "label",      "type",     "category",  "level", "pipl_sensitive",
    "searchable", "required", "validator", "mask",  "retention"};
constexpr std::array<std::string_view, 2> kRecordKeys = {"level", "retention"};
constexpr std::array<std::string_view, 3> kPurposeKeys = {"label", "description",
                                                          "legal_obligation"};
constexpr std::array<std::string_view, 3> kLevelNames = {
    LevelName(Level::kGeneral), LevelName(Level::kInternal), LevelName(Level::kConfidential)};

// Names become index-key ids, column names and purpose codes in audit entries, so they are
// plain identifiers: [a-z][a-z0-9_]{0,62}.
bool IsIdentifier(std::string_view name) {
  if (name.empty() || name.size() > 63) return false;
  if (name[0] < 'a' || name[0] > 'z') return false;
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
    if (!ok) return false;
  }
  return true;
}

Status CheckName(const TomlSection& entry, std::string_view name, std::string_view what) {
  if (IsIdentifier(name)) return Status::Ok();
  return entry.TableError(fmt::format(
      "{} name must match [a-z][a-z0-9_]{{0,62}} (lower case letters, digits, _)", what));
}

Result<Level> ReadLevel(const TomlSection& s) {
  CUSTOS_ASSIGN_OR_RETURN(std::string name, s.Choice("level", kLevelNames));
  return *ParseLevel(name);  // Choice guarantees a known name
}

Result<KeysConfig> ReadKeys(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kKeysKeys));
  KeysConfig k;
  CUSTOS_ASSIGN_OR_RETURN(k.suite, s.Choice("suite", kSuites, k.suite));
  CUSTOS_ASSIGN_OR_RETURN(k.provider, s.Choice("provider", kKeyProviders, k.provider));
  CUSTOS_ASSIGN_OR_RETURN(k.keyfile, s.String("keyfile", k.keyfile));
  CUSTOS_ASSIGN_OR_RETURN(k.passphrase_env, s.String("passphrase_env", k.passphrase_env));
  CUSTOS_ASSIGN_OR_RETURN(k.pkcs11_module, s.String("pkcs11_module", k.pkcs11_module));
  CUSTOS_ASSIGN_OR_RETURN(k.pkcs11_token, s.String("pkcs11_token", k.pkcs11_token));
  CUSTOS_ASSIGN_OR_RETURN(k.pkcs11_key_label, s.String("pkcs11_key_label", k.pkcs11_key_label));
  CUSTOS_ASSIGN_OR_RETURN(k.pkcs11_pin_env, s.String("pkcs11_pin_env", k.pkcs11_pin_env));
  if (k.provider == "pkcs11") {
    if (k.pkcs11_module.empty() || k.pkcs11_token.empty() || k.pkcs11_key_label.empty()) {
      return s.Error("provider", "'pkcs11' needs pkcs11_module, pkcs11_token and pkcs11_key_label");
    }
    // No SM4 mechanism is standard in PKCS#11 (vendors define their own): the HSM KEK is
    // AES-256-GCM, so the national-cryptography suite would not be national end to end.
    if (k.suite != "aes256gcm") {
      return s.Error("provider", "'pkcs11' supports suite 'aes256gcm' only");
    }
  }
  return k;
}

// True when a PostgreSQL connection string carries a password: a URL's user:password@ or
// ?password=, or a libpq `password=` keyword. The parser cannot ask libpq; the store checks
// again (CheckConninfo) with libpq's own parser.
bool HoldsPassword(std::string_view url) {
  for (std::string_view scheme : {"postgresql://", "postgres://"}) {
    if (url.substr(0, scheme.size()) != scheme) continue;
    std::string_view rest = url.substr(scheme.size());
    const std::string_view authority = rest.substr(0, rest.find_first_of("/?"));
    const size_t at = authority.rfind('@');
    if (at != std::string_view::npos &&
        authority.substr(0, at).find(':') != std::string_view::npos) {
      return true;
    }
    const size_t query = rest.find('?');
    if (query == std::string_view::npos) return false;
    const std::string_view params = rest.substr(query);
    return params.find("?password=") != std::string_view::npos ||
           params.find("&password=") != std::string_view::npos;
  }
  for (size_t pos = url.find("password"); pos != std::string_view::npos;
       pos = url.find("password", pos + 1)) {
    const bool starts_word = pos == 0 || url[pos - 1] == ' ' || url[pos - 1] == '\t';
    size_t after = pos + 8;
    while (after < url.size() && (url[after] == ' ' || url[after] == '\t')) ++after;
    if (starts_word && after < url.size() && url[after] == '=') return true;
  }
  return false;
}

bool ValidSchemaName(std::string_view name) {
  if (name.empty() || name.size() > 63 || (name.front() >= '0' && name.front() <= '9')) {
    return false;
  }
  return std::all_of(name.begin(), name.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_';
  });
}

Result<StoreConfig> ReadStore(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kStoreKeys));
  StoreConfig c;
  CUSTOS_ASSIGN_OR_RETURN(c.backend, s.Choice("backend", kStoreBackends, c.backend));
  CUSTOS_ASSIGN_OR_RETURN(c.path, s.String("path", c.path));
  CUSTOS_ASSIGN_OR_RETURN(c.synchronous, s.Choice("synchronous", kSynchronousModes, c.synchronous));
  CUSTOS_ASSIGN_OR_RETURN(c.url, s.String("url", c.url));
  CUSTOS_ASSIGN_OR_RETURN(c.schema, s.String("schema", c.schema));
  if (c.backend != "postgres") {
    if (s.Has("url")) return s.Error("url", "only used with backend = \"postgres\"");
    return c;
  }
  if (c.url.empty()) {
    return s.Error("backend", "postgres needs url = \"postgresql://user@host:port/database\"");
  }
  // Never quotes the URL: it may hold the password it is refused for.
  if (HoldsPassword(c.url)) {
    return s.Error("url",
                   "must not contain a password; set PGPASSWORD or use a password "
                   "file (~/.pgpass)");
  }
  if (!ValidSchemaName(c.schema)) {
    return s.Error("schema",
                   "lower-case letters, digits and '_', not starting with a digit, "
                   "at most 63 characters");
  }
  return c;
}

Result<AuditConfig> ReadAudit(const TomlSection& s) {
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kAuditKeys));
  AuditConfig a;
  CUSTOS_ASSIGN_OR_RETURN(
      int64_t every,
      s.Integer("checkpoint_every", 1, std::numeric_limits<uint32_t>::max(), a.checkpoint_every));
  a.checkpoint_every = static_cast<uint32_t>(every);
  CUSTOS_ASSIGN_OR_RETURN(a.head_file, s.String("head_file", a.head_file));
  CUSTOS_ASSIGN_OR_RETURN(a.witness_file, s.String("witness_file", a.witness_file));
  if (s.Has("read_journal")) {
    CUSTOS_ASSIGN_OR_RETURN(a.read_journal, s.Bool("read_journal", false));
  }
  return a;
}

Result<RetentionPeriod> ReadPeriod(const TomlSection& s, std::string_view key) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, s.String(key));
  Result<RetentionPeriod> period = ParseRetentionPeriod(text);
  if (!period.ok()) return s.Error(key, period.status().message());
  return period;
}

// Audit entries are never destroyed by the sweep: their class is a floor counted per entry.
Status CheckAuditClass(const TomlSection& s, const RetentionClassDef& r) {
  if (r.name == "audit") {
    if (r.event != "entry_written") {
      return s.Error("event", "the audit class counts from \"entry_written\"");
    }
    if (r.max.has_value()) {
      return s.Error("max",
                     "the audit class has no ceiling: the sweep never destroys audit "
                     "entries");
    }
  } else if (r.event == "entry_written") {
    return s.Error("event", "\"entry_written\" is only for the audit class");
  }
  if (r.name == "consent" && !IsOneOf(r.event, kCustomerEvents)) {
    return s.Error("event",
                   "consent evidence counts from a customer event (collection, "
                   "last_activity, last_transaction, account_closure, "
                   "consent_withdrawal)");
  }
  return Status::Ok();
}

Result<std::vector<RetentionClassDef>> ReadRetention(const TomlSection& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto entries, s.NamedTables());
  if (entries.empty()) return s.TableError("at least one retention class is required");
  std::vector<RetentionClassDef> out;
  for (const auto& [name, entry] : entries) {
    CUSTOS_RETURN_IF_ERROR(CheckName(entry, name, "a retention class"));
    CUSTOS_RETURN_IF_ERROR(entry.RejectUnknownKeys(kRetentionKeys));
    RetentionClassDef r;
    r.name = name;
    CUSTOS_ASSIGN_OR_RETURN(r.description, entry.String("description"));
    CUSTOS_ASSIGN_OR_RETURN(r.event, entry.Choice("event", kRetentionEvents));
    CUSTOS_ASSIGN_OR_RETURN(r.min, ReadPeriod(entry, "min"));
    if (entry.Has("max")) {
      CUSTOS_ASSIGN_OR_RETURN(RetentionPeriod max, ReadPeriod(entry, "max"));
      if (max.ApproxDays() < r.min.ApproxDays()) {
        return entry.Error("max",
                           "must not be below min (the policy ceiling cannot be "
                           "shorter than the statutory floor)");
      }
      r.max = max;
    }
    CUSTOS_RETURN_IF_ERROR(CheckAuditClass(entry, r));
    out.push_back(std::move(r));
  }
  for (std::string_view required : {"consent", "audit"}) {
    const bool declared = std::any_of(
        out.begin(), out.end(), [&](const RetentionClassDef& r) { return r.name == required; });
    if (!declared) {
      return s.TableError(
          fmt::format("a retention class named '{}' is required (every record "
                      "kind has a rule, docs/retention.md)",
                      required));
    }
  }
  return out;
}

// The event of the class named by a field or record kind must be one that kind of data has.
Status CheckRetentionEvent(const TomlSection& s, const std::vector<RetentionClassDef>& classes,
                           std::string_view class_name, std::string_view own_event) {
  for (const RetentionClassDef& c : classes) {
    if (c.name != class_name) continue;
    if (IsOneOf(c.event, kCustomerEvents) || c.event == own_event) return Status::Ok();
    return s.Error("retention",
                   fmt::format("class '{}' counts from event '{}', which this data does not "
                               "have (allowed: collection, last_activity, last_transaction, "
                               "account_closure, consent_withdrawal{}{})",
                               c.name, c.event, own_event.empty() ? "" : ", ", own_event));
  }
  return Status::Ok();
}

// The `retention` key of a field or record kind: a class declared in [retention].
Result<std::string> ReadRetentionRef(const TomlSection& s,
                                     const std::vector<RetentionClassDef>& classes) {
  CUSTOS_ASSIGN_OR_RETURN(std::string name, s.String("retention"));
  std::vector<std::string_view> declared;
  declared.reserve(classes.size());
  for (const RetentionClassDef& c : classes) declared.push_back(c.name);
  if (std::find(declared.begin(), declared.end(), name) == declared.end()) {
    return s.Error("retention", fmt::format("must name a class declared in [retention] ({})",
                                            internal::JoinNames(declared)));
  }
  return name;
}

// A password is stored only as an Argon2id hash (P2.2 names account passwords confidential):
// there is nothing to index or to show, even partly.
Status CheckPassword(const FieldDef& f, const TomlSection& s) {
  if (f.type != FieldType::kPassword) return Status::Ok();
  if (f.searchable) {
    return s.Error("searchable",
                   "a password field cannot be searchable (it is stored only "
                   "as a hash)");
  }
  if (f.mask != "full") return s.Error("mask", "a password field must use mask \"full\"");
  if (f.level != Level::kConfidential) {
    return s.Error("level", "a password field must be confidential (P2.2)");
  }
  return Status::Ok();
}

Result<FieldDef> ReadField(const std::string& name, const TomlSection& s,
                           const std::vector<RetentionClassDef>& classes) {
  CUSTOS_RETURN_IF_ERROR(CheckName(s, name, "a field"));
  CUSTOS_RETURN_IF_ERROR(s.RejectUnknownKeys(kFieldKeys));
  FieldDef f;
  f.name = name;
  CUSTOS_ASSIGN_OR_RETURN(f.label, s.String("label"));
  CUSTOS_ASSIGN_OR_RETURN(std::string type, s.Choice("type", kFieldTypeNames));
  f.type = *ParseFieldType(type);  // Choice guarantees a known name
  CUSTOS_ASSIGN_OR_RETURN(f.category, s.Choice("category", kCategories));
  CUSTOS_ASSIGN_OR_RETURN(f.level, ReadLevel(s));
  CUSTOS_ASSIGN_OR_RETURN(f.pipl_sensitive, s.Bool("pipl_sensitive", false));
  CUSTOS_ASSIGN_OR_RETURN(f.searchable, s.Bool("searchable", false));
  CUSTOS_ASSIGN_OR_RETURN(f.required, s.Bool("required", false));
  CUSTOS_ASSIGN_OR_RETURN(f.validator, s.Choice("validator", kValidatorNames, "none"));
  CUSTOS_ASSIGN_OR_RETURN(f.mask, s.Choice("mask", kMaskRules, "full"));
  CUSTOS_ASSIGN_OR_RETURN(f.retention_class, ReadRetentionRef(s, classes));
  CUSTOS_RETURN_IF_ERROR(CheckRetentionEvent(s, classes, f.retention_class, ""));
  CUSTOS_RETURN_IF_ERROR(CheckPassword(f, s));
  return f;
}

Result<std::vector<FieldDef>> ReadFields(const TomlSection& s,
                                         const std::vector<RetentionClassDef>& classes) {
  // Duplicate names cannot get this far: TOML itself rejects a table defined twice.
  CUSTOS_ASSIGN_OR_RETURN(auto entries, s.NamedTables());
  if (entries.empty()) return s.TableError("at least one field is required");
  std::vector<FieldDef> out;
  for (const auto& [name, entry] : entries) {
    CUSTOS_ASSIGN_OR_RETURN(FieldDef f, ReadField(name, entry, classes));
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::vector<RecordKindDef>> ReadRecords(const TomlSection& s,
                                               const std::vector<RetentionClassDef>& classes) {
  CUSTOS_ASSIGN_OR_RETURN(auto entries, s.NamedTables());
  std::vector<RecordKindDef> out;
  for (const auto& [name, entry] : entries) {
    if (!IsOneOf(name, kRecordKinds)) {
      return s.Error(name, fmt::format("unknown record kind (expected one of {})",
                                       internal::JoinNames(kRecordKinds)));
    }
    CUSTOS_RETURN_IF_ERROR(entry.RejectUnknownKeys(kRecordKeys));
    RecordKindDef r;
    r.name = name;
    CUSTOS_ASSIGN_OR_RETURN(r.level, ReadLevel(entry));
    CUSTOS_ASSIGN_OR_RETURN(r.retention_class, ReadRetentionRef(entry, classes));
    CUSTOS_RETURN_IF_ERROR(
        CheckRetentionEvent(entry, classes, r.retention_class,
                            name == "transaction" ? "transaction_completed" : "note_created"));
    out.push_back(std::move(r));
  }
  // Every kind the vault stores must be classified (P2.2); none may fall back to a default.
  for (std::string_view kind : kRecordKinds) {
    if (!s.Has(kind)) {
      return s.Error(kind, "missing (every record kind needs a level and a retention class)");
    }
  }
  return out;
}

Result<std::vector<PurposeDef>> ReadPurposes(const TomlSection& s) {
  CUSTOS_ASSIGN_OR_RETURN(auto entries, s.NamedTables());
  if (entries.empty()) return s.TableError("at least one purpose is required (P3.3a)");
  std::vector<PurposeDef> out;
  for (const auto& [name, entry] : entries) {
    CUSTOS_RETURN_IF_ERROR(CheckName(entry, name, "a purpose"));
    CUSTOS_RETURN_IF_ERROR(entry.RejectUnknownKeys(kPurposeKeys));
    PurposeDef p;
    p.name = name;
    CUSTOS_ASSIGN_OR_RETURN(p.label, entry.String("label"));
    CUSTOS_ASSIGN_OR_RETURN(p.description, entry.String("description"));
    CUSTOS_ASSIGN_OR_RETURN(p.legal_obligation, entry.Bool("legal_obligation", false));
    out.push_back(std::move(p));
  }
  return out;
}

Result<Config> ReadConfig(const TomlSection& root) {
  CUSTOS_RETURN_IF_ERROR(root.RejectUnknownKeys(kRootKeys));
  Config c;
  CUSTOS_ASSIGN_OR_RETURN(int64_t version,
                          root.Integer("schema_version", 1, std::numeric_limits<uint32_t>::max()));
  c.schema_version = static_cast<uint32_t>(version);

  CUSTOS_ASSIGN_OR_RETURN(TomlSection keys, root.Table("keys", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.keys, ReadKeys(keys));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection store, root.Table("store", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.store, ReadStore(store));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection audit, root.Table("audit", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.audit, ReadAudit(audit));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection server, root.Table("server", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.server, internal::ReadServerSection(server));

  CUSTOS_ASSIGN_OR_RETURN(TomlSection retention, root.Table("retention", /*required=*/true));
  CUSTOS_ASSIGN_OR_RETURN(c.retention_classes, ReadRetention(retention));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection fields, root.Table("fields", /*required=*/true));
  CUSTOS_ASSIGN_OR_RETURN(c.fields, ReadFields(fields, c.retention_classes));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection records, root.Table("records", /*required=*/true));
  CUSTOS_ASSIGN_OR_RETURN(c.records, ReadRecords(records, c.retention_classes));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection purposes, root.Table("purposes", /*required=*/true));
  CUSTOS_ASSIGN_OR_RETURN(c.purposes, ReadPurposes(purposes));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection roles, root.Table("roles", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.roles, internal::ReadRoles(roles, c.purposes));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection posts, root.Table("posts", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.posts, internal::ReadPosts(posts, c.roles));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection backup, root.Table("backup", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.backup, internal::ReadBackupSection(backup));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection lifecycle, root.Table("lifecycle", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.lifecycle, internal::ReadLifecycleSection(lifecycle));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection requests, root.Table("subject_requests", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.subject_requests, internal::ReadSubjectRequestsSection(requests));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection access, root.Table("access", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.access, internal::ReadAccessSection(access));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection sharing, root.Table("sharing", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.sharing, internal::ReadSharingSection(sharing));
  // [log] is the server's (log_config.h): checked here, read by ReadLogConfig.
  CUSTOS_ASSIGN_OR_RETURN(TomlSection log, root.Table("log", /*required=*/false));
  CUSTOS_RETURN_IF_ERROR(internal::ReadLogSection(log).status());
  CUSTOS_RETURN_IF_ERROR(internal::CheckSeparation(posts, access, c));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection ops, root.Table("ops", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.ops, internal::ReadOpsSection(ops, c));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection dpo, root.Table("dpo", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.dpo, internal::ReadDpoSection(dpo));
  CUSTOS_ASSIGN_OR_RETURN(TomlSection deid, root.Table("deid", /*required=*/false));
  CUSTOS_ASSIGN_OR_RETURN(c.deid_profiles, internal::ReadDeidProfiles(deid, c));
  return c;
}

}  // namespace

Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name) {
  // toml++ reports through exceptions; none may leave the component.
  try {
    const toml::table root = toml::parse(toml_text, source_name);
    CUSTOS_ASSIGN_OR_RETURN(Config config, ReadConfig(TomlSection(source_name, root, "", 1)));
    config.source_path = std::filesystem::path(source_name);
    return config;
  } catch (const toml::parse_error& e) {
    return InvalidArgument(fmt::format("{}:{}:{}: TOML syntax error: {}", source_name,
                                       e.source().begin.line, e.source().begin.column,
                                       e.description()));
  } catch (const std::exception& e) {
    return Internal(fmt::format("{}: cannot parse: {}", source_name, e.what()));
  }
}

Result<LogConfig> ReadLogConfig(std::string_view toml_text, std::string_view source_name) {
  try {
    const toml::table root = toml::parse(toml_text, source_name);
    const TomlSection top(source_name, root, "", 1);
    CUSTOS_ASSIGN_OR_RETURN(TomlSection log, top.Table("log", /*required=*/false));
    return internal::ReadLogSection(log);
  } catch (const toml::parse_error& e) {
    return InvalidArgument(fmt::format("{}:{}:{}: TOML syntax error: {}", source_name,
                                       e.source().begin.line, e.source().begin.column,
                                       e.description()));
  } catch (const std::exception& e) {
    return Internal(fmt::format("{}: cannot parse: {}", source_name, e.what()));
  }
}

}  // namespace custos::schema
