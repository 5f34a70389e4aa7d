// NoWaitScope: a thread that must not wait — an event-loop thread of the HTTP edge (issue 14) —
// asks the vault for an answer only if it can give one without waiting for a commit, for the
// journal's fold or for another request's group-commit batch (docs/decisions.md, "Reads on the
// event loop").
//
// The edge (api/pipeline.cpp) installs one on the stack around a handler it runs on an
// event-loop thread. While it is installed, GroupCommit::Run (group_commit.h), through which
// every audited read goes:
//   - runs a read that the process's read journal takes ([audit] read_journal) as always: alone,
//     on one of the store's read connections, its entry appended to the journal before it
//     returns. It does not help the fold on this thread (JournalFolder::KeepUp): the thread that
//     folds may wait;
//   - declines every other call: a read the journal cannot take (no journal, a read of the audit
//     log), a read whose step wrote (a token's new address: it would rerun as a batch), and any
//     read while the journal's fold is behind (JournalFolder::Behind). Declining returns
//     Unavailable before anything of the call is kept (no entry, no row, no settled token) and
//     marks the scope declined(). The caller discards whatever its handler answered and runs the
//     whole request again on a thread that may wait.
//   - once a call completed in the scope, the scope stands aside: later calls of the same handler
//     run and wait as on any thread, since running the request again would repeat the audit
//     entry of the call that completed.
// Only GroupCommit::Run looks at the scope, so a handler run under it must make no other vault
// call that waits: the edge runs only public routes (no vault call) and token_in_read routes
// (one audited read, vault::Read) under it.
//
// Thread safety: the installed scope is per thread; GroupCommit consults it on the thread that
// calls Run, which for a journalled read is also the thread that runs the step.
#pragma once

namespace custos::vault {

class NoWaitScope {
 public:
  NoWaitScope();  // installs this scope on the calling thread (the previous one comes back after)
  ~NoWaitScope();
  NoWaitScope(const NoWaitScope&) = delete;
  NoWaitScope& operator=(const NoWaitScope&) = delete;

  // True once a call declined: the request must run again on a thread that may wait.
  bool declined() const { return declined_; }

  // The scope that binds the calling thread now: the installed one, unless a call already
  // completed in it (then nullptr, as on a thread without a scope).
  static NoWaitScope* Binding();

  // For GroupCommit: marks the scope declined. A call completed: the scope stands aside.
  void Decline() { declined_ = true; }
  void Completed() { completed_ = true; }

 private:
  NoWaitScope* previous_;
  bool declined_ = false;
  bool completed_ = false;
};

}  // namespace custos::vault
