// Wiring: the one place that creates and opens a vault (config, keys, store, audit).
#include <fmt/format.h>
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <initializer_list>
#include <system_error>

#include "access/token.h"
#include "audit/journal_store.h"
#include "audit/tree_nodes.h"
#include "consent/consent.h"
#include "core/env.h"
#include "crypto/key_provider.h"
#include "crypto/pkcs11_provider.h"
#include "store/postgres_store.h"
#include "store/sqlite_store.h"
#include "vault/admission.h"
#include "vault/audit_journals.h"
#include "vault/journal_folder.h"
#include "vault/kek_state.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMetaVaultId = "vault_id";
constexpr std::string_view kMetaSuite = "suite";
constexpr std::string_view kMetaProvider = "kek_provider";
constexpr std::string_view kMetaSalt = "kek_salt";
constexpr std::string_view kMetaPublicKey = "signing_public_key";
// The administrator's first token lasts long enough to set up staff, then should be revoked.
constexpr int64_t kInitTokenTtlMs = 30LL * 24 * 3600 * 1000;

int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

crypto::ByteView View(std::string_view s) { return crypto::AsBytes(s); }

std::string ToString(const crypto::Bytes& b) { return std::string(b.begin(), b.end()); }

// The HSM's settings from [keys]; the PIN from the caller or the environment.
crypto::Pkcs11Options Pkcs11OptionsFor(const schema::Config& config, std::string_view pin) {
  crypto::Pkcs11Options o;
  o.module = config.keys.pkcs11_module;
  o.token_label = config.keys.pkcs11_token;
  o.key_label_prefix = config.keys.pkcs11_key_label;
  o.pin = std::string(pin);
  if (o.pin.empty()) {
    if (const char* env = std::getenv(config.keys.pkcs11_pin_env.c_str())) o.pin = env;
  }
  return o;
}

Result<std::unique_ptr<crypto::KeyProvider>> OpenProvider(const schema::Config& config,
                                                          const fs::path& dir,
                                                          std::string_view passphrase,
                                                          crypto::ByteView salt, bool create,
                                                          uint32_t active_kek_version = 1,
                                                          std::string_view pkcs11_pin = {}) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(config.keys.suite));
  if (config.keys.provider == "pkcs11") {
    const crypto::Pkcs11Options o = Pkcs11OptionsFor(config, pkcs11_pin);
    if (o.pin.empty()) {
      return InvalidArgument(fmt::format(
          "keys.provider 'pkcs11': set the token's user PIN in the environment variable {}",
          config.keys.pkcs11_pin_env));
    }
    return create ? crypto::CreatePkcs11Provider(o)
                  : crypto::OpenPkcs11Provider(o, active_kek_version);
  }
  if (config.keys.provider == "keyfile") {
    const fs::path keyfile = dir / config.keys.keyfile;
    return create ? crypto::CreateKeyfileProvider(keyfile, suite)
                  : crypto::OpenKeyfileProvider(keyfile, suite, active_kek_version);
  }
  if (config.keys.provider == "passphrase") {
    if (passphrase.empty()) {
      return InvalidArgument(fmt::format(
          "keys.provider 'passphrase': set the passphrase in the environment variable {}",
          config.keys.passphrase_env));
    }
    return crypto::OpenPassphraseProvider(passphrase, salt, suite);
  }
  return InvalidArgument(fmt::format("keys.provider '{}': unknown", config.keys.provider));
}

// The backend named by [store]. On PostgreSQL the vault directory keeps the config, the
// keyfile and the audit head file; the rows live in the server's schema. Creating a vault
// there refuses a schema that already holds one (init must never adopt another vault's rows).
Result<std::unique_ptr<store::Store>> OpenStore(const schema::Config& config, const fs::path& dir,
                                                bool create) {
  if (config.store.backend == "postgres") {
    store::PostgresOptions opt;
    opt.conninfo = config.store.url;
    opt.schema = config.store.schema;
    opt.create_if_missing = create;
    CUSTOS_ASSIGN_OR_RETURN(auto pg, store::OpenPostgresStore(opt));
    if (create) {
      CUSTOS_ASSIGN_OR_RETURN(auto txn, pg->Begin());
      CUSTOS_ASSIGN_OR_RETURN(auto existing, txn->GetMeta(kMetaVaultId));
      if (existing.has_value()) {
        return Conflict(fmt::format(
            "PostgreSQL schema '{}' already holds a vault; choose another [store] schema or "
            "database",
            config.store.schema));
      }
    }
    return pg;
  }
  store::SqliteOptions opt;
  opt.create_if_missing = create;
  opt.synchronous = config.store.synchronous;
  return store::OpenSqliteStore(dir / config.store.path, opt);
}

Result<std::unique_ptr<audit::AuditLog>> OpenAudit(const schema::Config& config,
                                                   const fs::path& dir, crypto::Suite suite,
                                                   const crypto::SigningKey* key,
                                                   crypto::Bytes public_key, Clock clock) {
  audit::AuditOptions opt;
  opt.suite = suite;
  opt.signing_key = key;
  opt.public_key = std::move(public_key);
  opt.checkpoint_every = config.audit.checkpoint_every;
  opt.head_file = dir / config.audit.head_file;
  if (!config.audit.witness_file.empty()) opt.witness_file = dir / config.audit.witness_file;
  // The audit journals of a SQLite vault (audit/journal.h), folded by every writer and reader
  // whether or not this process journals its own reads ([audit] read_journal). PostgreSQL
  // keeps every entry in the database: hosts sharing it cannot share a local directory.
  if (config.store.backend != "postgres") opt.journal_dir = dir / kJournalDir;
  opt.now_ms = std::move(clock);
  return audit::AuditLog::Open(opt);
}

// Values written into custos.toml as TOML basic strings: no quotes, backslashes or control
// characters (which could end the string and add keys).
Status CheckConfigText(std::string_view what, std::initializer_list<std::string_view> values) {
  for (std::string_view value : values) {
    for (char ch : value) {
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) {
        return InvalidArgument(
            fmt::format("{}: must not contain quotes, backslashes or control characters", what));
      }
    }
  }
  return Status::Ok();
}

// The suite name in the shipped default is replaced when init is asked for another suite.
Result<std::string> ConfigTextForSuite(std::string_view suite) {
  std::string text(schema::DefaultConfigToml());
  if (suite == "aes256gcm") return text;
  const std::string from = "suite = \"aes256gcm\"";
  const size_t pos = text.find(from);
  if (pos == std::string::npos) return Internal("default config has no suite line");
  text.replace(pos, from.size(), fmt::format("suite = \"{}\"", suite));
  return text;
}

// Init refuses a directory that holds anything; creates it owner-only otherwise.
Status PrepareVaultDir(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / kConfigFile, ec)) {
    return Conflict(fmt::format("{} already holds a vault", dir.string()));
  }
  if (fs::exists(dir, ec) && !fs::is_empty(dir, ec)) {
    return Conflict(
        fmt::format("{} is not empty; init needs an empty or new directory", dir.string()));
  }
  fs::create_directories(dir, ec);
  if (ec) return Unavailable(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  ::chmod(dir.c_str(), 0700);
  return Status::Ok();
}

// Replaces `from` in the default config text by `to`; Internal if the default lacks it.
Status ReplaceLine(std::string& text, std::string_view from, std::string_view to,
                   std::string_view what) {
  const size_t pos = text.find(from);
  if (pos == std::string::npos) return Internal(fmt::format("default config has no {} line", what));
  text.replace(pos, from.size(), to);
  return Status::Ok();
}

// The custos.toml init writes: the shipped default with the suite, provider and store asked.
Result<std::string> InitConfigText(const InitOptions& options, crypto::Suite suite) {
  CUSTOS_ASSIGN_OR_RETURN(std::string text, ConfigTextForSuite(crypto::SuiteName(suite)));
  if (options.provider != "keyfile") {
    CUSTOS_RETURN_IF_ERROR(ReplaceLine(text, "provider = \"keyfile\"",
                                       fmt::format("provider = \"{}\"", options.provider),
                                       "provider"));
  }
  if (options.provider == "pkcs11") {
    CUSTOS_RETURN_IF_ERROR(
        CheckConfigText("pkcs11 module/token/key label",
                        {options.pkcs11_module, options.pkcs11_token, options.pkcs11_key_label}));
    CUSTOS_RETURN_IF_ERROR(ReplaceLine(
        text, "pkcs11_key_label = \"custos-kek\"",
        fmt::format("pkcs11_module = \"{}\"\npkcs11_token = \"{}\"\n"
                    "pkcs11_key_label = \"{}\"",
                    options.pkcs11_module, options.pkcs11_token, options.pkcs11_key_label),
        "pkcs11_key_label"));
  }
  if (!options.store_url.empty()) {
    // Quoted as a TOML basic string; the parser then refuses a password in it.
    CUSTOS_RETURN_IF_ERROR(
        CheckConfigText("store url/schema", {options.store_url, options.store_schema}));
    CUSTOS_RETURN_IF_ERROR(
        ReplaceLine(text, "backend = \"sqlite\"",
                    fmt::format("backend = \"postgres\"\nurl = \"{}\"\nschema = \"{}\"",
                                options.store_url, options.store_schema),
                    "backend"));
  }
  return text;
}

// The vault's metadata at init: id, suite, provider, salt, the KEK check, the index keys and
// the checkpoint signing key (wrapped).
Status PutInitialMeta(store::Transaction& txn, const schema::Config& config, crypto::Suite suite,
                      crypto::Keyring& keyring, const crypto::SigningKey& signing_key,
                      const crypto::Bytes& salt, std::string_view vault_id) {
  CUSTOS_RETURN_IF_ERROR(txn.PutMeta(kMetaVaultId, View(vault_id)));
  CUSTOS_RETURN_IF_ERROR(txn.PutMeta(kMetaSuite, View(crypto::SuiteName(suite))));
  CUSTOS_RETURN_IF_ERROR(txn.PutMeta(kMetaProvider, View(config.keys.provider)));
  CUSTOS_RETURN_IF_ERROR(txn.PutMeta(kMetaSalt, salt));
  crypto::SecretBytes check = crypto::RandomSecret(16);
  CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes wrapped_check,
                          keyring.provider().Wrap(check, View(kKekCheckAad)));
  CUSTOS_RETURN_IF_ERROR(txn.PutMeta(kMetaKekCheck, wrapped_check));
  for (const schema::FieldDef& def : config.fields) {
    if (!def.searchable) continue;
    CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes wrapped, keyring.NewIndexKey(def.name));
    CUSTOS_RETURN_IF_ERROR(txn.PutMeta(std::string(kIndexKeyPrefix) + def.name, wrapped));
  }
  CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes wrapped_sig, keyring.WrapSigningKey(signing_key));
  CUSTOS_RETURN_IF_ERROR(txn.PutMeta(kMetaSigningKey, wrapped_sig));
  return txn.PutMeta(kMetaPublicKey, signing_key.PublicKeyBytes());
}

// The first staff accounts (P4a): an administrator (manages staff and configuration, reads
// no customer data) and the DPO. Neither has a password yet; each gets a one-time API token,
// shown once by `custos init` and stored only as its hash. Returns the tokens' ids.
Result<std::vector<std::string>> CreateFirstStaff(store::Transaction& txn, int64_t now,
                                                  std::string_view dpo_password_hash,
                                                  InitReport& report) {
  std::vector<std::string> token_ids;
  for (auto [id, name, post, roles] :
       {std::tuple{"admin", "Administrator", "administrator", "admin"},
        std::tuple{"dpo", "Data protection officer", "data_protection_officer", "dpo"}}) {
    store::StaffRow staff;
    staff.staff_id = id;
    staff.display_name = name;
    staff.post = post;
    staff.roles = roles;
    staff.created_at_ms = now;
    CUSTOS_RETURN_IF_ERROR(txn.InsertStaff(staff));
    store::StaffCredentialRow cred;
    cred.staff_id = id;
    cred.updated_at_ms = now;
    if (std::string_view(id) == "dpo") cred.password_hash = std::string(dpo_password_hash);
    CUSTOS_RETURN_IF_ERROR(txn.PutStaffCredential(cred));
    report.staff.push_back(id);
    access::NewToken token = access::GenerateToken();
    store::ApiTokenRow token_row;
    token_row.token_id = NewId(now);
    token_row.staff_id = id;
    token_row.secret_sha256 = token.secret_sha256;
    token_row.label = "init";
    token_row.created_at_ms = now;
    token_row.expires_at_ms = now + kInitTokenTtlMs;
    CUSTOS_RETURN_IF_ERROR(txn.InsertApiToken(token_row));
    token_ids.push_back(token_row.token_id);
    if (std::string_view(id) == "admin") {
      report.admin_token = std::move(token.secret);
      report.admin_token_expires_at_ms = token_row.expires_at_ms;
    } else {
      report.dpo_token = std::move(token.secret);
    }
  }
  return token_ids;
}

// The first entries of the log ("vault.init", then "notice.manage"), and privacy notice
// version 1 (P3.1a): the shipped text (config/notice-v1.md), listing the catalogue's purposes
// that need consent, so customers can be created from the start. The vault has no state yet:
// the entries are appended to `log` directly, in the init transaction.
Status RecordInit(store::Transaction& txn, audit::AuditLog& log, const schema::Config& config,
                  crypto::Suite suite, const std::vector<std::string>& token_ids, int64_t now,
                  const InitReport& report) {
  Context system;
  system.actor = "system";
  system.purpose = std::string(kAdministrationPurpose);
  system.channel = Channel::kCli;
  CUSTOS_RETURN_IF_ERROR(log.Append(
      txn, EventFor(system, "vault.init", "vault:" + report.vault_id, "allow",
                    fmt::format("suite {}, provider {}; staff admin, dpo; one-time tokens {} "
                                "for admin, {} for dpo",
                                crypto::SuiteName(suite), config.keys.provider, token_ids.at(0),
                                token_ids.at(1)))));
  consent::NoticeDraft notice;
  notice.text = std::string(consent::ShippedNoticeText());
  for (const schema::PurposeDef& purpose : config.purposes) {
    if (!purpose.legal_obligation) notice.purposes.push_back(purpose.name);
  }
  CUSTOS_ASSIGN_OR_RETURN(store::NoticeRow published,
                          consent::PublishNotice(txn, config, notice, "dpo", now));
  return log.Append(
      txn, EventFor(system, "notice.manage", fmt::format("notice:{}", published.version), "allow",
                    fmt::format("published notice v{} sha256 {} listing {}", published.version,
                                published.text_sha256, published.purposes)));
}

}  // namespace

Result<std::unique_ptr<store::Store>> OpenVaultStore(const schema::Config& config,
                                                     const fs::path& dir, bool create) {
  return OpenStore(config, dir, create);
}

Result<std::unique_ptr<crypto::KeyProvider>> OpenVaultKeyProvider(const schema::Config& config,
                                                                  const fs::path& dir,
                                                                  std::string_view passphrase,
                                                                  crypto::ByteView salt) {
  return OpenProvider(config, dir, passphrase, salt, /*create=*/false);
}

Result<InitReport> Vault::Init(const InitOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(options.suite));
  const fs::path& dir = options.dir;
  CUSTOS_RETURN_IF_ERROR(PrepareVaultDir(dir));
  CUSTOS_ASSIGN_OR_RETURN(std::string text, InitConfigText(options, suite));
  const fs::path config_path = dir / kConfigFile;
  CUSTOS_ASSIGN_OR_RETURN(schema::Config parsed, schema::ParseConfig(text, config_path.string()));
  auto config = std::make_unique<schema::Config>(std::move(parsed));

  const crypto::Bytes salt = crypto::RandomBytes(16);
  CUSTOS_ASSIGN_OR_RETURN(auto provider, OpenProvider(*config, dir, options.passphrase, salt,
                                                      /*create=*/true, 1, options.pkcs11_pin));
  CUSTOS_ASSIGN_OR_RETURN(auto keyring, crypto::Keyring::New(suite, std::move(provider)));
  // custos.toml is owner-only (0600) whatever the umask (issue 12 item 9), and never left
  // half-written: a temporary file, fsynced, linked into place, the directory fsynced.
  if (Status st = Env::Default().CreateFileAtomic(config_path, text, 0600); !st.ok()) {
    return Unavailable(fmt::format("cannot write {}: {}", config_path.string(), st.message()));
  }
  CUSTOS_ASSIGN_OR_RETURN(auto store, OpenStore(*config, dir, /*create=*/true));
  CUSTOS_ASSIGN_OR_RETURN(auto signing_key, crypto::SigningKey::Generate(suite));
  Clock clock = options.now_ms ? options.now_ms : Clock(SystemNowMs);
  const int64_t now = clock();

  InitReport report;
  report.vault_id = NewId(now);
  report.config_path = config_path;
  report.db_path = dir / config->store.path;
  if (config->keys.provider == "keyfile") report.keyfile_path = dir / config->keys.keyfile;

  CUSTOS_ASSIGN_OR_RETURN(auto txn, store->Begin());
  CUSTOS_RETURN_IF_ERROR(
      PutInitialMeta(*txn, *config, suite, *keyring, *signing_key, salt, report.vault_id));
  // Every customer's DEK is wrapped under an epoch key (issue 23): the store and epoch 1.
  if (!options.TEST_no_epochs) {
    CUSTOS_RETURN_IF_ERROR(InitEpochKeys(dir, report.vault_id, *keyring, *txn, now));
  }
  CUSTOS_ASSIGN_OR_RETURN(std::vector<std::string> token_ids,
                          CreateFirstStaff(*txn, now, options.TEST_dpo_password_hash, report));
  CUSTOS_ASSIGN_OR_RETURN(auto log, OpenAudit(*config, dir, suite, signing_key.get(),
                                              signing_key->PublicKeyBytes(), clock));
  CUSTOS_RETURN_IF_ERROR(RecordInit(*txn, *log, *config, suite, token_ids, now, report));
  CUSTOS_RETURN_IF_ERROR(txn->Commit());
  // The vault's first signed head; from now on heads only move forward (SealHead).
  CUSTOS_RETURN_IF_ERROR(log->CreateHead(*store));
  return report;
}

namespace {

// The suite custos.toml names must be the one the vault was created with.
Status CheckStoredSuite(store::Transaction& txn, crypto::Suite suite, const fs::path& config_path) {
  CUSTOS_ASSIGN_OR_RETURN(auto stored_suite, txn.GetMeta(kMetaSuite));
  if (!stored_suite.has_value()) return DataLoss("vault metadata has no suite");
  if (ToString(*stored_suite) != crypto::SuiteName(suite)) {
    return FailedPrecondition(fmt::format(
        "{}: keys.suite is '{}' but the vault was created with '{}'; the suite cannot change",
        config_path.string(), crypto::SuiteName(suite), ToString(*stored_suite)));
  }
  return Status::Ok();
}

// The KEK provider and the keyring, at the active KEK version (after a rotation a later one:
// docs/keys.md); DataLoss when the KEK does not open the vault's key check.
Status OpenKeyring(VaultState& impl, store::Transaction& txn, const OpenOptions& options,
                   crypto::Suite suite) {
  CUSTOS_ASSIGN_OR_RETURN(auto salt, txn.GetMeta(kMetaSalt));
  CUSTOS_ASSIGN_OR_RETURN(const uint32_t kek_version, ReadActiveKekVersion(txn));
  CUSTOS_ASSIGN_OR_RETURN(
      auto provider,
      OpenProvider(*impl.config, options.dir, options.passphrase, salt.value_or(crypto::Bytes{}),
                   /*create=*/false, kek_version, options.pkcs11_pin));
  CUSTOS_ASSIGN_OR_RETURN(impl.keyring, crypto::Keyring::New(suite, std::move(provider)));
  CUSTOS_ASSIGN_OR_RETURN(auto check, txn.GetMeta(kMetaKekCheck));
  if (!check.has_value()) return DataLoss("vault metadata has no key check");
  if (!impl.keyring->provider().Unwrap(*check, View(kKekCheckAad)).ok()) {
    return DataLoss(
        "the key-encryption key does not open this vault (wrong keyfile or passphrase)");
  }
  return Status::Ok();
}

// Loads the index key of every searchable field; a field made searchable after init gets its
// key now (records stored before have no token for it until they are updated:
// docs/configuration.md). Returns whether a key was added (written in txn).
Result<bool> LoadIndexKeys(VaultState& impl, store::Transaction& txn) {
  bool added = false;
  for (const schema::FieldDef& def : impl.config->fields) {
    if (!def.searchable) continue;
    const std::string meta_key = std::string(kIndexKeyPrefix) + def.name;
    CUSTOS_ASSIGN_OR_RETURN(auto wrapped, txn.GetMeta(meta_key));
    if (wrapped.has_value()) {
      CUSTOS_RETURN_IF_ERROR(impl.keyring->LoadIndexKey(def.name, *wrapped));
    } else {
      CUSTOS_ASSIGN_OR_RETURN(crypto::Bytes fresh, impl.keyring->NewIndexKey(def.name));
      CUSTOS_RETURN_IF_ERROR(txn.PutMeta(meta_key, fresh));
      added = true;
    }
  }
  return added;
}

// The checkpoint signing key and the audit log.
Status OpenAuditLog(VaultState& impl, store::Transaction& txn, crypto::Suite suite) {
  CUSTOS_ASSIGN_OR_RETURN(auto wrapped_sig, txn.GetMeta(kMetaSigningKey));
  CUSTOS_ASSIGN_OR_RETURN(auto public_key, txn.GetMeta(kMetaPublicKey));
  if (!wrapped_sig.has_value() || !public_key.has_value()) {
    return DataLoss("vault metadata has no checkpoint signing key");
  }
  CUSTOS_ASSIGN_OR_RETURN(impl.signing_key, impl.keyring->UnwrapSigningKey(*wrapped_sig));
  CUSTOS_ASSIGN_OR_RETURN(impl.audit, OpenAudit(*impl.config, impl.dir, suite,
                                                impl.signing_key.get(), *public_key, impl.now_ms));
  return Status::Ok();
}

// The keys and the audit log, read in one transaction; an index key added is committed with
// its entry "config.index_key_added" (the vault's own operation, Basis::kSystem).
Status OpenKeysAndAudit(VaultState& impl, const OpenOptions& options, crypto::Suite suite) {
  CUSTOS_ASSIGN_OR_RETURN(auto txn, impl.store->Begin());
  CUSTOS_RETURN_IF_ERROR(CheckStoredSuite(*txn, suite, options.dir / kConfigFile));
  CUSTOS_RETURN_IF_ERROR(OpenKeyring(impl, *txn, options, suite));
  CUSTOS_ASSIGN_OR_RETURN(bool added_index_key, LoadIndexKeys(impl, *txn));
  CUSTOS_RETURN_IF_ERROR(OpenAuditLog(impl, *txn, suite));
  if (!added_index_key) return Status::Ok();  // nothing written: the transaction is dropped
  Context system;
  system.actor = "system";
  system.purpose = std::string(kAdministrationPurpose);
  system.channel = Channel::kJob;
  return CommitOutcome(impl, *txn, system,
                       Operation{schema::Action::kConfigIndexKeyAdded, "vault", Basis::kSystem},
                       Verdict::Allow("searchable field without an index key"));
}

// The read journal ([audit] read_journal, or OpenOptions::journal_reads when custos.toml leaves
// it unset): this process's journal, its background fold on the `unwrapped` store, and the
// group commit's journalled path. Nothing when the reads are not journalled.
Status StartReadJournal(VaultState& impl, store::Store& unwrapped, const OpenOptions& options) {
  // Set in custos.toml, or the process's default on SQLite (the journal directory is SQLite's).
  const std::optional<bool>& configured = impl.config->audit.read_journal;
  const bool sqlite = !impl.audit->options().journal_dir.empty();
  if (!configured.value_or(options.journal_reads && sqlite)) return Status::Ok();
  if (!sqlite) {
    return FailedPrecondition(
        "[audit] read_journal: needs the sqlite store (PostgreSQL keeps every entry in the "
        "database)");
  }
  CUSTOS_ASSIGN_OR_RETURN(impl.journal, impl.audit->NewJournal());
  impl.folder =
      std::make_unique<JournalFolder>(unwrapped, *impl.audit, *impl.journal, JournalFolder::kEvery);
  // A thread that may not wait (no_wait.h) leaves the fold to the background and to the
  // threads that may: it declines its reads while the fold is behind.
  JournalFolder* folder = impl.folder.get();
  impl.reads->SetJournal(
      impl.journal.get(), impl.now_ms,
      [folder](bool may_wait) {
        if (may_wait) folder->KeepUp();
      },
      [folder] { return folder->Behind(); });
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Vault>> Vault::Open(const OpenOptions& options) {
  const fs::path config_path = options.dir / kConfigFile;
  std::error_code ec;
  if (!fs::exists(config_path, ec)) {
    return NotFound(fmt::format("{} holds no vault (no {}); run `custos init {}` first",
                                options.dir.string(), kConfigFile, options.dir.string()));
  }
  auto impl = std::make_unique<VaultState>();
  impl->dir = options.dir;
  impl->now_ms = options.now_ms ? options.now_ms : Clock(SystemNowMs);
  CUSTOS_ASSIGN_OR_RETURN(schema::Config config, schema::LoadConfig(config_path));
  impl->config = std::make_unique<schema::Config>(std::move(config));
  CUSTOS_ASSIGN_OR_RETURN(impl->store, OpenStore(*impl->config, options.dir, /*create=*/false));
  if (options.TEST_wrap_store) impl->store = options.TEST_wrap_store(std::move(impl->store));
  CUSTOS_ASSIGN_OR_RETURN(crypto::Suite suite, crypto::ParseSuite(impl->config->keys.suite));
  // An import killed before it merged its staged index entries is finished here.
  CUSTOS_RETURN_IF_ERROR(impl->store->MergeStagedIndex());
  CUSTOS_RETURN_IF_ERROR(OpenKeysAndAudit(*impl, options, suite));
  // The background fold uses the store as it is: folding in short batches of its own, where
  // the wrapper's Begin() folds all there is.
  store::Store* unwrapped = impl->store.get();
  if (!impl->audit->options().journal_dir.empty()) {
    // From here on every transaction but a journalled read's sees the journals folded.
    impl->store = audit::FoldingJournals(std::move(impl->store), *impl->audit);
  }
  // A damaged audit journal fails every write of the log (fail closed), but the vault still
  // opens, so that `custos doctor` can report it and `custos audit quarantine-journal` set it
  // aside: Open's own writes pass over damaged journals (this thread only, until Open ends);
  // every other operation still fails on them (docs/audit.md, "A damaged journal").
  CUSTOS_ASSIGN_OR_RETURN(std::vector<audit::JournalCheck> journals, ReadJournalChecks(*impl));
  const std::vector<std::string> damaged = DamagedJournals(journals);
  const audit::JournalSkip skip_damaged(damaged);
  CUSTOS_RETURN_IF_ERROR(OpenEpochKeys(*impl));
  // The audit log's Merkle nodes (audit/tree_nodes.h): a log from before them, or one whose
  // build was interrupted, is completed here, resumably; once complete this is one read.
  // A failure does not keep the vault closed: proofs then compute what is missing from the
  // entries, and `custos audit verify` names a missing or altered node.
  audit::BuildTree(*impl->store, suite).status().IgnoreError();
  impl->reads =
      std::make_unique<GroupCommit>(*impl->store, *impl->audit, impl->access_cache, kMaxReadBatch);
  CUSTOS_RETURN_IF_ERROR(StartReadJournal(*impl, *unwrapped, options));
  std::unique_ptr<Vault> vault(new Vault(std::move(impl)));
  // Destruction reaches the backups Custos manages (ARCHITECTURE.md): after each retention
  // run, the key section of every backup in [backup] dir drops the destroyed customers'
  // wrapped DEKs and the ledger beside them gains the run's entries (idempotent: a rerun of
  // the plan calls it again). Tests may replace the hook.
  Vault* self = vault.get();
  vault->lifecycle().SetDestructionHook([self](const DestructionNotice&) -> Status {
    return self->backups().ForgetDestroyed().status();
  });
  // Each destroyed epoch takes its key-backup key K_n in the provider and the managed key
  // backups sealed under it along (docs/backup.md "Epoch keys"): a key backup copied anywhere
  // is dead once K_n is gone. Idempotent, as the observer contract asks; added before the
  // rotation below may destroy an epoch.
  vault->keys().AddEpochObserver([self](const EpochDestroyed& e) -> Status {
    return self->backups().DestroyEpochKeyBackups(e.epoch).status();
  });
  // A rotation due (a new epoch, an unfinished re-wrap, an epoch to destroy; the migration of
  // a vault made before epochs) runs at every open, so a vault used only through the CLI
  // rotates too (docs/backup.md "Epochs and the window").
  // Not while a journal is damaged: a rotation re-wraps keys and may destroy an epoch, work
  // that waits until the journal is quarantined and the log is written as usual again.
  if (!options.TEST_skip_epoch_rotation && damaged.empty()) {
    CUSTOS_RETURN_IF_ERROR(vault->keys().RunScheduledEpochRotation().status());
  }
  // [dpo] require_pia "purpose" (issue 19): admission consults the purposes an approved impact
  // assessment in force covers; read once here, replaced by each approval in this process.
  if (vault->state_->config->dpo.RequiresPia("purpose")) {
    CUSTOS_ASSIGN_OR_RETURN(auto txn, vault->state_->store->Begin());
    CUSTOS_ASSIGN_OR_RETURN(auto covered, PurposesWithPia(*txn, vault->state_->Now()));
    vault->state_->SetPurposesWithPia(std::move(covered));
  }
  return vault;
}

Vault::Vault(std::unique_ptr<VaultState> state)
    : state_(std::move(state)),
      customers_(*state_),
      records_(*state_),
      consent_(*state_),
      staff_(*state_),
      approvals_(*state_),
      lifecycle_(*state_),
      subject_requests_(*state_),
      backups_(*state_),
      keys_(*state_),
      audit_(*state_),
      deid_(*state_),
      sharing_(*state_),
      doctor_(*state_),
      reports_(*state_),
      secops_(*state_),
      dpo_(*state_, doctor_, reports_, audit_) {}

Vault::~Vault() { Close().IgnoreError(); }

Status Vault::Close() {
  if (state_ == nullptr || state_->closed) return Status::Ok();
  state_->closed = true;
  // The journal's last records join the log, its file is let go (an orphan now, which the seal's
  // fold closes), then the head is sealed over everything.
  if (state_->journal != nullptr) state_->reads->SetJournal(nullptr, nullptr);
  state_->folder.reset();
  state_->journal.reset();
  return state_->audit->SealHead(*state_->store);
}

const schema::Config& Vault::config() const { return *state_->config; }
const std::filesystem::path& Vault::dir() const { return state_->dir; }
bool Vault::JournalsReads() const { return state_->journal != nullptr; }

}  // namespace custos::vault
