// The action catalogue (actions.h): one table, in enum order (checked at compile time).
#include "schema/actions.h"

#include <array>

namespace custos::schema {
namespace {

using A = Action;

constexpr ActionInfo Grantable(A a, std::string_view name, bool data = false, bool writes = false) {
  return ActionInfo{a, name, a, true, data, writes, true};
}
constexpr ActionInfo Under(A a, std::string_view name, A grant) {
  return ActionInfo{a, name, grant, false, false, false, true};
}
constexpr ActionInfo Ungranted(A a, std::string_view name) {
  return ActionInfo{a, name, a, false, false, false, false};
}

constexpr std::array kCatalogue = {
    Grantable(A::kCustomerCreate, "customer.create", true, true),
    Grantable(A::kCustomerRead, "customer.read", true),
    Grantable(A::kCustomerUpdate, "customer.update", true, true),
    Grantable(A::kCustomerSearch, "customer.search", true),
    Grantable(A::kCustomerList, "customer.list", true),
    Grantable(A::kCustomerExport, "customer.export", true),
    Grantable(A::kCustomerImport, "customer.import", true, true),
    Grantable(A::kTxnAdd, "txn.add", true, true),
    Grantable(A::kTxnRead, "txn.read", true),
    Grantable(A::kNoteAdd, "note.add", true, true),
    Grantable(A::kNoteRead, "note.read", true),
    Grantable(A::kConsentRecord, "consent.record"),
    Grantable(A::kConsentRead, "consent.read"),
    Grantable(A::kNoticeManage, "notice.manage"),
    Grantable(A::kNoticeRead, "notice.read"),
    Grantable(A::kStaffManage, "staff.manage"),
    Grantable(A::kRoleRead, "role.read"),
    Grantable(A::kTrainingManage, "training.manage"),
    Grantable(A::kTrainingRead, "training.read"),
    Grantable(A::kApprovalRequest, "approval.request"),
    Grantable(A::kApprovalApprove, "approval.approve"),
    Grantable(A::kApprovalRead, "approval.read"),
    Grantable(A::kAuditRead, "audit.read"),
    Grantable(A::kAuditVerify, "audit.verify"),
    Grantable(A::kReportRead, "report.read"),
    Grantable(A::kConfigManage, "config.manage"),
    Grantable(A::kHoldManage, "hold.manage"),
    Grantable(A::kHoldRead, "hold.read"),
    Grantable(A::kRetentionPlan, "retention.plan"),
    Grantable(A::kRetentionRun, "retention.run"),
    Grantable(A::kRetentionRead, "retention.read"),
    Grantable(A::kBackupRun, "backup.run"),
    Grantable(A::kKeyManage, "key.manage"),
    Grantable(A::kKeyRead, "key.read"),
    Grantable(A::kAccountClose, "account.close"),
    Grantable(A::kDsrManage, "dsr.manage"),
    Grantable(A::kDsrRead, "dsr.read"),
    Grantable(A::kServiceMetrics, "service.metrics"),
    Grantable(A::kStoreMigrate, "store.migrate"),
    Grantable(A::kDeidRelease, "deid.release"),
    Grantable(A::kDeidRead, "deid.read"),
    Grantable(A::kPartnerManage, "partner.manage"),
    Grantable(A::kShareCreate, "share.create"),
    Grantable(A::kShareRead, "share.read"),
    Grantable(A::kDoctorRun, "doctor.run"),
    Grantable(A::kOpsManage, "ops.manage"),
    Grantable(A::kOpsRead, "ops.read"),
    Grantable(A::kIncidentManage, "incident.manage"),
    Grantable(A::kIncidentRead, "incident.read"),
    Grantable(A::kIncidentClose, "incident.close"),
    Grantable(A::kViolationManage, "violation.manage"),
    Grantable(A::kViolationRead, "violation.read"),
    Grantable(A::kPiaManage, "pia.manage"),
    Grantable(A::kPiaApprove, "pia.approve"),
    Grantable(A::kPiaRead, "pia.read"),
    Grantable(A::kAssessmentManage, "assessment.manage"),
    Grantable(A::kPolicyManage, "policy.manage"),
    Grantable(A::kEvidenceBundle, "evidence.bundle"),
    Under(A::kCustomerVerifyPassword, "customer.verify_password", A::kCustomerRead),
    Under(A::kImportStart, "import.start", A::kCustomerImport),
    Under(A::kImportResume, "import.resume", A::kCustomerImport),
    Under(A::kImportRejectRow, "import.reject_row", A::kCustomerImport),
    Under(A::kImportReject, "import.reject", A::kCustomerImport),
    Under(A::kImportFinish, "import.finish", A::kCustomerImport),
    Under(A::kExportStart, "export.start", A::kCustomerExport),
    Under(A::kAuditExport, "audit.export", A::kAuditRead),
    Under(A::kAuditTail, "audit.tail", A::kAuditRead),
    Under(A::kAuditHead, "audit.head", A::kAuditRead),
    Under(A::kAuditProve, "audit.prove", A::kAuditRead),
    Under(A::kAuditConsistency, "audit.consistency", A::kAuditRead),
    Under(A::kAuditReseal, "audit.reseal", A::kAuditVerify),
    Under(A::kAuditQuery, "audit.query", A::kAuditRead),
    Under(A::kAuditFollow, "audit.follow", A::kAuditRead),
    Under(A::kStaffCreate, "staff.create", A::kStaffManage),
    Under(A::kStaffUpdate, "staff.update", A::kStaffManage),
    Under(A::kStaffList, "staff.list", A::kStaffManage),
    Under(A::kStaffPassword, "staff.password", A::kStaffManage),
    Under(A::kTotpEnroll, "totp.enroll", A::kStaffManage),
    Under(A::kTotpReset, "totp.reset", A::kStaffManage),
    Under(A::kTokenList, "token.list", A::kStaffManage),
    Under(A::kTokenRevoke, "token.revoke", A::kStaffManage),
    Under(A::kTrainingRecord, "training.record", A::kTrainingManage),
    Under(A::kTrainingList, "training.list", A::kTrainingRead),
    Under(A::kApprovalReject, "approval.reject", A::kApprovalApprove),
    Under(A::kApprovalList, "approval.list", A::kApprovalRead),
    Under(A::kRoleList, "role.list", A::kRoleRead),
    Under(A::kAccessExplain, "access.explain", A::kRoleRead),
    Under(A::kHoldPlace, "hold.place", A::kHoldManage),
    Under(A::kHoldRelease, "hold.release", A::kHoldManage),
    Under(A::kHoldList, "hold.list", A::kHoldRead),
    Under(A::kRetentionList, "retention.list", A::kRetentionRead),
    Under(A::kRetentionDestroy, "retention.destroy", A::kRetentionRun),
    Under(A::kAccountReopen, "account.reopen", A::kAccountClose),
    Under(A::kAccountStatus, "account.status", A::kAccountClose),
    Under(A::kDsrOpen, "dsr.open", A::kDsrManage),
    Under(A::kDsrClose, "dsr.close", A::kDsrManage),
    Under(A::kDsrList, "dsr.list", A::kDsrRead),
    Under(A::kDsrVerify, "dsr.verify", A::kDsrManage),
    Under(A::kDsrFulfil, "dsr.fulfil", A::kDsrManage),
    Under(A::kDsrLift, "dsr.lift", A::kDsrManage),
    Under(A::kBackupComplete, "backup.complete", A::kBackupRun),
    Under(A::kBackupFailed, "backup.failed", A::kBackupRun),
    Under(A::kBackupVerify, "backup.verify", A::kBackupRun),
    Under(A::kBackupForget, "backup.forget", A::kBackupRun),
    Under(A::kBackupPrune, "backup.prune", A::kBackupRun),
    Under(A::kBackupRestore, "backup.restore", A::kBackupRun),
    Under(A::kKeyRotate, "key.rotate", A::kKeyManage),
    Under(A::kKeyStatus, "key.status", A::kKeyRead),
    Under(A::kKeyRetire, "key.retire", A::kKeyManage),
    Under(A::kKeyEpochRotate, "key.epoch_rotate", A::kKeyManage),
    Under(A::kKeyEpochDestroy, "key.epoch_destroy", A::kKeyManage),
    Under(A::kKeyEpochStatus, "key.epoch_status", A::kKeyRead),
    Under(A::kStoreMigrateFailed, "store.migrate_failed", A::kStoreMigrate),
    Under(A::kDeidCustomer, "deid.customer", A::kDeidRelease),
    Under(A::kDeidReleaseComplete, "deid.release.complete", A::kDeidRelease),
    Under(A::kDeidReleaseRefused, "deid.release.refused", A::kDeidRelease),
    Under(A::kDeidProfiles, "deid.profiles", A::kDeidRead),
    Under(A::kDeidReleases, "deid.releases", A::kDeidRead),
    Under(A::kDeidAggregate, "deid.aggregate", A::kDeidRelease),
    Under(A::kDeidAggregateComplete, "deid.aggregate.complete", A::kDeidRelease),
    Under(A::kDeidAggregateRefused, "deid.aggregate.refused", A::kDeidRelease),
    Under(A::kPartnerAdd, "partner.add", A::kPartnerManage),
    Under(A::kPartnerRenewCert, "partner.renew_cert", A::kPartnerManage),
    Under(A::kPartnerList, "partner.list", A::kShareRead),
    Under(A::kAgreementPropose, "agreement.propose", A::kPartnerManage),
    Under(A::kAgreementRevoke, "agreement.revoke", A::kPartnerManage),
    Under(A::kAgreementDeletion, "agreement.deletion", A::kPartnerManage),
    Under(A::kAgreementList, "agreement.list", A::kShareRead),
    Under(A::kShareCustomer, "share.customer", A::kShareCreate),
    Under(A::kShareComplete, "share.complete", A::kShareCreate),
    Under(A::kShareList, "share.list", A::kShareRead),
    Under(A::kShareTrace, "share.trace", A::kShareRead),
    Under(A::kDoctorRead, "doctor.read", A::kDoctorRun),
    Under(A::kReportBuild, "report.build", A::kReportRead),
    Under(A::kOpsScan, "ops.scan", A::kOpsManage),
    Under(A::kOpsHoney, "ops.honey", A::kOpsManage),
    Under(A::kOpsAlerts, "ops.alerts", A::kOpsRead),
    Under(A::kOpsAlertClose, "ops.alert.close", A::kOpsManage),
    Under(A::kIncidentOpen, "incident.open", A::kIncidentManage),
    Under(A::kIncidentList, "incident.list", A::kIncidentRead),
    Under(A::kIncidentShow, "incident.show", A::kIncidentRead),
    Under(A::kIncidentContain, "incident.contain", A::kIncidentManage),
    Under(A::kIncidentAssess, "incident.assess", A::kIncidentManage),
    Under(A::kIncidentNotify, "incident.notify", A::kIncidentManage),
    Under(A::kIncidentRecover, "incident.recover", A::kIncidentManage),
    Under(A::kViolationAdd, "violation.add", A::kViolationManage),
    Under(A::kViolationList, "violation.list", A::kViolationRead),
    Under(A::kViolationClose, "violation.close", A::kViolationManage),
    Under(A::kPiaAdd, "pia.add", A::kPiaManage),
    Under(A::kPiaList, "pia.list", A::kPiaRead),
    Under(A::kPiaShow, "pia.show", A::kPiaRead),
    Under(A::kAssessmentRun, "assessment.run", A::kAssessmentManage),
    Under(A::kAssessmentAnswer, "assessment.answer", A::kAssessmentManage),
    Under(A::kAssessmentSignoff, "assessment.signoff", A::kAssessmentManage),
    Under(A::kAssessmentShow, "assessment.show", A::kAssessmentManage),
    Under(A::kPolicyRecord, "policy.record", A::kPolicyManage),
    Under(A::kPolicyList, "policy.list", A::kPolicyManage),
    Under(A::kBackupList, "backup.list", A::kBackupRun),
    Under(A::kAuditJournals, "audit.journals", A::kAuditRead),
    Under(A::kAuditJournalQuarantine, "audit.journal.quarantine", A::kIncidentManage),
    Ungranted(A::kAuthToken, "auth.token"),
    Ungranted(A::kAuthLogin, "auth.login"),
    Ungranted(A::kAuthLockout, "auth.lockout"),
    Ungranted(A::kSecurityAlert, "security.alert"),
    Ungranted(A::kVaultInit, "vault.init"),
    Ungranted(A::kConfigIndexKeyAdded, "config.index_key_added"),
    Ungranted(A::kOpsAlert, "ops.alert"),
    Ungranted(A::kConfigVersion, "config.version"),
    Ungranted(A::kTokenNewAddress, "token.new_address"),
    Ungranted(A::kTokenFirstAddress, "token.first_address"),
};

constexpr bool InEnumOrder() {
  for (size_t i = 0; i < kCatalogue.size(); ++i) {
    if (static_cast<size_t>(kCatalogue[i].action) != i) return false;
    if (!kCatalogue[static_cast<size_t>(kCatalogue[i].grant)].grantable &&
        kCatalogue[i].needs_grant) {
      return false;
    }
  }
  return static_cast<size_t>(A::kTokenFirstAddress) + 1 == kCatalogue.size();
}
static_assert(InEnumOrder(),
              "kCatalogue must list every Action once, in enum order, and "
              "each grant must be grantable");

}  // namespace

std::span<const ActionInfo> AllActions() { return kCatalogue; }

const ActionInfo& Info(Action action) { return kCatalogue[static_cast<size_t>(action)]; }

std::string_view ActionName(Action action) { return Info(action).name; }

std::optional<Action> ParseAction(std::string_view name) {
  for (const ActionInfo& info : kCatalogue) {
    if (info.name == name) return info.action;
  }
  return std::nullopt;
}

std::optional<Action> ParseGrantableAction(std::string_view name) {
  std::optional<Action> a = ParseAction(name);
  if (a.has_value() && Info(*a).grantable) return a;
  return std::nullopt;
}

}  // namespace custos::schema
