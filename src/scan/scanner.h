// Scanner: finds personal data in byte streams with Hyperscan in streaming mode.
//
// A Scanner holds the compiled trigger databases (patterns.h); it is immutable after Create
// and may be shared by any number of threads. Each thread scans through its own ScanStream,
// which owns the Hyperscan streams and scratch space and a bounded window of recent bytes:
// memory stays constant however long the input is, a value split across two Feed calls is
// found as if it had arrived in one, and findings come out in order of offset.
//
// How a finding is made: a trigger pattern matches; once kLookahead more bytes have arrived
// (or the input ended) the extractor of its kind finds the exact span and validates it; when
// no later trigger can produce an overlapping candidate, overlapping candidates are resolved
// by type rank (an ID number beats a bank card on the same digits) and emitted.
//
// Thread safety: Scanner is safe for concurrent use. A ScanStream is not: one thread at a time.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "scan/digit_triggers.h"
#include "scan/extract.h"
#include "scan/finding.h"

struct hs_database;
struct hs_scratch;
struct hs_stream;

namespace custos::scan {

class ScanStream;

class Scanner {
 public:
  // Compiles the trigger patterns. Fails with Unavailable if this CPU cannot run Hyperscan
  // (it needs SSSE3), or Internal naming the pattern index if a pattern does not compile.
  static Result<std::unique_ptr<Scanner>> Create();

  // The process-wide scanner, compiled on first use (thread-safe). Null if Create failed;
  // then DefaultStatus() says why.
  static const Scanner* Default();
  static Status DefaultStatus();

  ~Scanner();
  Scanner(const Scanner&) = delete;
  Scanner& operator=(const Scanner&) = delete;

  // A stream for one thread. Fails with Internal if Hyperscan cannot allocate its state.
  Result<std::unique_ptr<ScanStream>> NewStream() const;

 private:
  Scanner() = default;
  friend class ScanStream;
  std::vector<hs_database*> databases_;  // one per trigger group
};

// Receives each finding, in order of offset.
using FindingSink = std::function<void(Finding&&)>;

class ScanStream {
 public:
  ~ScanStream();
  ScanStream(const ScanStream&) = delete;
  ScanStream& operator=(const ScanStream&) = delete;

  // Starts a new input (offset 0, line 1); findings go to `sink`. Any input in progress is
  // dropped without emitting its pending findings.
  void Begin(FindingSink sink);

  // Scans the next bytes of the input. Findings whose surroundings are complete are emitted
  // before it returns. Fails with Internal if Hyperscan reports an error.
  Status Feed(std::string_view bytes);

  // Ends the input and emits every remaining finding. Fails with Internal as Feed.
  Status Finish();

  // Begin + Feed + Finish over one buffer, collecting the findings.
  Result<std::vector<Finding>> ScanAll(std::string_view text);

  // Whether findings carry their value, normalised value, masked sample and detail (default
  // true). A caller that only counts findings turns it off: masking an address costs more
  // than finding it. Types, offsets, lines and confidences are always filled in.
  void set_with_values(bool on) {
    with_values_ = on;
    ctx_.want_values = on;
  }

  // Bytes of input held back for look-behind, plus pending triggers and candidates: bounded
  // by the largest Feed piece (1 MiB) plus a few KiB, whatever the input's length.
  size_t retained_bytes() const {
    return buf_.size() + triggers_.size() * sizeof(Trigger) +
           candidates_.size() * sizeof(Candidate);
  }

  // Total bytes fed since Begin.
  uint64_t bytes_scanned() const { return end_; }

  // A pattern match waiting for its look-ahead: pattern id and input offset of its end.
  struct Trigger {
    uint32_t pattern;
    uint64_t end;
  };

 private:
  explicit ScanStream(const Scanner& scanner);
  friend class Scanner;
  static int OnMatch(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
                     void* self);
  Status ScanBytes(std::string_view bytes);
  void MergeTriggers(size_t from);
  void Process(bool final);
  void Resolve(std::vector<Candidate>& cluster);
  void Emit(const Candidate& c);
  void Trim();

  hs_scratch* scratch_ = nullptr;
  std::vector<hs_stream*> streams_;
  DigitTriggers digits_;  // the patterns of kNativeGroup
  ExtractContext ctx_;
  FindingSink sink_;
  std::string buf_;  // input bytes [base_, end_)
  uint64_t base_ = 0;
  uint64_t end_ = 0;
  std::vector<Trigger> triggers_;      // not yet extracted, in order of (end, pattern)
  std::vector<Trigger> merged_;        // scratch for MergeTriggers
  std::vector<Candidate> candidates_;  // extracted, not yet emitted
  std::vector<Candidate> cluster_;     // scratch for Process
  uint64_t line_offset_ = 0;           // line cursor: line_ is the line of byte line_offset_
  uint64_t line_ = 1;
  uint64_t emitted_end_ = 0;  // end of the last emitted finding
  bool dirty_ = false;
  bool with_values_ = true;  // the Hyperscan streams have seen bytes since their last reset
};

}  // namespace custos::scan
