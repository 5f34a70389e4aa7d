// A store whose readers see the audit journals (journal.h) folded into the log: every
// transaction from Begin() and every snapshot first folds the journals' new records, so a
// query, a verification, an export or a backup made in any process holds every entry whose
// answer has left. BeginRead() (the journalled read itself) folds nothing.
#pragma once

#include <memory>

#include "audit/audit_log.h"
#include "store/store.h"

namespace custos::audit {

// Wraps `inner`; `log` (with a signing key and a journal directory) must outlive the result.
// A fold that fails fails the Begin (fail closed: DataLoss for a journal that is not
// authentic, as ScanJournal reports it).
std::unique_ptr<store::Store> FoldingJournals(std::unique_ptr<store::Store> inner,
                                              const AuditLog& log);

}  // namespace custos::audit
