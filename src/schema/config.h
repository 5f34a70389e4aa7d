// Config: one vault's configuration, read from its custos.toml.
//
// The file holds the field catalogue (policy P2.1/P2.2: every field of customer data with its
// classification level, sensitivity, searchability, intake validator, mask rule and retention
// class), the record kinds kept beside the profile, the purpose catalogue (P3.3a), the
// retention class names (P3.4a) and the key, store and audit settings. The shipped default
// (config/custos.toml, compiled in as DefaultConfigToml()) reproduces the policy; a company
// adds fields or moves them between levels by editing the file.
//
// Shape of the file (every table is optional unless marked required; see config/custos.toml
// for a complete, commented example):
//   schema_version = 1                    required, >= 1
//   [keys]      suite, provider, keyfile, passphrase_env, pkcs11_module, pkcs11_token,
//               pkcs11_key_label, pkcs11_pin_env
//   [store]     backend, path, synchronous (sqlite); url, schema (postgres)
//   [audit]     checkpoint_every, head_file, witness_file
//   [server]    listen, port, cert, key, max_body_bytes, rate_limit_per_second,
//               rate_limit_burst, threads, max_connections, header_timeout_seconds,
//               idle_timeout_seconds, body_timeout_seconds, write_timeout_seconds,
//               console_idle_minutes, console_session_hours, time_zone, trusted_proxies
//   [backup]    dir, every, keep, key_epoch_length, key_epochs
//   [lifecycle] plan_every                "off" or an interval of at least 1h
//   [access]    max_failures (3..20), lockout_minutes (1..1440), address_max_failures
//               (3..1000), login_concurrency (1..64), allowed_role_pairs
//               ("ADMIN_ROLE+DATA_ROLE": separation of duties, docs/security.md)
//   [retention.NAME]  description, event, min (required); max     one table per retention
//                     class; classes "consent" and "audit" are required (docs/retention.md)
//   [fields.NAME]     label, type, category, level, retention (required); pipl_sensitive,
//                     searchable, required (default false), validator (default "none"),
//                     mask (default "full")               at least one field
//   [records.NAME]    level, retention    NAME in kRecordKinds, each kind required
//   [purposes.NAME]   label, description (required), legal_obligation (default false)
//                                                         at least one purpose
//   [roles.NAME]      label, description (required); grants (array of tables, may be empty)
//     [[roles.NAME.grants]]  actions (required, kActions); effect "allow" (default) | "mask";
//                     levels, purposes (both required for data actions; other actions take
//                     no levels and optional purposes); requires_training
//   [posts.NAME]      label (required), roles (required, declared role names)
//   [ops]             scan_interval_ms, utc_offset, alert_command, alert_command_timeout_seconds
//                     and the rule thresholds (OpsThresholds); [ops.posts.NAME] the
//                     thresholds of one post (docs/security_operations.md)
//   [deid.profiles.NAME]  description, purpose, roles (required); k (default 2), diversity
//                     ("none" | "distinct" | "entropy"), l, t, max_suppression (0..1),
//                     risk_threshold (0..1), joinable, population ("consented" |
//                     "anonymised"); epsilon_budget, delta_budget, delta (differentially
//                     private aggregates)              de-identified releases (docs/deid.md)
//     [deid.profiles.NAME.fields.FIELD]  transform (required, kDeidTransforms); hierarchy and
//                     bands (generalise); bottom, top (top_bottom); base (round); sensitive;
//                     bounds = [lower, upper] (a sum's contribution bounds)
// A grant either names only data actions (kDataActions) with the levels and purposes they
// cover, or only other actions (staff.manage, audit.read, ...) without levels; purposes
// empty there means "whatever the purpose". "mask" is for reads only. A grant that covers
// the confidential level must name requires_training (P5b: lapsed training is refused
// confidential fields); other grants must not.
// Catalogue entries keep the order in which they appear in the file.
//
// Loading is strict: an unknown key, a value of the wrong type or outside its vocabulary
// (vocabulary.h), a missing required key, a name that is not an identifier, a password field
// that is searchable or not fully masked, or a reference to an undeclared retention class is
// an InvalidArgument whose message reads
//   "FILE:LINE: key 'fields.phone.level': must be one of general, internal, confidential"
// (for a missing key, LINE is that of the table that lacks it). A TOML syntax error reads
//   "FILE:LINE:COLUMN: TOML syntax error: <toml++'s description>".
// Messages name keys and rules, never the values in the file.
//
// Thread safety: a Config is an immutable value after loading; concurrent const use is safe.
// The functions here hold no state.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/level.h"
#include "core/status.h"
#include "schema/vocabulary.h"

namespace custos::schema {

// One field of the customer profile ([fields.NAME]).
struct FieldDef {
  std::string name;   // [a-z][a-z0-9_]{0,62}; stable: it names index keys and columns
  std::string label;  // for people, e.g. 姓名
  FieldType type = FieldType::kString;
  std::string category;                // one of kCategories
  Level level = Level::kConfidential;  // P2.2
  bool pipl_sensitive = false;         // PIPL Art. 28: processing needs separate consent (Art. 29)
  bool searchable = false;             // has a blind index for equality search; never for passwords
  bool required = false;               // intake refuses a record without it (P3.1c)
  std::string validator = "none";      // one of kValidatorNames
  std::string mask = "full";           // one of kMaskRules; always "full" for passwords
  std::string retention_class;         // the name of a declared RetentionClassDef
};

// A purpose of use ([purposes.NAME]); every access names one (P3.3a).
struct PurposeDef {
  std::string name;
  std::string label;  // for people, e.g. 客户服务
  std::string description;
  bool legal_obligation = false;  // true: needs no consent (PIPL Art. 13), e.g. AML records
};

// A record kind kept beside the profile ([records.NAME]): transactions and notes (P2.2: both
// internal in the default).
struct RecordKindDef {
  std::string name;  // one of kRecordKinds
  Level level = Level::kInternal;
  std::string retention_class;
};

// What a grant gives on the fields it covers.
enum class GrantEffect : uint8_t { kAllow, kMask };

// One grant of a role ([[roles.NAME.grants]], issue 3, P3.2b).
struct GrantDef {
  std::vector<std::string> actions;   // kActions names
  std::vector<Level> levels;          // empty: a grant of non-data actions
  std::vector<std::string> purposes;  // declared purposes; empty (non-data only): any purpose
  GrantEffect effect = GrantEffect::kAllow;
  std::string requires_training;  // a course name; set iff levels include confidential
  uint32_t line = 0;              // where the grant starts in the file (for reasons)
};

// A role ([roles.NAME]): what a kind of work needs. Deny by default: a role grants nothing
// that its grants do not list.
struct RoleDef {
  std::string name;
  std::string label;
  std::string description;
  std::vector<GrantDef> grants;  // file order
};

// A post (岗位, [posts.NAME]): a job in the company and the roles that come with it (P3.2b).
// Separation of duties (docs/security.md): a role administers access when a grant lists
// staff.manage or config.manage (it decides who may do what); it handles customer data when a
// grant lists a data action (customer.*, txn.*, note.*).
bool AdministersAccess(const RoleDef& role);
bool HandlesCustomerData(const RoleDef& role);

struct PostDef {
  std::string name;
  std::string label;
  std::vector<std::string> roles;  // declared role names
};

// A retention period: calendar years, months and days, written "3y", "180d", "1y6m"
// (docs/retention.md). Added to a date in that order (calendar arithmetic; a day past the end
// of a month is clamped to its last day).
struct RetentionPeriod {
  int32_t years = 0;
  int32_t months = 0;
  int32_t days = 0;
  // Approximate length in days (a year 365.2425 days, a month a twelfth of it): used only to
  // compare two periods, never to compute a due date.
  double ApproxDays() const;
  bool operator==(const RetentionPeriod&) const = default;
};

// A retention class ([retention.NAME], P3.4a): how long data of this class is kept, counted
// from a named event (kRetentionEvents). `min` is the statutory floor: nothing of the class is
// destroyed before it. `max` is the policy ceiling: once it has passed the data is due for
// destruction; nullopt (no `max` key) means never due (the audit class). The lifecycle
// component applies the rules (src/lifecycle).
struct RetentionClassDef {
  std::string name;
  std::string description;
  std::string event;                   // one of kRetentionEvents
  RetentionPeriod min;                 // statutory floor
  std::optional<RetentionPeriod> max;  // policy ceiling; >= min
};

// Parses "3y", "180d", "2w", "1y6m", "0d": one or more <digits><unit> with units y, m, w, d
// in that order, each at most once; at most 200 years in all. InvalidArgument naming the
// grammar otherwise (the text itself is not personal data but is not echoed either).
Result<RetentionPeriod> ParseRetentionPeriod(std::string_view text);
// The canonical text of a period ("3y", "1y6m", "0d").
std::string RetentionPeriodText(const RetentionPeriod& period);

struct KeysConfig {
  std::string suite = "aes256gcm";                   // kSuites; fixed at init
  std::string provider = "keyfile";                  // kKeyProviders
  std::string keyfile = "kek.key";                   // relative to the vault directory
  std::string passphrase_env = "CUSTOS_PASSPHRASE";  // names the variable, never holds a secret
  // pkcs11 (docs/keys.md): the module (shared library) to load, the token's label, the label
  // prefix of the KEK objects ("<prefix>-v1", "<prefix>-v2", ...) and the variable holding
  // the user PIN (never the PIN itself).
  std::string pkcs11_module;
  std::string pkcs11_token;
  std::string pkcs11_key_label = "custos-kek";
  std::string pkcs11_pin_env = "CUSTOS_PKCS11_PIN";
};

struct StoreConfig {
  std::string backend = "sqlite";      // kStoreBackends
  std::string path = "custos.db";      // relative to the vault directory
  std::string synchronous = "normal";  // kSynchronousModes (sqlite)
  // postgres: a postgresql:// URL or libpq keywords, never with a password (PGPASSWORD or a
  // password file supply it), and the PostgreSQL schema (namespace) holding the tables.
  std::string url;
  std::string schema = "custos";
};

struct AuditConfig {
  uint32_t checkpoint_every = 1000;      // entries between signed checkpoints, >= 1
  std::string head_file = "audit.head";  // relative to the vault directory
  // The external witness (issue 13): an append-only file, best on another mount, that gets
  // every sealed head; relative to the vault directory unless absolute; empty: none.
  std::string witness_file;
  // Reads' entries go to the audit journal (docs/audit.md "The read journal"; SQLite only):
  // durable before the answer leaves, joined to the chain by the next write, reader or the
  // background fold. Off: each read's entry is committed in the store, in a group commit.
  // Unset: the process decides (vault::OpenOptions::journal_reads: on for `custos serve` on
  // SQLite, off for the other commands).
  std::optional<bool> read_journal;
};

// The HTTPS API of `custos serve` ([server]; docs/api.md). Paths are relative to the vault
// directory; `custos init` writes a self-signed pair at the default paths for the demo.
struct ServerConfig {
  std::string listen = "127.0.0.1";       // an IPv4 or IPv6 address literal
  uint16_t port = 8443;                   // 0: any free port (the URL printed names it)
  std::string cert = "tls/server.crt";    // PEM certificate chain
  std::string key = "tls/server.key";     // PEM private key, mode 0600
  uint64_t max_body_bytes = 1 << 20;      // larger request bodies get 413
  uint32_t rate_limit_per_second = 1000;  // per bearer token, refilled continuously
  uint32_t rate_limit_burst = 2000;       // bucket size, >= rate_limit_per_second
  uint32_t threads = 8;                   // worker threads
  // The transport's connection limits (src/api/beast_server.h; docs/api.md):
  uint32_t max_connections = 4096;       // open connections served; more get 503
  uint32_t header_timeout_seconds = 10;  // deadline for a whole request head and the handshake
  uint32_t idle_timeout_seconds = 30;    // a keep-alive connection idle longer is closed
  uint32_t body_timeout_seconds = 60;    // deadline for a whole request body
  uint32_t write_timeout_seconds = 30;   // deadline for writing a whole answer
  // The web console (issue 21; docs/console.md): a session idle longer than
  // console_idle_minutes, or older than console_session_hours, is signed out; dates on its
  // screens are shown in time_zone (the company's, an IANA name).
  uint32_t console_idle_minutes = 15;
  uint32_t console_session_hours = 8;
  std::string time_zone = "Asia/Shanghai";
  // Proxies whose X-Forwarded-For is believed (addresses or address/prefix; core/
  // address_ranges.h): behind them the client's address is the one the nearest trusted proxy
  // saw, for login waits, the bad-token count and the audit entries' source. Empty: none.
  std::vector<std::string> trusted_proxies;
};

// Scheduled backups of `custos serve` ([backup]; docs/backup.md).
struct BackupConfig {
  std::string dir = "backups";  // relative to the vault directory unless absolute
  int64_t every_seconds = 0;    // 0: no schedule ("off")
  uint32_t keep = 7;            // complete backups kept by the schedule, >= 1
  // Epoch wrapping keys (issue 23; docs/backup.md "Epoch keys"): a new epoch key every
  // key_epoch_length, the newest key_epochs kept; the epoch window is their product.
  int64_t key_epoch_length_seconds = 7LL * 24 * 3600;  // > 0
  uint32_t key_epochs = 4;                             // >= 2
};

// Scheduled retention plans of `custos serve` ([lifecycle]; docs/retention.md). A scheduled
// sweep only plans: destruction still needs an approved request and `custos retention run`.
struct LifecycleConfig {
  int64_t plan_every_seconds = 0;  // 0: no schedule ("off"); else >= 3600
};

// Data-subject requests ([subject_requests]; docs/subject_requests.md, issue 18): the calendar
// days the company takes at most to answer each kind of request, counted from its opening.
static_assert(kSubjectRequestKinds.size() == 7, "SubjectRequestsConfig::due_days lists 7 kinds");
struct SubjectRequestsConfig {
  // One entry per kind of kSubjectRequestKinds (same order), 1 .. 365; 15 unless set
  // (GB/T 35273-2020 §8.7, read as calendar days).
  std::array<uint32_t, kSubjectRequestKinds.size()> due_days = {15, 15, 15, 15, 15, 15, 15};
  // The due days of `kind`; 15 for a name that is not a kind (callers check kinds first).
  uint32_t DueDays(std::string_view kind) const;
};

// Sharing with partners ([sharing]; docs/sharing.md, issue 17).
struct SharingConfig {
  // A share of more rows than this (customers, canaries aside) needs an approved "share"
  // request of its creator, decided by a second staff member. 1 .. 100,000,000.
  int64_t approval_above_rows = 10000;
  // Days the partner has to delete what it received once an agreement ends (revoked or
  // expired), before its confirmation is overdue. 1 .. 365.
  uint32_t deletion_days = 30;
  // PIPL Art. 55: an agreement names its personal-information impact assessment (a
  // reference) before it may be proposed.
  bool require_impact_assessment = true;
  // The categories of partners a privacy notice may name, so that a customer can consent to
  // sharing with a category rather than one partner (identifiers).
  std::vector<std::string> categories;
};

// Login limits ([access]; docs/access.md, issue 12 item 6): after `max_failures` failed
// logins in a row for one staff id, or `address_max_failures` from one source address, each
// further attempt waits 1 s, 2 s, 4 s, ... at most `lockout_minutes`; at most
// `login_concurrency` password checks run at once.
struct AccessConfig {
  uint32_t max_failures = 5;           // 3 .. 20
  uint32_t lockout_minutes = 15;       // 1 .. 1440: the longest wait
  uint32_t address_max_failures = 20;  // 3 .. 1000
  uint32_t login_concurrency = 2;      // 1 .. 64
  // Equality searches (customer.search) one staff member may make on one field in any
  // sliding hour, 1 .. 100000; the next is refused and raises a security alert
  // (docs/security.md, "Search limits").
  uint32_t search_limit_per_hour = 60;
  // Separation of duties (docs/security.md): pairs of an administrative and a data role that
  // one staff member may nevertheless hold, written "admin_role+data_role" in custos.toml.
  std::vector<std::pair<std::string, std::string>> allowed_role_pairs;
};

// Security operations ([ops]; docs/security_operations.md, issue 20): the thresholds of the
// rules evaluated on the audit stream, the defaults for every post and, per post
// ([ops.posts.NAME]), what differs. Windows are in minutes; counts of 0 turn a rule off.
struct OpsThresholds {
  // Bulk reads: distinct customers one staff member read (customer.read, txn.read, note.read,
  // customer.export) within `bulk_read_minutes`, counted per classification level of the
  // fields read (index: level - 1, general, internal, confidential).
  uint32_t bulk_read_minutes = 60;
  std::array<uint32_t, 3> bulk_read = {400, 200, 50};
  // Working hours of the post, local time (OpsConfig::utc_offset_minutes): a read outside them
  // is an alert. [start, end) in minutes of the day; start == end: always (no rule).
  int32_t work_start_minute = 0;
  int32_t work_end_minute = 0;
  uint32_t denial_burst = 15;           // refusals of one staff member ...
  uint32_t denial_burst_minutes = 10;   // ... within this window
  uint32_t search_repeat = 40;          // equality searches on one field by one staff member ...
  uint32_t search_repeat_minutes = 60;  // ... within this window (the mask oracle)
  // Purpose A refused, then purpose B allowed on the same customer within this window.
  uint32_t purpose_switch_minutes = 60;
  uint32_t export_customers = 1000;  // customers exported by one staff member ...
  uint32_t export_minutes = 60;      // ... within this window
  // Customers shared with partners (share.customer entries) by one staff member within
  // share_minutes (rule bulk_share). Not set anywhere: the export values of the same table.
  uint32_t share_customers = 1000;
  uint32_t share_minutes = 60;
  bool break_glass = true;               // every read under a break-glass grant
  uint32_t login_failures = 5;           // failed logins of one staff id ...
  uint32_t login_failures_minutes = 15;  // ... within this window
  bool new_address = true;               // a login from an address the staff member never used
  bool token_new_address = true;         // a token used from an address it was not used from
};

// The DPO's desk ([dpo]; docs/dpo.md, issue 19).
struct DpoConfig {
  // What needs an approved personal-information impact assessment in force before it takes
  // effect (PIPL Art. 55): "purpose" (a catalogue purpose not marked legal_obligation is
  // refused at admission until one covers it), "agreement" (a sharing agreement's approval),
  // "cross_border" (the approval of an agreement with a cross-border basis). Empty: none.
  std::vector<std::string> require_pia;
  bool RequiresPia(std::string_view what) const;
};

struct OpsConfig {
  // How often `custos serve` evaluates new audit entries, in milliseconds (0: never).
  uint32_t scan_interval_ms = 500;
  // The offset of local time from UTC, for working hours ("+08:00").
  int32_t utc_offset_minutes = 480;
  // A local command given each alert as JSON on stdin (empty: none), killed after the timeout.
  std::string alert_command;
  uint32_t alert_command_timeout_seconds = 5;
  OpsThresholds defaults;
  std::vector<std::pair<std::string, OpsThresholds>> posts;  // declared post names
  // The thresholds of `post` (the defaults for a post not listed).
  const OpsThresholds& For(std::string_view post) const;
};

// A field's rule in a de-identification profile ([deid.profiles.NAME.fields.FIELD], issue
// 16). FIELD is a catalogue field (not a password) or a derived value (kDeidDerivedFields).
struct DeidFieldDef {
  std::string field;
  std::string transform;         // kDeidTransforms
  std::string hierarchy;         // generalise: kDeidHierarchies
  std::vector<int64_t> bands;    // generalise along "amount": band widths in whole units
  std::optional<double> bottom;  // top_bottom
  std::optional<double> top;     // top_bottom
  double base = 1;               // round: to a multiple of this (> 0)
  bool sensitive = false;        // keep only: a sensitive attribute of the model
  // `deid aggregate --sum FIELD`: each customer's value is clamped to [lower, upper], which
  // bounds the sum's sensitivity (docs/deid.md, "Differentially private aggregates").
  std::optional<std::pair<double, double>> bounds;
  // transaction_fields only: the fixed level of a generalised transaction value (it is not a
  // quasi-identifier of the lattice search; docs/deid.md, "Transactions as rows").
  int level = 0;
  uint32_t line = 0;
};

// A release profile ([deid.profiles.NAME], issue 16; docs/deid.md). The quasi-identifiers are
// the fields it generalises; the sensitive attributes those it keeps with sensitive = true.
// Rules checked at load: at least one generalised field; a direct identifier (IsDirectIdentifier)
// may only be dropped, pseudonymised or suppressed; population "anonymised" (PIPL Art. 73(4):
// every customer, consent aside) only without pseudonyms; diversity needs a sensitive field
// and l >= 1.
struct DeidProfileDef {
  std::string name;
  std::string description;
  std::string purpose;             // a declared purpose; releases are made for it
  std::vector<std::string> roles;  // declared roles whose holders may release under it
  uint64_t k = 2;
  std::string diversity = "none";  // kDeidDiversity
  double l = 1;
  std::optional<double> t;
  double max_suppression = 0;
  double risk_threshold = 0.2;
  bool joinable = false;  // pseudonyms under the profile's key, stable across releases
  std::string population = "consented";  // kDeidPopulations
  // Differentially private aggregates (deid aggregate): the privacy budget of each analyst
  // under this profile. No epsilon_budget: aggregates are refused. Every grouped answer spends
  // `delta` (its groups are chosen by a noisy threshold) out of delta_budget.
  std::optional<double> epsilon_budget;
  double delta_budget = 1e-5;
  double delta = 1e-7;
  std::vector<DeidFieldDef> fields;  // file order
  // [deid.profiles.NAME.transaction_fields]: when any, the release writes one row per
  // transaction (the customer's columns repeated, customer_id pseudonymised) with these
  // transaction fields (kDeidTransactionFields), each coarsened at a fixed level.
  std::vector<DeidFieldDef> transaction_fields;
  uint32_t line = 0;
};

// True for a field that names or reaches a person on its own (PIPL Art. 73(3)): searchable
// (it is looked up by value), a name, an ID card, mobile, e-mail, bank card or password, or
// an address. Such a field never leaves in clear in a de-identified release.
bool IsDirectIdentifier(const FieldDef& field);

struct Config {
  std::filesystem::path source_path;  // the file (or source name) it was parsed from
  uint32_t schema_version = 1;
  KeysConfig keys;
  StoreConfig store;
  AuditConfig audit;
  ServerConfig server;
  std::vector<RetentionClassDef> retention_classes;  // file order
  std::vector<FieldDef> fields;                      // file order, names unique
  std::vector<RecordKindDef> records;                // file order, one per kRecordKinds
  std::vector<PurposeDef> purposes;                  // file order, at least one
  std::vector<RoleDef> roles;                        // file order, possibly none
  std::vector<PostDef> posts;                        // file order, possibly none
  BackupConfig backup;
  LifecycleConfig lifecycle;
  SubjectRequestsConfig subject_requests;
  AccessConfig access;
  SharingConfig sharing;
  OpsConfig ops;
  DpoConfig dpo;
  std::vector<DeidProfileDef> deid_profiles;  // file order, possibly none

  // The entry with that name, or nullptr. Pointers stay valid while the Config is unchanged.
  const FieldDef* FindField(std::string_view name) const;
  const PurposeDef* FindPurpose(std::string_view name) const;
  const RecordKindDef* FindRecordKind(std::string_view name) const;
  const RetentionClassDef* FindRetentionClass(std::string_view name) const;
  const RoleDef* FindRole(std::string_view name) const;
  const PostDef* FindPost(std::string_view name) const;
  const DeidProfileDef* FindDeidProfile(std::string_view name) const;
  // Separation of duties: the first pair (administrative role, data role) among `roles` that
  // [access] allowed_role_pairs does not allow; nullopt when the roles may be held together.
  std::optional<std::pair<std::string, std::string>> ForbiddenRolePair(
      const std::vector<std::string>& roles) const;
  // The fields at `level`, in file order (possibly none).
  std::vector<const FieldDef*> FieldsAt(Level level) const;
};

// Parses and validates `toml_text`. `source_name` (usually the file's path) is used in error
// messages and stored as source_path.
// Success: a Config that satisfies every rule above.
// Failure: InvalidArgument "FILE:LINE[:COLUMN]: ..." as described above.
Result<Config> ParseConfig(std::string_view toml_text, std::string_view source_name);

// Reads the file at `path` and parses it with ParseConfig (source name = path).
// Failure: NotFound if the file does not exist; Unavailable if it cannot be read;
// otherwise as ParseConfig.
Result<Config> LoadConfig(const std::filesystem::path& path);

// The text of the shipped default, config/custos.toml, compiled into the library at build
// time so `custos init` can write it without the source tree. Always parses.
std::string_view DefaultConfigToml();

}  // namespace custos::schema
