// PendingToken: a bearer token handed to the vault unchecked, so that the audited read it
// authenticates checks it in the same group-commit batch as the read itself — one pass through
// the batch per request instead of two (issue 14; docs/decisions.md, "The token checked in the
// read").
//
// The HTTP edge (api/pipeline.cpp) installs one on the thread that runs a request's handler
// (ScopedPendingToken), for routes that make audited reads only, and leaves the Context's actor
// empty. The admission core then, for an operation whose ctx.actor is empty on a thread with a
// pending token:
//   - Read (admission.h): checks the token inside the read's own group-commit step, before
//     admission, exactly as StaffService::Authenticate does — the same refusals, the same
//     "auth.token" deny entry for a refused token and no entry for an accepted one — and admits
//     the token's staff member as the actor. The token is settled only once that batch
//     committed; a batch that fails (Unavailable) leaves it unsettled and releases nothing.
//   - Write: checks the token first, in a group-commit batch of its own (as Authenticate).
// The first operation settles the token; later operations of the same request use the settled
// outcome. A refused token answers every operation Unauthenticated "invalid or expired token".
// An operation with a non-empty ctx.actor never looks at the pending token.
//
// Thread safety: a PendingToken belongs to one request. The installed token is per thread;
// the group-commit leader, which runs the step on its own thread, uses the pointer the reading
// thread took, never its own thread's.
#pragma once

#include <string>
#include <string_view>
#include <utility>

#include "core/status.h"

namespace custos::vault {

class PendingToken {
 public:
  // `bearer_token` is borrowed: it must outlive this object (the request's header).
  explicit PendingToken(std::string_view bearer_token) : bearer_(bearer_token) {}

  std::string_view bearer() const { return bearer_; }
  // True once some operation took the token into a batch, whatever came of it.
  bool tried() const { return tried_; }
  // True once an operation's check was committed: accepted or refused. False while it was
  // never tried, and after a check whose batch failed.
  bool settled() const { return settled_; }
  // Once settled: OK, with actor() the token's staff member, or Unauthenticated.
  const Status& outcome() const { return outcome_; }
  const std::string& actor() const { return actor_; }

  void MarkTried() { tried_ = true; }
  void Settle(Status outcome, std::string actor) {
    settled_ = true;
    outcome_ = std::move(outcome);
    actor_ = std::move(actor);
  }

 private:
  std::string_view bearer_;
  bool tried_ = false;
  bool settled_ = false;
  Status outcome_;
  std::string actor_;
};

// Installs `token` as the pending token of the calling thread for the object's lifetime (the
// previous one is restored after). Not movable: it lives on the stack of one handler call.
class ScopedPendingToken {
 public:
  explicit ScopedPendingToken(PendingToken* token);
  ~ScopedPendingToken();
  ScopedPendingToken(const ScopedPendingToken&) = delete;
  ScopedPendingToken& operator=(const ScopedPendingToken&) = delete;

 private:
  PendingToken* previous_;
};

// The pending token installed on the calling thread, or nullptr.
PendingToken* PendingTokenOfThisThread();

}  // namespace custos::vault
