// The audit journal's file format and its writer (journal.h).
#include "audit/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include <fmt/core.h>

#include "audit/internal/little_endian.h"
#include "core/ascii.h"

namespace custos::audit {
namespace {

constexpr std::string_view kMagic = "CUSTOSJ1";
constexpr std::string_view kMacLabel = "custos-audit-journal/1";
// The writer's random half of a journal id (the other half is the segment's number).
constexpr size_t kWriterIdBytes = kJournalIdChars / 4;
// No entry comes near this; a larger length is a damaged or hostile file.
constexpr uint32_t kMaxPayload = 1U << 20;
// How long a name seen to lead to a segment's file is trusted without a new look (StillAtItsPath).
constexpr std::chrono::milliseconds kNameCheckInterval{1};

void PutText(std::string& out, std::string_view s) {
  internal::PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// What the MAC of record `index` covers: label, journal id, index, the previous MAC, payload.
std::string MacInput(std::string_view id, uint64_t index, crypto::ByteView prev_mac,
                     std::string_view payload) {
  std::string m;
  m.reserve(kMacLabel.size() + id.size() + 8 + prev_mac.size() + payload.size());
  m.append(kMacLabel);
  m.append(id);
  internal::PutU64(m, index);
  m.append(reinterpret_cast<const char*>(prev_mac.data()), prev_mac.size());
  m.append(payload);
  return m;
}

void EncodePayload(const AuditEvent& e, std::string& joined, std::string& out) {
  internal::PutU64(out, static_cast<uint64_t>(e.ts_ms));
  JoinFieldsInto(e.fields, joined);
  for (const std::string* s : std::initializer_list<const std::string*>{
           &e.actor, &e.action, &e.target, &e.purpose, &e.channel, &e.decision, &e.reason, &joined,
           &e.request_id}) {
    PutText(out, *s);
  }
}

Result<AuditEvent> DecodePayload(std::string_view p) {
  AuditEvent e;
  if (p.size() < 8) return DataLoss("payload too short");
  e.ts_ms = static_cast<int64_t>(internal::GetLe(p, 0, 8));
  size_t at = 8;
  std::string joined;
  for (std::string* s : {&e.actor, &e.action, &e.target, &e.purpose, &e.channel, &e.decision,
                         &e.reason, &joined, &e.request_id}) {
    if (p.size() - at < 4) return DataLoss("payload cut inside a field");
    const uint64_t n = internal::GetLe(p, at, 4);
    at += 4;
    if (p.size() - at < n) return DataLoss("payload cut inside a field");
    s->assign(p.substr(at, n));
    at += n;
  }
  if (at != p.size()) return DataLoss("payload longer than its fields");
  e.fields = SplitFields(joined);
  return e;
}

std::string Header(std::string_view id) {
  std::string h(kMagic);
  h.append(id);
  return h;
}

}  // namespace

std::string EncodeJournalPosition(const JournalPosition& position) {
  return fmt::format("{} {} {}", position.offset, position.index,
                     position.prev_mac.empty() ? "-" : crypto::ToHex(position.prev_mac));
}

Result<JournalPosition> DecodeJournalPosition(std::string_view text) {
  const auto bad = [] { return DataLoss("audit journal position: malformed"); };
  const size_t a = text.find(' ');
  const size_t b = a == std::string_view::npos ? a : text.find(' ', a + 1);
  if (b == std::string_view::npos) return bad();
  const std::string_view off = text.substr(0, a);
  const std::string_view idx = text.substr(a + 1, b - a - 1);
  if (off.empty() || idx.empty() || off.size() > 19 || idx.size() > 19 ||
      !core::AllAsciiDigits(off) || !core::AllAsciiDigits(idx)) {
    return bad();
  }
  JournalPosition p;
  p.offset = std::stoull(std::string(off));
  p.index = std::stoull(std::string(idx));
  const std::string_view mac = text.substr(b + 1);
  if (mac != "-") {
    auto bytes = crypto::FromHex(mac);
    if (!bytes.ok()) return bad();
    p.prev_mac = std::move(*bytes);
  }
  if ((p.index == 0) != p.prev_mac.empty()) return bad();
  return p;
}

bool IsJournalId(std::string_view id) {
  return id.size() == kJournalIdChars && std::all_of(id.begin(), id.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

std::string JournalMetaKey(std::string_view id) { return fmt::format("audit.journal.{}", id); }

namespace {

// ScanJournal's work: fills `scan` record by record (a record is added only once it is checked),
// so on DataLoss `scan` holds the authentic records before the damage.
Status ScanInto(const std::filesystem::path& path, std::string_view id, const crypto::Mac& mac,
                const JournalPosition& from, size_t max_events, JournalScan& scan) {
  const auto damaged = [&](uint64_t index, std::string_view what) {
    return DataLoss(fmt::format("audit journal {} record {}: {}", id, index, what));
  };
  const auto unreadable = [&](std::string_view step) {
    return Unavailable(
        fmt::format("audit journal {}: {}: {}", path.string(), step, std::strerror(errno)));
  };
  scan.end = from;
  // O_NONBLOCK: a FIFO put under a journal's name must not make the open wait for a writer
  // (the fold would hang); reads of a regular file ignore it.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) {
    if (errno == ENOENT) return NotFound(fmt::format("audit journal {}: gone", id));
    return unreadable("open");
  }
  ScopedFd closer(fd);
  struct stat st {};
  if (::fstat(fd, &st) != 0) return unreadable("stat");
  if (!S_ISREG(st.st_mode)) {
    return DataLoss(fmt::format("audit journal {}: not a regular file", id));
  }
  scan.file_size = static_cast<uint64_t>(st.st_size);
  // Reads [at, at + n) whole (a journal is only appended to, so no read comes back short
  // unless the file was cut meanwhile).
  const auto read_at = [&](uint64_t at, uint64_t n, std::string& out) -> Status {
    out.resize(n);
    uint64_t got = 0;
    while (got < n) {
      const ssize_t r = ::pread(fd, out.data() + got, n - got, static_cast<off_t>(at + got));
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) return unreadable("read");
      if (r == 0) return damaged(scan.end.index, "the journal was cut while it was read");
      got += static_cast<uint64_t>(r);
    }
    return Status::Ok();
  };
  const std::string expected = Header(id);
  std::string header;
  CUSTOS_RETURN_IF_ERROR(
      read_at(0, std::min<uint64_t>(scan.file_size, kJournalHeaderBytes), header));
  if (header != expected) {
    // A header cut by a crash right after the file was created holds no record yet.
    if (header.size() < kJournalHeaderBytes && expected.compare(0, header.size(), header) == 0 &&
        from.index == 0) {
      scan.partial_bytes = header.size();
      return Status::Ok();
    }
    return DataLoss(fmt::format("audit journal {}: the header is not this journal's", id));
  }
  if (scan.end.offset == 0) scan.end.offset = kJournalHeaderBytes;
  if (scan.end.offset > scan.file_size) {
    return damaged(scan.end.index, "the journal is shorter than what was folded (cut?)");
  }
  const uint64_t base = scan.end.offset;
  std::string data;
  CUSTOS_RETURN_IF_ERROR(read_at(base, scan.file_size - base, data));
  const std::string_view bytes(data);
  std::string joined;
  while (scan.events.size() < max_events) {
    const size_t at = scan.end.offset - base;
    const size_t left = bytes.size() - at;
    if (left == 0) break;
    if (left < 4) {
      scan.partial_bytes = left;
      break;
    }
    const uint64_t len = internal::GetLe(bytes, at, 4);
    if (len > kMaxPayload) return damaged(scan.end.index, "length out of range");
    const size_t tag_size = 32;
    if (left < 4 + len + tag_size) {
      scan.partial_bytes = left;
      break;
    }
    const std::string_view payload = bytes.substr(at + 4, len);
    const std::string_view tag = bytes.substr(at + 4 + len, tag_size);
    const std::string input = MacInput(id, scan.end.index, scan.end.prev_mac, payload);
    if (!mac.Verify(crypto::AsBytes(input), crypto::AsBytes(tag))) {
      return damaged(scan.end.index,
                     "MAC does not match (edited, moved, reordered or a record removed?)");
    }
    auto event = DecodePayload(payload);
    if (!event.ok()) return damaged(scan.end.index, event.status().message());
    // Authentic but not a valid entry (only a bug or the journal key could write one).
    if (Status valid = ValidateEvent(*event); !valid.ok()) {
      return damaged(scan.end.index,
                     "an authentic record is not a valid entry: " + valid.message());
    }
    scan.events.push_back(std::move(*event));
    scan.end.offset += 4 + len + tag_size;
    ++scan.end.index;
    scan.end.prev_mac.assign(tag.begin(), tag.end());
  }
  return Status::Ok();
}

}  // namespace

Result<JournalScan> ScanJournal(const std::filesystem::path& path, std::string_view id,
                                const crypto::Mac& mac, const JournalPosition& from,
                                size_t max_events) {
  JournalScan scan;
  CUSTOS_RETURN_IF_ERROR(ScanInto(path, id, mac, from, max_events, scan));
  return scan;
}

Result<JournalScan> ScanJournalPrefix(const std::filesystem::path& path, std::string_view id,
                                      const crypto::Mac& mac, const JournalPosition& from) {
  JournalScan scan;
  Status st = ScanInto(path, id, mac, from, SIZE_MAX, scan);
  if (st.code() == Code::kDataLoss) {
    scan.damage = std::move(st);
    return scan;
  }
  CUSTOS_RETURN_IF_ERROR(st);
  return scan;
}

struct JournalWriter::Segment {
  std::string id;
  std::filesystem::path path;
  int lock_fd = -1;
  std::unique_ptr<WritableFile> file;
  uint64_t size = kJournalHeaderBytes;  // the length after the last whole append
  uint64_t index = 0;
  crypto::Bytes prev_mac;
  // When the name was last seen to lead to this file (StillAtItsPath); none before the first.
  std::optional<std::chrono::steady_clock::time_point> name_checked;

  Segment() = default;
  Segment(const Segment&) = delete;
  Segment& operator=(const Segment&) = delete;
  ~Segment() {
    if (file != nullptr) (void)file->Close();
    if (lock_fd >= 0) ::close(lock_fd);  // releases the flock: the segment is an orphan now
  }
};

JournalWriter::JournalWriter(Env& env, std::filesystem::path dir, std::unique_ptr<crypto::Mac> mac,
                             uint64_t rotate_bytes)
    : env_(env),
      dir_(std::move(dir)),
      mac_(std::move(mac)),
      rotate_bytes_(rotate_bytes),
      writer_id_(crypto::ToHex(crypto::RandomBytes(kWriterIdBytes))) {}

JournalWriter::~JournalWriter() = default;

Result<std::unique_ptr<JournalWriter::Segment>> JournalWriter::NewSegment() {
  auto seg = std::make_unique<Segment>();
  // The writer's random half, then the segment's number: names sort in the order a writer
  // made its segments, which is the order a fold takes them in.
  seg->id = fmt::format("{}{:016x}", writer_id_, next_segment_++);
  seg->path = dir_ / (seg->id + std::string(kJournalSuffix));
  // Made under a name no fold reads (not a journal's), locked and headed there, then renamed
  // into place: a fold never sees the segment before its owner holds it. (A fold that found it
  // unheld and empty would take it for an ended process's and remove it, and the writer would
  // then find its file gone.)
  const std::filesystem::path path = seg->path;
  const std::filesystem::path making = path.string() + ".new";
  CUSTOS_ASSIGN_OR_RETURN(seg->file, env_.NewWritableFile(making, OpenMode::kExclusive, 0600));
  seg->lock_fd = ::open(making.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  Status st;
  if (seg->lock_fd < 0 || ::flock(seg->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    st =
        Unavailable(fmt::format("audit journal {}: lock: {}", path.string(), std::strerror(errno)));
  }
  if (st.ok()) st = seg->file->Append(Header(seg->id));
  if (st.ok()) st = seg->file->Sync();
  if (st.ok()) st = env_.RenameFile(making, path);
  if (st.ok()) st = env_.SyncDir(dir_);
  if (!st.ok()) {
    seg.reset();
    (void)env_.RemoveFile(making);
    (void)env_.RemoveFile(path);
    return st;
  }
  return seg;
}

Result<std::unique_ptr<JournalWriter>> JournalWriter::Create(Env& env,
                                                             const std::filesystem::path& dir,
                                                             std::unique_ptr<crypto::Mac> mac,
                                                             uint64_t rotate_bytes) {
  if (mac == nullptr) return InvalidArgument("audit journal: no MAC key");
  CUSTOS_RETURN_IF_ERROR(env.CreateDirDurable(dir, 0700));
  // The first segment is made by the first append: a process that reads nothing leaves no file.
  return std::unique_ptr<JournalWriter>(new JournalWriter(env, dir, std::move(mac), rotate_bytes));
}

std::filesystem::path JournalWriter::path() const {
  std::lock_guard lock(mu_);
  return last_path_;
}

uint64_t JournalWriter::appended() const {
  std::lock_guard lock(mu_);
  return appended_;
}

Status JournalWriter::StillAtItsPath(Segment& seg) {
  struct stat held {};
  if (::fstat(seg.lock_fd, &held) != 0) {
    return Unavailable(fmt::format("audit journal {}: stat: {}", seg.id, std::strerror(errno)));
  }
  if (held.st_nlink > 0) {
    const auto now = std::chrono::steady_clock::now();
    if (held.st_nlink == 1 && seg.name_checked.has_value() &&
        now - *seg.name_checked < kNameCheckInterval) {
      return Status::Ok();
    }
    struct stat named {};
    if (::lstat(seg.path.c_str(), &named) == 0 && named.st_ino == held.st_ino &&
        named.st_dev == held.st_dev) {
      seg.name_checked = now;
      return Status::Ok();
    }
  }
  return DataLoss(fmt::format(
      "audit journal {}: its file was removed or replaced while in use (not by Custos): the "
      "access is refused, and its records not yet folded into the log are lost (recorded as "
      "audit.journal.lost)",
      seg.id));
}

std::vector<LostJournal> JournalWriter::lost() const {
  std::lock_guard lock(mu_);
  return lost_;
}

Status JournalWriter::Append(const std::vector<AuditEvent>& events) {
  if (events.empty()) return Status::Ok();
  for (const AuditEvent& e : events) CUSTOS_RETURN_IF_ERROR(ValidateEvent(e));
  std::lock_guard lock(mu_);
  // Records written to a file that is no longer at its path would never be folded: the reads
  // they record would be answered without an audit entry. Refuse, and start a new segment at
  // the next append. Checked before a rotation too, so that a segment removed as it filled up
  // is recorded lost as well.
  if (segment_ != nullptr) {
    if (Status at_path = StillAtItsPath(*segment_); !at_path.ok()) {
      if (at_path.code() == Code::kDataLoss) lost_.push_back({segment_->id, segment_->index});
      segment_.reset();
      return at_path;
    }
  }
  if (segment_ != nullptr && segment_->size >= rotate_bytes_) segment_.reset();
  if (segment_ == nullptr) {
    CUSTOS_ASSIGN_OR_RETURN(segment_, NewSegment());
    last_path_ = segment_->path;
  }
  Segment& seg = *segment_;
  buffer_.clear();
  std::string joined;
  std::string payload;
  uint64_t index = seg.index;
  crypto::Bytes prev = seg.prev_mac;
  for (const AuditEvent& e : events) {
    payload.clear();
    EncodePayload(e, joined, payload);
    if (payload.size() > kMaxPayload) {
      return InvalidArgument("audit journal: an entry is over 1 MiB");
    }
    internal::PutU32(buffer_, static_cast<uint32_t>(payload.size()));
    buffer_.append(payload);
    crypto::Bytes tag = mac_->Compute(crypto::AsBytes(MacInput(seg.id, index, prev, payload)));
    buffer_.append(reinterpret_cast<const char*>(tag.data()), tag.size());
    prev = std::move(tag);
    ++index;
  }
  Status st = seg.file->Append(buffer_);
  if (!st.ok()) {
    // Some prefix may be on disk, whole records included, for accesses whose answers are now
    // withheld: cut it (best effort). If the cut fails too, a fold may take those records as
    // entries: an entry too many for a refused access, never one too few. Either way the
    // segment's end is in doubt: it takes no more records, and the next append starts anew.
    (void)env_.TruncateFile(seg.path, seg.size);
    segment_.reset();
    return st;
  }
  seg.size += buffer_.size();
  seg.index = index;
  seg.prev_mac = std::move(prev);
  appended_ += events.size();
  return Status::Ok();
}

bool JournalHeld(const std::filesystem::path& path) {
  // Without waiting: opening a FIFO under the name would wait for a writer (ScanInto).
  const ScopedFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK));
  if (fd.get() < 0) return false;
  return ::flock(fd.get(), LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
}

}  // namespace custos::audit
