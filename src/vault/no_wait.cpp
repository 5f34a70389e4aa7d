// The scope of a thread that must not wait; see no_wait.h.
#include "vault/no_wait.h"

namespace custos::vault {
namespace {

thread_local NoWaitScope* installed = nullptr;

}  // namespace

NoWaitScope::NoWaitScope() : previous_(installed) { installed = this; }

NoWaitScope::~NoWaitScope() { installed = previous_; }

NoWaitScope* NoWaitScope::Binding() {
  return installed != nullptr && !installed->completed_ ? installed : nullptr;
}

}  // namespace custos::vault
