// The pending token of the thread running a request's handler; see pending_token.h.
#include "vault/pending_token.h"

namespace custos::vault {
namespace {

thread_local PendingToken* installed = nullptr;

}  // namespace

ScopedPendingToken::ScopedPendingToken(PendingToken* token) : previous_(installed) {
  installed = token;
}

ScopedPendingToken::~ScopedPendingToken() { installed = previous_; }

PendingToken* PendingTokenOfThisThread() { return installed; }

}  // namespace custos::vault
