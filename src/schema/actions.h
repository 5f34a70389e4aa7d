// The action catalogue: every operation Custos audits, as an enum with its stable name.
//
// The names are part of the contract: they appear in audit entries and, for the grantable
// actions, in custos.toml's role grants ([roles.NAME] grants.actions). An action that is not
// grantable (an audit name such as "hold.place") needs the grant of another action (its
// `grant`: "hold.manage"); authentication and the vault's own jobs need none.
//
// Thread safety: constant data; safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace custos::schema {

enum class Action : uint8_t {
  // --- grantable: data actions, granted per classification level (P2.2, P3.2b) ---
  kCustomerCreate,
  kCustomerRead,
  kCustomerUpdate,
  kCustomerSearch,
  kCustomerList,
  kCustomerExport,
  kCustomerImport,
  kTxnAdd,
  kTxnRead,
  kNoteAdd,
  kNoteRead,
  // --- grantable: other actions, granted without levels ---
  kConsentRecord,
  kConsentRead,
  kNoticeManage,
  kNoticeRead,
  kStaffManage,
  kRoleRead,
  kTrainingManage,
  kTrainingRead,
  kApprovalRequest,
  kApprovalApprove,
  kApprovalRead,
  kAuditRead,
  kAuditVerify,
  kReportRead,
  kConfigManage,
  kHoldManage,
  kHoldRead,
  kRetentionPlan,
  kRetentionRun,
  kRetentionRead,
  kBackupRun,
  kKeyManage,
  kKeyRead,
  kAccountClose,
  kDsrManage,
  kDsrRead,
  kServiceMetrics,
  kStoreMigrate,
  kDeidRelease,       // issue 16: release de-identified data under a named profile
  kDeidRead,          // issue 16: list profiles and the release register
  kPartnerManage,     // issue 17: partners, proposing and ending agreements, deletion records
  kShareCreate,       // issue 17: share customer data with a partner under an agreement
  kShareRead,         // issue 17: partners, agreements and shares listed; leaked copies traced
  kDoctorRun,         // issue 19: the security self-check (custos doctor, /v1/health/details)
  kOpsManage,         // issue 20: scan the audit stream, honey records, close alerts
  kOpsRead,           // issue 20: read alerts
  kIncidentManage,    // issue 20: open, contain, assess, notify incidents
  kIncidentRead,      // issue 20: list and show incidents
  kIncidentClose,     // issue 20: close an incident (the DPO)
  kViolationManage,   // issue 20: record and close violations (P5c)
  kViolationRead,     // issue 20: list violations
  kPiaManage,         // issue 19: write impact assessments (PIPL Art. 55)
  kPiaApprove,        // issue 19: approve another's impact assessment
  kPiaRead,           // issue 19: list and show impact assessments
  kAssessmentManage,  // issue 19: the self-assessment (P6a): run, answer, sign off, show
  kPolicyManage,      // issue 19: record policy versions (P6c), list policy and config versions
  kEvidenceBundle,    // issue 19: the evidence bundle for an audit (P6b)
  // --- audited under the grant of another action ---
  kCustomerVerifyPassword,
  kImportStart,
  kImportResume,
  kImportRejectRow,
  kImportReject,
  kImportFinish,
  kExportStart,
  kAuditExport,
  kAuditTail,
  kAuditHead,
  kAuditProve,
  kAuditConsistency,
  kAuditReseal,
  kAuditQuery,
  kAuditFollow,
  kStaffCreate,
  kStaffUpdate,
  kStaffList,
  kStaffPassword,
  kTotpEnroll,
  kTotpReset,
  kTokenList,
  kTokenRevoke,
  kTrainingRecord,
  kTrainingList,
  kApprovalReject,
  kApprovalList,
  kRoleList,
  kAccessExplain,
  kHoldPlace,
  kHoldRelease,
  kHoldList,
  kRetentionList,
  kRetentionDestroy,
  kAccountReopen,
  kAccountStatus,
  kDsrOpen,
  kDsrClose,
  kDsrList,
  kDsrVerify,
  kDsrFulfil,
  kDsrLift,
  kBackupComplete,
  kBackupFailed,
  kBackupVerify,
  kBackupForget,
  kBackupPrune,
  kBackupRestore,
  kKeyRotate,
  kKeyStatus,
  kKeyRetire,
  kKeyEpochRotate,
  kKeyEpochDestroy,
  kKeyEpochStatus,
  kStoreMigrateFailed,
  kDeidCustomer,
  kDeidReleaseComplete,
  kDeidReleaseRefused,
  kDeidProfiles,
  kDeidReleases,
  kDeidAggregate,
  kDeidAggregateComplete,
  kDeidAggregateRefused,
  kPartnerAdd,
  kPartnerRenewCert,  // a partner's certificate replaced in place (docs/sharing.md)
  kPartnerList,
  kAgreementPropose,
  kAgreementRevoke,
  kAgreementDeletion,
  kAgreementList,
  kShareCustomer,
  kShareComplete,
  kShareList,
  kShareTrace,
  kDoctorRead,   // issue 19: the last doctor result
  kReportBuild,  // issue 19: one compliance report (custos report, /v1/reports/{name})
  kOpsScan,
  kOpsHoney,
  kOpsAlerts,
  kOpsAlertClose,
  kIncidentOpen,
  kIncidentList,
  kIncidentShow,
  kIncidentContain,
  kIncidentAssess,
  kIncidentNotify,
  kIncidentRecover,
  kViolationAdd,
  kViolationList,
  kViolationClose,
  kPiaAdd,
  kPiaList,
  kPiaShow,
  kAssessmentRun,
  kAssessmentAnswer,
  kAssessmentSignoff,
  kAssessmentShow,
  kPolicyRecord,
  kPolicyList,
  kBackupList,
  kAuditJournals,           // the audit journals and their state (custos audit journals)
  kAuditJournalQuarantine,  // a damaged audit journal set aside (P4: incident response)
  // --- authentication and the vault's own steps: no grant ---
  kAuthToken,
  kAuthLogin,
  kAuthLockout,
  kSecurityAlert,  // recorded by the vault when a limit is hit (docs/security.md)
  kVaultInit,
  kConfigIndexKeyAdded,
  kOpsAlert,       // issue 20: an alert a rule raised on the audit stream (the vault's own job)
  kConfigVersion,  // issue 19: a new custos.toml version recorded (the vault's own job)
  // issue 20: a bearer token used from an address it was not issued to nor used from before,
  // and the first address of a token issued without one (vault/token_address.h)
  kTokenNewAddress,
  kTokenFirstAddress,
};

struct ActionInfo {
  Action action;
  std::string_view name;  // stable: audit entries and custos.toml use it
  Action grant;           // the grantable action it needs (itself when grantable)
  bool grantable;         // may be named in a role grant
  bool data;              // touches customer fields or records; granted per level
  bool writes;            // a data action that writes (a grant of it cannot "mask")
  bool needs_grant;       // false for authentication and the vault's own steps
};

// Every action, in enum order.
std::span<const ActionInfo> AllActions();

// The catalogue entry of `action`.
const ActionInfo& Info(Action action);

// The stable name ("customer.read").
std::string_view ActionName(Action action);

// The action named `name`, or nullopt for a name outside the catalogue.
std::optional<Action> ParseAction(std::string_view name);

// The grantable action named `name` (what a role grant may list), or nullopt.
std::optional<Action> ParseGrantableAction(std::string_view name);

}  // namespace custos::schema
