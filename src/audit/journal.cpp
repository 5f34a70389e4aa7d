// The audit journal's file format and its writer (journal.h).
#include "audit/journal.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/core.h>

#include "core/ascii.h"

namespace custos::audit {
namespace {

constexpr std::string_view kMagic = "CUSTOSJ1";
constexpr std::string_view kMacLabel = "custos-audit-journal/1";
constexpr size_t kIdChars = 32;
// No entry comes near this; a larger length is a damaged or hostile file.
constexpr uint32_t kMaxPayload = 1U << 20;

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
void PutU64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xFF));
}
uint64_t GetLe(std::string_view in, size_t at, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) {
    v = (v << 8) | static_cast<uint8_t>(in[at + static_cast<size_t>(i)]);
  }
  return v;
}
void PutText(std::string& out, std::string_view s) {
  PutU32(out, static_cast<uint32_t>(s.size()));
  out.append(s);
}

// What the MAC of record `index` covers: label, journal id, index, the previous MAC, payload.
std::string MacInput(std::string_view id, uint64_t index, crypto::ByteView prev_mac,
                     std::string_view payload) {
  std::string m;
  m.reserve(kMacLabel.size() + id.size() + 8 + prev_mac.size() + payload.size());
  m.append(kMacLabel);
  m.append(id);
  PutU64(m, index);
  m.append(reinterpret_cast<const char*>(prev_mac.data()), prev_mac.size());
  m.append(payload);
  return m;
}

void EncodePayload(const AuditEvent& e, std::string& joined, std::string& out) {
  PutU64(out, static_cast<uint64_t>(e.ts_ms));
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
  e.ts_ms = static_cast<int64_t>(GetLe(p, 0, 8));
  size_t at = 8;
  std::string joined;
  for (std::string* s : {&e.actor, &e.action, &e.target, &e.purpose, &e.channel, &e.decision,
                         &e.reason, &joined, &e.request_id}) {
    if (p.size() - at < 4) return DataLoss("payload cut inside a field");
    const uint64_t n = GetLe(p, at, 4);
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

std::string JournalMetaKey(std::string_view id) { return fmt::format("audit.journal.{}", id); }

Result<JournalScan> ScanJournal(std::string_view id, std::string_view bytes, const crypto::Mac& mac,
                                const JournalPosition& from, size_t max_events) {
  const auto damaged = [&](uint64_t index, std::string_view what) {
    return DataLoss(fmt::format("audit journal {} record {}: {}", id, index, what));
  };
  if (bytes.size() < kJournalHeaderBytes || bytes.substr(0, kJournalHeaderBytes) != Header(id)) {
    // A header cut by a crash right after the file was created holds no record yet.
    if (bytes.size() < kJournalHeaderBytes && Header(id).substr(0, bytes.size()) == bytes &&
        from.index == 0) {
      JournalScan scan;
      scan.end = from;
      scan.partial_bytes = bytes.size();
      return scan;
    }
    return DataLoss(fmt::format("audit journal {}: the header is not this journal's", id));
  }
  JournalScan scan;
  scan.end = from;
  if (scan.end.offset == 0) scan.end.offset = kJournalHeaderBytes;
  if (scan.end.offset > bytes.size()) {
    return damaged(scan.end.index, "the journal is shorter than what was folded (cut?)");
  }
  std::string joined;
  while (scan.events.size() < max_events) {
    const size_t at = scan.end.offset;
    const size_t left = bytes.size() - at;
    if (left == 0) break;
    if (left < 4) {
      scan.partial_bytes = left;
      break;
    }
    const uint64_t len = GetLe(bytes, at, 4);
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
    scan.events.push_back(std::move(*event));
    scan.end.offset = at + 4 + len + tag_size;
    ++scan.end.index;
    scan.end.prev_mac.assign(tag.begin(), tag.end());
  }
  return scan;
}

JournalWriter::JournalWriter(Env& env, std::string id, std::filesystem::path path, int lock_fd,
                             std::unique_ptr<WritableFile> file, std::unique_ptr<crypto::Mac> mac)
    : env_(env),
      id_(std::move(id)),
      path_(std::move(path)),
      lock_fd_(lock_fd),
      file_(std::move(file)),
      mac_(std::move(mac)) {}

JournalWriter::~JournalWriter() {
  if (file_ != nullptr) (void)file_->Close();
  if (lock_fd_ >= 0) ::close(lock_fd_);  // releases the flock: the journal is an orphan now
}

Result<std::unique_ptr<JournalWriter>> JournalWriter::Create(Env& env,
                                                             const std::filesystem::path& dir,
                                                             std::unique_ptr<crypto::Mac> mac) {
  if (mac == nullptr) return InvalidArgument("audit journal: no MAC key");
  CUSTOS_RETURN_IF_ERROR(env.CreateDirDurable(dir, 0700));
  const std::string id = crypto::ToHex(crypto::RandomBytes(kIdChars / 2));
  const std::filesystem::path path = dir / (id + std::string(kJournalSuffix));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<WritableFile> file,
                          env.NewWritableFile(path, OpenMode::kExclusive, 0600));
  const auto fail = [&](std::string_view step) {
    (void)file->Close();
    (void)env.RemoveFile(path);
    return Unavailable(
        fmt::format("audit journal {}: {}: {}", path.string(), step, std::strerror(errno)));
  };
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return fail("open for the lock");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    ::close(fd);
    return fail("lock");
  }
  Status st = file->Append(Header(id));
  if (st.ok()) st = file->Sync();
  if (st.ok()) st = env.SyncDir(dir);
  if (!st.ok()) {
    ::close(fd);
    (void)file->Close();
    (void)env.RemoveFile(path);
    return st;
  }
  return std::unique_ptr<JournalWriter>(
      new JournalWriter(env, id, path, fd, std::move(file), std::move(mac)));
}

Status JournalWriter::Append(const std::vector<AuditEvent>& events) {
  if (events.empty()) return Status::Ok();
  for (const AuditEvent& e : events) CUSTOS_RETURN_IF_ERROR(ValidateEvent(e));
  std::lock_guard lock(mu_);
  if (!failed_.ok()) return failed_;
  buffer_.clear();
  std::string joined;
  std::string payload;
  uint64_t index = index_;
  crypto::Bytes prev = prev_mac_;
  for (const AuditEvent& e : events) {
    payload.clear();
    EncodePayload(e, joined, payload);
    if (payload.size() > kMaxPayload) {
      return InvalidArgument("audit journal: an entry is over 1 MiB");
    }
    PutU32(buffer_, static_cast<uint32_t>(payload.size()));
    buffer_.append(payload);
    crypto::Bytes tag = mac_->Compute(crypto::AsBytes(MacInput(id_, index, prev, payload)));
    buffer_.append(reinterpret_cast<const char*>(tag.data()), tag.size());
    prev = std::move(tag);
    ++index;
  }
  Status st = file_->Append(buffer_);
  if (!st.ok()) {
    // Some prefix may be on disk, whole records included, for accesses whose answers are now
    // withheld: cut it (best effort). If the cut fails too, a fold may take those records as
    // entries: an entry too many for a refused access, never one too few. Either way the
    // journal's end is in doubt, so it takes no more records.
    (void)env_.TruncateFile(path_, size_);
    failed_ = Unavailable(
        fmt::format("audit journal {}: a write failed; open a new journal", path_.string()));
    return st;
  }
  size_ += buffer_.size();
  index_ = index;
  prev_mac_ = std::move(prev);
  return Status::Ok();
}

bool JournalHeld(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
  ::close(fd);
  return held;
}

}  // namespace custos::audit
