#include "scan/file_scan.h"

#include <fcntl.h>
#include <fnmatch.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <cstring>
#include <filesystem>
#include <iterator>
#include <mutex>
#include <thread>

#include "core/env.h"
#include "core/output_stream.h"
#include "core/utf8.h"
#include "scan/checks.h"
#include "scan/gb18030.h"
#include "scan/tabular.h"
#include "schema/config.h"

namespace custos::scan {
namespace fs = std::filesystem;

namespace {

constexpr size_t kChunk = size_t{1} << 20;
constexpr size_t kSniff = size_t{64} << 10;

// ---- Listing ----

bool GlobMatches(const std::vector<std::string>& globs, const fs::path& p) {
  const std::string full = p.generic_string();
  const std::string name = p.filename().generic_string();
  return std::any_of(globs.begin(), globs.end(), [&](const std::string& g) {
    return ::fnmatch(g.c_str(), name.c_str(), 0) == 0 || ::fnmatch(g.c_str(), full.c_str(), 0) == 0;
  });
}

bool Wanted(const ScanOptions& o, const fs::path& p) {
  if (GlobMatches(o.exclude, p)) return false;
  return o.include.empty() || GlobMatches(o.include, p);
}

// ---- Reading ----

class Input {
 public:
  explicit Input(const std::string& path) : path_(path) {}
  ~Input() {
    if (fd_ > 0) ::close(fd_);
  }
  Status Open() {
    if (path_ == "-") {
      fd_ = 0;
      return Status::Ok();
    }
    fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd_ < 0) return Unavailable("cannot open " + path_ + ": " + std::strerror(errno));
    ::posix_fadvise(fd_, 0, 0, POSIX_FADV_SEQUENTIAL);
    return Status::Ok();
  }
  // Reads up to `max` bytes into `buf` (replacing it); empty at end of input.
  Status Read(std::string& buf, size_t max) {
    buf.resize(max);
    size_t got = 0;
    while (got < max) {
      const ssize_t n = ::read(fd_, buf.data() + got, max - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Unavailable("cannot read " + path_ + ": " + std::strerror(errno));
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    buf.resize(got);
    return Status::Ok();
  }

 private:
  std::string path_;
  int fd_ = -1;
};

Layout LayoutFor(const std::string& path, Layout requested) {
  if (requested != Layout::kAuto) return requested;
  std::string ext = fs::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (ext == ".csv") return Layout::kCsv;
  if (ext == ".tsv" || ext == ".tab") return Layout::kTsv;
  if (ext == ".jsonl" || ext == ".ndjson") return Layout::kJsonl;
  return Layout::kText;
}

std::string_view LayoutName(Layout l) {
  switch (l) {
    case Layout::kCsv:
      return "csv";
    case Layout::kTsv:
      return "tsv";
    case Layout::kJsonl:
      return "jsonl";
    default:
      return "text";
  }
}

// Valid UTF-8, allowing a character cut off by the end of the sample.
bool LooksLikeUtf8(std::string_view s) {
  for (size_t cut = 0; cut < 4 && cut <= s.size(); ++cut) {
    if (core::IsValidUtf8(s.substr(0, s.size() - cut))) return true;
    if (cut < s.size() && (static_cast<unsigned char>(s[s.size() - 1 - cut]) & 0x80) == 0) break;
  }
  return false;
}

// ---- Classification against the catalogue ----

const schema::Config* DefaultCatalogue() {
  static const auto* config = []() -> const schema::Config* {
    auto c = schema::ParseConfig(schema::DefaultConfigToml(), "default custos.toml");
    return c.ok() ? new schema::Config(std::move(*c)) : nullptr;
  }();
  return config;
}

const schema::FieldDef* FieldFor(const schema::Config* config, PiiType type) {
  if (config == nullptr) return nullptr;
  for (const auto& f : config->fields) {
    switch (type) {
      case PiiType::kIdCard:
      case PiiType::kIdCardLegacy:
        if (f.type == schema::FieldType::kIdCard) return &f;
        break;
      case PiiType::kMobile:
        if (f.type == schema::FieldType::kMobile) return &f;
        break;
      case PiiType::kEmail:
        if (f.type == schema::FieldType::kEmail) return &f;
        break;
      case PiiType::kBankCard:
        if (f.type == schema::FieldType::kBankCard) return &f;
        break;
      case PiiType::kAddress:
        if (f.mask == "address") return &f;
        break;
      case PiiType::kName:
        if (f.mask == "name") return &f;
        break;
      default:
        return nullptr;
    }
  }
  return nullptr;
}

bool IsNameHeader(std::string_view header) {
  std::string name(header);
  std::transform(name.begin(), name.end(), name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  static constexpr std::string_view kHeaders[] = {
      "姓名",      "名字",     "客户姓名",      "联系人",       "收件人",
      "收货人",    "持卡人",   "户名",          "开户名",       "name",
      "full_name", "fullname", "customer_name", "contact_name", "real_name"};
  return std::find(std::begin(kHeaders), std::end(kHeaders), name) != std::end(kHeaders);
}

// A whole cell that is a Chinese personal name: a surname and one or two given characters.
bool IsWholeName(std::string_view s) {
  const size_t surname = SurnameLengthAt(s);
  if (surname == 0) return false;
  size_t i = surname;
  int given = 0;
  while (i < s.size()) {
    const core::Utf8Char d = core::DecodeUtf8Lossy(s, i);
    if (!IsCjk(d.cp) || ++given > 2) return false;
    i += d.len;
  }
  return given >= 1;
}

void BuildColumns(const ColumnTracker& t,
                  const std::vector<std::array<uint64_t, kPiiTypeCount>>& rows_with,
                  const schema::Config* catalogue, std::vector<ColumnReport>& out) {
  const auto& names = t.column_names();
  for (size_t c = 0; c < names.size(); ++c) {
    ColumnReport col;
    col.index = static_cast<int32_t>(c);
    col.name = names[c];
    col.rows = c < t.filled().size() ? t.filled()[c] : 0;
    if (c < rows_with.size()) col.rows_with = rows_with[c];
    size_t best = 0;
    for (size_t k = 1; k < kPiiTypeCount; ++k) {
      if (col.rows_with[k] > col.rows_with[best]) best = k;
    }
    if (col.rows > 0 && col.rows_with[best] > 0) {
      col.share = static_cast<double>(col.rows_with[best]) / static_cast<double>(col.rows);
      if (col.share >= 0.5) {
        const auto type = static_cast<PiiType>(best);
        col.type = type;
        const schema::FieldDef* field = FieldFor(catalogue, type);
        col.field = field != nullptr ? field->name : "";
        col.level = field != nullptr ? field->level : DefaultLevel(type);
      }
    }
    out.push_back(std::move(col));
  }
}

// ---- Redaction ----

// Writes the input with every finding replaced by its mask to `out_path`, through `env` as a
// streamed output (mode 0600, published whole by a rename; nothing left on failure).
// What a redacted copy replaces: spans of the input in order of offset, none overlapping (a
// finding that starts inside another widens it; the first one's mask is written).
struct RedactSpan {
  uint64_t offset;
  uint64_t end;
  const Finding* finding;
};

std::vector<RedactSpan> RedactSpans(const std::vector<Finding>& findings) {
  std::vector<RedactSpan> spans;
  spans.reserve(findings.size());
  for (const Finding& f : findings) spans.push_back({f.offset, f.offset + f.length, &f});
  std::stable_sort(spans.begin(), spans.end(),
                   [](const RedactSpan& a, const RedactSpan& b) { return a.offset < b.offset; });
  std::vector<RedactSpan> merged;
  merged.reserve(spans.size());
  for (const RedactSpan& s : spans) {
    if (!merged.empty() && s.offset < merged.back().end) {
      merged.back().end = std::max(merged.back().end, s.end);
      continue;
    }
    merged.push_back(s);
  }
  return merged;
}

Status WriteRedacted(Env& env, const std::string& in_path, const std::string* spooled,
                     const std::vector<Finding>& findings, bool gb18030,
                     const std::string& out_path) {
  const std::vector<RedactSpan> spans = RedactSpans(findings);
  const fs::path out(out_path);
  if (out.has_parent_path()) CUSTOS_RETURN_IF_ERROR(env.CreateDirDurable(out.parent_path(), 0700));
  return WriteStreamed(env, out, [&](std::ostream& os) -> Status {
    Input in(in_path);
    if (spooled == nullptr) CUSTOS_RETURN_IF_ERROR(in.Open());
    std::string buf;
    uint64_t pos = 0;   // input offset of buf[0]
    uint64_t skip = 0;  // input bytes still to drop (inside a finding)
    size_t next = 0;    // next finding to replace
    size_t spool_pos = 0;
    while (os) {
      if (spooled != nullptr) {
        buf = spooled->substr(spool_pos, kChunk);
        spool_pos += buf.size();
      } else {
        CUSTOS_RETURN_IF_ERROR(in.Read(buf, kChunk));
      }
      if (buf.empty()) break;
      size_t i = 0;
      while (i < buf.size()) {
        if (skip > 0) {
          const size_t n = static_cast<size_t>(std::min<uint64_t>(skip, buf.size() - i));
          i += n;
          skip -= n;
          continue;
        }
        const uint64_t at = pos + i;
        if (next < spans.size() && spans[next].offset == at) {
          const RedactSpan& span = spans[next++];
          std::string masked = span.finding->masked;
          if (gb18030) {
            auto enc = EncodeGb18030(masked);
            masked = enc.ok() ? *enc : std::string("****");
          }
          os << masked;
          skip = span.end - span.offset;
          continue;
        }
        const uint64_t stop = next < spans.size() ? spans[next].offset : UINT64_MAX;
        const size_t n = static_cast<size_t>(std::min<uint64_t>(stop - at, buf.size() - i));
        os.write(buf.data() + i, static_cast<std::streamsize>(n));
        i += n;
      }
      pos += buf.size();
    }
    if (!os) return Unavailable("cannot write " + out_path);
    // A finding that could not be placed would leave its value in clear: no copy at all.
    if (next < spans.size() || skip > 0) {
      const uint64_t at = next < spans.size() ? spans[next].offset : pos;
      return Internal("redaction: a finding at byte " + std::to_string(at) +
                      " lies past the end of " + in_path + "; no redacted copy written");
    }
    return Status::Ok();
  });
}

bool TypeWanted(const ScanOptions& o, PiiType t) {
  return o.types.empty() || std::find(o.types.begin(), o.types.end(), t) != o.types.end();
}

}  // namespace

Result<std::vector<std::string>> ListInputs(const std::vector<std::string>& paths,
                                            const ScanOptions& options) {
  std::vector<std::string> out;
  for (const auto& p : paths) {
    if (p == "-") {
      out.push_back(p);
      continue;
    }
    std::error_code ec;
    const auto st = fs::status(p, ec);
    if (ec || !fs::exists(st)) return NotFound("no such file or directory: " + p);
    if (!fs::is_directory(st)) {
      out.push_back(p);  // named explicitly: scanned whatever the globs say
      continue;
    }
    std::vector<std::string> found;
    fs::recursive_directory_iterator it(p, fs::directory_options::skip_permission_denied, ec);
    for (; !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
      const auto& entry = *it;
      if (entry.is_symlink(ec)) continue;
      if (entry.is_directory(ec)) {
        if (GlobMatches(options.exclude, entry.path())) it.disable_recursion_pending();
        continue;
      }
      if (entry.is_regular_file(ec) && Wanted(options, entry.path())) {
        found.push_back(entry.path().generic_string());
      }
    }
    std::sort(found.begin(), found.end());
    out.insert(out.end(), found.begin(), found.end());
  }
  return out;
}

FileReport ScanFile(ScanStream& stream, const std::string& path, const ScanOptions& options,
                    const schema::Config* catalogue, const std::string& redact_to) {
  FileReport r;
  r.path = path;
  if (catalogue == nullptr) catalogue = DefaultCatalogue();
  Input in(path);
  r.status = in.Open();
  if (!r.status.ok()) return r;
  std::string chunk;
  r.status = in.Read(chunk, kSniff);
  if (!r.status.ok()) return r;

  // NOLINTNEXTLINE(bugprone-not-null-terminated-result): looks for a NUL byte, copies nothing
  if (std::memchr(chunk.data(), 0, std::min<size_t>(chunk.size(), 8192)) != nullptr) {
    r.skipped_binary = true;
    r.encoding = "binary";
    return r;
  }
  bool gb = options.encoding == Encoding::kGb18030;
  if (options.encoding == Encoding::kAuto) gb = !LooksLikeUtf8(chunk) && LooksLikeGb18030(chunk);
  r.encoding = gb ? "gb18030" : "utf-8";
  const Layout layout = LayoutFor(path, options.layout);
  r.layout = std::string(LayoutName(layout));

  std::unique_ptr<Gb18030Decoder> decoder;
  if (gb) {
    auto d = Gb18030Decoder::Create();
    if (!d.ok()) {
      r.status = d.status();
      return r;
    }
    decoder = std::move(*d);
  }
  const bool redact = !redact_to.empty();
  const bool keep = options.keep_findings || redact;
  std::vector<Finding> cell_findings;  // whole-cell names in name columns
  std::vector<std::array<uint64_t, kPiiTypeCount>> rows_with;
  std::vector<std::array<int64_t, kPiiTypeCount>> last_row;
  auto count_cell = [&](int64_t row, int32_t col, PiiType type) {
    if (col < 0) return;
    const auto c = static_cast<size_t>(col);
    if (rows_with.size() <= c) {
      rows_with.resize(c + 1, std::array<uint64_t, kPiiTypeCount>{});
      std::array<int64_t, kPiiTypeCount> none;
      none.fill(-1);
      last_row.resize(c + 1, none);
    }
    const auto k = static_cast<size_t>(type);
    if (last_row[c][k] != row) {
      last_row[c][k] = row;
      ++rows_with[c][k];
    }
  };
  Status mapping;  // the first offset that could not be mapped back (the file then fails)
  auto to_original = [&](Finding& f) {
    if (!decoder) return;
    Result<uint64_t> s = decoder->OriginalOffset(f.offset);
    Result<uint64_t> e = decoder->OriginalOffset(f.offset + f.length);
    if (!s.ok() || !e.ok()) {
      if (mapping.ok()) mapping = s.ok() ? e.status() : s.status();
      return;
    }
    f.offset = *s;
    f.length = static_cast<uint32_t>(*e - *s);
  };

  std::unique_ptr<ColumnTracker> tracker;
  if (layout != Layout::kText) {
    const TableFormat tf = layout == Layout::kCsv   ? TableFormat::kCsv
                           : layout == Layout::kTsv ? TableFormat::kTsv
                                                    : TableFormat::kJsonl;
    tracker = std::make_unique<ColumnTracker>(
        tf,
        [&](const ColumnTracker::Cell& cell, uint64_t offset, uint64_t line,
            std::string_view content, bool complete) {
          const auto& names = tracker->column_names();
          const auto col = static_cast<size_t>(cell.column);
          if (!complete || col >= names.size() || !IsWholeName(content) ||
              !TypeWanted(options, PiiType::kName) || options.min_confidence > 0.6) {
            return;
          }
          count_cell(cell.row, cell.column, PiiType::kName);
          if (!keep) {
            ++r.counts[static_cast<size_t>(PiiType::kName)];
            return;
          }
          Finding f;
          f.type = PiiType::kName;
          f.offset = offset;
          f.length = static_cast<uint32_t>(content.size());
          f.line = line;
          f.confidence = 0.6;
          f.value = std::string(content);
          f.normalized = f.value;
          f.masked = MaskValue(PiiType::kName, f.value);
          f.detail = "column " + names[col];
          f.column = cell.column;
          to_original(f);
          cell_findings.push_back(std::move(f));
        },
        &IsNameHeader);
  }

  std::vector<Finding> findings;
  stream.set_with_values(keep);
  stream.Begin([&](Finding&& f) {
    if (f.confidence < options.min_confidence || !TypeWanted(options, f.type)) return;
    if (tracker) {
      const ColumnTracker::Cell cell = tracker->Locate(f.offset);
      f.column = cell.column;
      if (!(tracker->has_header() && cell.row == 0)) count_cell(cell.row, cell.column, f.type);
    }
    to_original(f);
    ++r.counts[static_cast<size_t>(f.type)];
    if (keep) findings.push_back(std::move(f));
  });

  std::string spool;  // standard input, kept for a redacted copy (it cannot be read twice)
  const bool spool_stdin = redact && path == "-";
  std::string utf8;
  // The tracker runs at most one slice ahead of the scanner, well within the window of cell
  // starts it keeps (ColumnTracker::kTrackedBytes).
  auto feed = [&](std::string_view bytes) -> Status {
    if (!tracker) return stream.Feed(bytes);
    constexpr size_t kSlice = 16 << 10;
    for (size_t i = 0; i < bytes.size(); i += kSlice) {
      const std::string_view slice = bytes.substr(i, kSlice);
      tracker->Feed(slice);
      CUSTOS_RETURN_IF_ERROR(stream.Feed(slice));
    }
    return Status::Ok();
  };
  while (!chunk.empty()) {
    r.bytes += chunk.size();
    if (spool_stdin) spool += chunk;
    if (decoder) {
      utf8.clear();
      decoder->Decode(chunk, utf8);
      r.status = feed(utf8);
    } else {
      r.status = feed(chunk);
    }
    if (!r.status.ok()) return r;
    r.status = in.Read(chunk, kChunk);
    if (!r.status.ok()) return r;
  }
  if (decoder) {
    utf8.clear();
    decoder->Finish(utf8);
    r.status = feed(utf8);
    if (!r.status.ok()) return r;
  }
  if (tracker) tracker->Finish();
  r.status = stream.Finish();
  if (!r.status.ok()) return r;
  if (!mapping.ok()) {
    r.status = mapping;
    return r;
  }

  // Whole-cell names join the scanner's findings; where they overlap, the scanner's win. Both
  // lists are in order of offset: one merge pass (inserting each name into the vector was
  // quadratic, minutes for a CSV file of a few megabytes).
  if (!cell_findings.empty()) {
    std::vector<Finding> merged;
    merged.reserve(findings.size() + cell_findings.size());
    size_t next = 0;
    for (auto& f : cell_findings) {
      while (next < findings.size() && findings[next].offset < f.offset) {
        merged.push_back(std::move(findings[next++]));
      }
      const bool overlaps =
          (next < findings.size() && findings[next].offset < f.offset + f.length) ||
          (!merged.empty() && merged.back().offset + merged.back().length > f.offset);
      if (overlaps) continue;
      ++r.counts[static_cast<size_t>(PiiType::kName)];
      merged.push_back(std::move(f));
    }
    std::move(findings.begin() + static_cast<ptrdiff_t>(next), findings.end(),
              std::back_inserter(merged));
    findings = std::move(merged);
  }
  if (tracker) BuildColumns(*tracker, rows_with, catalogue, r.columns);
  if (redact) {
    Env& env = options.env != nullptr ? *options.env : Env::Default();
    r.status = WriteRedacted(env, path, spool_stdin ? &spool : nullptr, findings, gb, redact_to);
    if (r.status.ok()) r.redacted_to = redact_to;
  }
  if (options.keep_findings) r.findings = std::move(findings);
  return r;
}

Status ScanInputs(const Scanner& scanner, const std::vector<std::string>& inputs,
                  const ScanOptions& options, const schema::Config* catalogue,
                  const std::function<std::string(const std::string&)>& redact_path,
                  const std::function<void(FileReport&&)>& on_report) {
  if (inputs.empty()) return Status::Ok();
  int jobs =
      options.jobs > 0 ? options.jobs : static_cast<int>(std::thread::hardware_concurrency());
  jobs = std::clamp(jobs, 1, static_cast<int>(inputs.size()));

  std::mutex mu;
  std::condition_variable ready;
  std::vector<std::optional<FileReport>> reports(inputs.size());
  size_t next_input = 0;
  Status failure;
  int running = jobs;

  auto worker = [&] {
    auto stream = scanner.NewStream();
    std::unique_lock lock(mu);
    if (!stream.ok()) {
      failure = stream.status();
      --running;
      ready.notify_all();
      return;
    }
    while (next_input < inputs.size()) {
      const size_t i = next_input++;
      lock.unlock();
      const std::string redact_to = redact_path ? redact_path(inputs[i]) : std::string();
      FileReport r = ScanFile(**stream, inputs[i], options, catalogue, redact_to);
      lock.lock();
      reports[i] = std::move(r);
      ready.notify_all();
    }
    --running;
    ready.notify_all();
  };
  std::vector<std::thread> threads;
  threads.reserve(static_cast<size_t>(jobs));
  for (int t = 0; t < jobs; ++t) threads.emplace_back(worker);
  size_t emitted = 0;
  {
    std::unique_lock lock(mu);
    while (emitted < inputs.size()) {
      ready.wait(lock, [&] { return reports[emitted].has_value() || running == 0; });
      if (!reports[emitted].has_value()) break;  // every worker failed to start
      FileReport r = std::move(*reports[emitted]);
      reports[emitted].reset();
      ++emitted;
      lock.unlock();
      on_report(std::move(r));
      lock.lock();
    }
  }
  for (auto& t : threads) t.join();
  if (emitted < inputs.size()) return failure.ok() ? Internal("scan workers stopped") : failure;
  return Status::Ok();
}

}  // namespace custos::scan
