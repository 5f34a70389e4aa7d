#include "scan/scanner.h"

#include <hs/hs.h>

#include <algorithm>
#include <array>
#include <iterator>
#include <mutex>

#include "core/dates.h"
#include "scan/byte_search.h"
#include "scan/patterns.h"

namespace custos::scan {
namespace {

// Bytes kept behind the newest byte: enough for every pending trigger's look-behind and every
// pending candidate's value.
constexpr size_t kKeep = 4096;

std::string HsError(hs_error_t e) { return "hyperscan error " + std::to_string(e); }

// The pattern id (index in TriggerPatterns) of each DigitTriggers match.
uint32_t NativePatternId(DigitTriggers::Match m) {
  static const std::array<uint32_t, 3> ids = [] {
    std::array<uint32_t, 3> out{};
    const auto patterns = TriggerPatterns();
    for (uint32_t i = 0; i < patterns.size(); ++i) {
      switch (patterns[i].kind) {
        case TriggerKind::kDigitRun:
          out[static_cast<size_t>(DigitTriggers::Match::kDigitRun)] = i;
          break;
        case TriggerKind::kDigitGroups:
          out[static_cast<size_t>(DigitTriggers::Match::kDigitGroups)] = i;
          break;
        case TriggerKind::kIpv4:
          out[static_cast<size_t>(DigitTriggers::Match::kIpv4)] = i;
          break;
        default:
          break;
      }
    }
    return out;
  }();
  return ids[static_cast<size_t>(m)];
}

}  // namespace

// ---- Scanner ----

Result<std::unique_ptr<Scanner>> Scanner::Create() {
  if (hs_valid_platform() != HS_SUCCESS) {
    return Unavailable("this CPU cannot run Hyperscan (SSSE3 is required)");
  }
  std::unique_ptr<Scanner> s(new Scanner());
  const auto patterns = TriggerPatterns();
  for (int group = 0; group < TriggerGroupCount(); ++group) {
    std::vector<std::string> exprs;
    std::vector<const char*> ptrs;
    std::vector<unsigned> flags;
    std::vector<unsigned> ids;
    for (size_t i = 0; i < patterns.size(); ++i) {
      if (patterns[i].group != group) continue;
      exprs.emplace_back(patterns[i].regex);
      flags.push_back(patterns[i].utf8 ? HS_FLAG_UTF8 : 0u);
      ids.push_back(static_cast<unsigned>(i));
    }
    ptrs.reserve(exprs.size());
    for (const auto& e : exprs) ptrs.push_back(e.c_str());
    hs_database_t* db = nullptr;
    hs_compile_error_t* err = nullptr;
    if (hs_compile_multi(ptrs.data(), flags.data(), ids.data(), static_cast<unsigned>(ptrs.size()),
                         HS_MODE_STREAM, nullptr, &db, &err) != HS_SUCCESS) {
      const int which = err != nullptr ? err->expression : -1;
      hs_free_compile_error(err);
      return Internal("trigger pattern " +
                      std::to_string(which >= 0 ? ids[static_cast<size_t>(which)] : 0) +
                      " of group " + std::to_string(group) + " does not compile");
    }
    s->databases_.push_back(db);
  }
  return s;
}

namespace {

struct DefaultScanner {
  std::unique_ptr<Scanner> scanner;
  Status status;
};

const DefaultScanner& TheDefault() {
  static const DefaultScanner d = [] {
    DefaultScanner out;
    auto s = Scanner::Create();
    if (s.ok()) {
      out.scanner = std::move(*s);
    } else {
      out.status = s.status();
    }
    return out;
  }();
  return d;
}

}  // namespace

const Scanner* Scanner::Default() { return TheDefault().scanner.get(); }
Status Scanner::DefaultStatus() { return TheDefault().status; }

Scanner::~Scanner() {
  for (auto* db : databases_) hs_free_database(db);
}

Result<std::unique_ptr<ScanStream>> Scanner::NewStream() const {
  std::unique_ptr<ScanStream> st(new ScanStream(*this));
  for (auto* db : databases_) {
    if (hs_alloc_scratch(db, &st->scratch_) != HS_SUCCESS) {
      return Internal("cannot allocate hyperscan scratch space");
    }
    hs_stream_t* stream = nullptr;
    if (hs_open_stream(db, 0, &stream) != HS_SUCCESS) {
      return Internal("cannot open a hyperscan stream");
    }
    st->streams_.push_back(stream);
  }
  return st;
}

// ---- ScanStream ----

ScanStream::ScanStream(const Scanner& /*scanner*/) { ctx_.today = core::TodayInChina(); }

ScanStream::~ScanStream() {
  for (auto* s : streams_) hs_close_stream(s, scratch_, nullptr, nullptr);
  if (scratch_ != nullptr) hs_free_scratch(scratch_);
}

void ScanStream::Begin(FindingSink sink) {
  if (dirty_) {
    for (auto* s : streams_) hs_reset_stream(s, 0, scratch_, nullptr, nullptr);
  }
  dirty_ = false;
  digits_.Reset();
  sink_ = std::move(sink);
  buf_.clear();
  base_ = end_ = 0;
  triggers_.clear();
  candidates_.clear();
  line_offset_ = 0;
  line_ = 1;
  emitted_end_ = 0;
  ctx_.number_done_until = 0;
}

int ScanStream::OnMatch(unsigned id, unsigned long long /*from*/, unsigned long long to,
                        unsigned /*flags*/, void* self) {
  static_cast<ScanStream*>(self)->triggers_.push_back({id, static_cast<uint64_t>(to)});
  return 0;
}

namespace {

bool TriggerBefore(const ScanStream::Trigger& a, const ScanStream::Trigger& b) {
  return a.end != b.end ? a.end < b.end : a.pattern < b.pattern;
}

}  // namespace

void ScanStream::MergeTriggers(size_t from) {
  // Each source reports in order of end (ties by pattern are sorted here, they are rare);
  // merging the sources is linear where sorting everything per buffer was not.
  const auto mid = triggers_.begin() + static_cast<ptrdiff_t>(from);
  if (!std::is_sorted(mid, triggers_.end(), TriggerBefore)) {
    std::sort(mid, triggers_.end(), TriggerBefore);
  }
  if (mid == triggers_.begin() || mid == triggers_.end() || !TriggerBefore(*mid, *(mid - 1))) {
    return;
  }
  merged_.clear();
  std::merge(triggers_.begin(), mid, mid, triggers_.end(), std::back_inserter(merged_),
             TriggerBefore);
  triggers_.swap(merged_);
}

Status ScanStream::ScanBytes(std::string_view bytes) {
  for (auto* s : streams_) {
    const size_t from = triggers_.size();
    const hs_error_t e = hs_scan_stream(s, bytes.data(), static_cast<unsigned>(bytes.size()), 0,
                                        scratch_, &ScanStream::OnMatch, this);
    if (e != HS_SUCCESS) return Internal(HsError(e));
    MergeTriggers(from);
  }
  const size_t from = triggers_.size();
  digits_.Scan(bytes, end_, [this](DigitTriggers::Match m, uint64_t to) {
    triggers_.push_back({NativePatternId(m), to});
  });
  MergeTriggers(from);
  return Status::Ok();
}

Status ScanStream::Feed(std::string_view bytes) {
  // Hyperscan takes lengths as unsigned int; feed very large buffers in pieces.
  constexpr size_t kPiece = size_t{1} << 20;
  while (!bytes.empty()) {
    const std::string_view piece = bytes.substr(0, kPiece);
    bytes.remove_prefix(piece.size());
    buf_.append(piece);
    dirty_ = true;
    CUSTOS_RETURN_IF_ERROR(ScanBytes(piece));
    end_ += piece.size();
    Process(false);
    Trim();
  }
  return Status::Ok();
}

Status ScanStream::Finish() {
  dirty_ = true;
  // One newline after the input lets "digits then a non-digit" triggers fire for a number
  // at the very end. It is scanned, never stored: no candidate can include it.
  CUSTOS_RETURN_IF_ERROR(ScanBytes("\n"));
  for (auto* s : streams_) {
    const size_t from = triggers_.size();
    const hs_error_t e = hs_reset_stream(s, 0, scratch_, &ScanStream::OnMatch, this);
    if (e != HS_SUCCESS) return Internal(HsError(e));
    MergeTriggers(from);
  }
  dirty_ = false;  // the streams are reset: Begin need not reset them again
  Process(true);
  return Status::Ok();
}

Result<std::vector<Finding>> ScanStream::ScanAll(std::string_view text) {
  std::vector<Finding> out;
  Begin([&out](Finding&& f) { out.push_back(std::move(f)); });
  CUSTOS_RETURN_IF_ERROR(Feed(text));
  CUSTOS_RETURN_IF_ERROR(Finish());
  return out;
}

void ScanStream::Process(bool final) {
  const uint64_t limit = final ? UINT64_MAX : (end_ > kLookahead ? end_ - kLookahead : 0);
  // Extract every trigger whose look-ahead has arrived (triggers_ is kept in order of end).
  const auto patterns = TriggerPatterns();
  const Window w{buf_, base_, base_ == 0, final};
  size_t done = 0;
  for (; done < triggers_.size() && triggers_[done].end <= limit; ++done) {
    const Trigger& t = triggers_[done];
    if (t.end < base_) continue;  // cannot happen: Trim keeps the look-behind
    const size_t idx = static_cast<size_t>(std::min<uint64_t>(t.end - base_, buf_.size()));
    Extract(patterns[t.pattern].kind, w, idx, ctx_, candidates_);
  }
  triggers_.erase(triggers_.begin(), triggers_.begin() + static_cast<ptrdiff_t>(done));

  // Emit the clusters of overlapping candidates that no later trigger can still touch: a
  // later candidate starts at most kLookbehind before its trigger's end, which is > limit.
  const uint64_t next_trigger = triggers_.empty() ? limit : std::min(limit, triggers_[0].end);
  const uint64_t bound =
      final ? UINT64_MAX : (next_trigger > kLookbehind ? next_trigger - kLookbehind : 0);
  std::sort(candidates_.begin(), candidates_.end(),
            [](const Candidate& a, const Candidate& b) { return a.start < b.start; });
  size_t i = 0;
  while (i < candidates_.size()) {
    size_t j = i + 1;
    uint64_t cluster_end = candidates_[i].end;
    while (j < candidates_.size() && candidates_[j].start < cluster_end) {
      cluster_end = std::max(cluster_end, candidates_[j].end);
      ++j;
    }
    if (cluster_end > bound) break;
    if (j == i + 1) {
      // Most candidates overlap nothing: emit without copying.
      if (candidates_[i].start >= emitted_end_) Emit(candidates_[i]);
    } else {
      cluster_.assign(std::make_move_iterator(candidates_.begin() + static_cast<ptrdiff_t>(i)),
                      std::make_move_iterator(candidates_.begin() + static_cast<ptrdiff_t>(j)));
      Resolve(cluster_);
    }
    i = j;
  }
  candidates_.erase(candidates_.begin(), candidates_.begin() + static_cast<ptrdiff_t>(i));
}

void ScanStream::Resolve(std::vector<Candidate>& cluster) {
  if (cluster.size() > 1) {
    std::sort(cluster.begin(), cluster.end(), [](const Candidate& a, const Candidate& b) {
      if (TypeRank(a.type) != TypeRank(b.type)) return TypeRank(a.type) < TypeRank(b.type);
      if (a.confidence != b.confidence) return a.confidence > b.confidence;
      return a.end - a.start > b.end - b.start;
    });
    std::vector<Candidate> kept;
    for (auto& c : cluster) {
      const bool overlaps = std::any_of(kept.begin(), kept.end(), [&](const Candidate& k) {
        return c.start < k.end && k.start < c.end;
      });
      if (!overlaps) kept.push_back(std::move(c));
    }
    std::sort(kept.begin(), kept.end(),
              [](const Candidate& a, const Candidate& b) { return a.start < b.start; });
    cluster = std::move(kept);
  }
  for (const auto& c : cluster) {
    if (c.start < emitted_end_) continue;
    Emit(c);
  }
}

void ScanStream::Emit(const Candidate& c) {
  Finding f;
  f.type = c.type;
  f.offset = c.start;
  f.length = static_cast<uint32_t>(c.end - c.start);
  f.confidence = c.confidence;
  if (c.start >= base_ && c.end <= end_) {
    if (c.start > line_offset_ && line_offset_ >= base_) {
      line_ += CountByte(std::string_view(buf_).substr(static_cast<size_t>(line_offset_ - base_),
                                                       static_cast<size_t>(c.start - line_offset_)),
                         '\n');
      line_offset_ = c.start;
    }
    if (with_values_) f.value = buf_.substr(static_cast<size_t>(c.start - base_), f.length);
  }
  f.line = line_;
  if (with_values_) {
    f.normalized = c.normalized;
    f.masked = MaskValue(c.type, c.normalized);
    f.detail = std::string(c.detail);
  }
  emitted_end_ = c.end;
  if (sink_) sink_(std::move(f));
}

void ScanStream::Trim() {
  if (buf_.size() < 4 * kKeep) return;
  const uint64_t new_base = end_ - kKeep;
  if (line_offset_ < new_base) {
    line_ += CountByte(std::string_view(buf_).substr(static_cast<size_t>(line_offset_ - base_),
                                                     static_cast<size_t>(new_base - line_offset_)),
                       '\n');
    line_offset_ = new_base;
  }
  buf_.erase(0, static_cast<size_t>(new_base - base_));
  base_ = new_base;
}

}  // namespace custos::scan
