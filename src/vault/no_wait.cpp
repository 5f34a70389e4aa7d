// The scope of a thread that must not wait; see no_wait.h.
#include "vault/no_wait.h"

namespace custos::vault {
namespace {

// Named for this file alone: the unity builds put it beside pending_token.cpp's `installed`.
thread_local NoWaitScope* installed_no_wait = nullptr;

}  // namespace

NoWaitScope::NoWaitScope() : previous_(installed_no_wait) { installed_no_wait = this; }

NoWaitScope::~NoWaitScope() { installed_no_wait = previous_; }

NoWaitScope* NoWaitScope::Binding() {
  return installed_no_wait != nullptr && !installed_no_wait->completed_ ? installed_no_wait
                                                                        : nullptr;
}

}  // namespace custos::vault
