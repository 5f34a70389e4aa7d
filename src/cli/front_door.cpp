#include "cli/front_door.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>

namespace custos::cli {
namespace {

std::vector<const CLI::App*> Subcommands(const CLI::App& app) {
  return app.get_subcommands([](const CLI::App*) { return true; });
}

const CLI::App* FindSubcommand(const CLI::App& app, std::string_view name) {
  for (const CLI::App* sub : Subcommands(app)) {
    if (sub->get_name() == name) return sub;
  }
  return nullptr;
}

// The option of `app` or of a command above it spelled `name` ("--vault", "-n"), or null.
const CLI::Option* FindOption(const CLI::App& app, std::string_view name) {
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      if (name.starts_with("--")) {
        for (const std::string& l : opt->get_lnames()) {
          if (name.substr(2) == l) return opt;
        }
      } else if (name.size() == 2 && name[0] == '-') {
        for (const std::string& s : opt->get_snames()) {
          if (name.substr(1) == s) return opt;
        }
      }
    }
  }
  return nullptr;
}

std::vector<std::string> LongOptionNames(const CLI::App& app) {
  std::vector<std::string> out;
  for (const CLI::App* a = &app; a != nullptr; a = a->get_parent()) {
    for (const CLI::Option* opt : a->get_options()) {
      for (const std::string& l : opt->get_lnames()) out.push_back("--" + l);
    }
  }
  return out;
}

bool HasPositionals(const CLI::App& app) {
  for (const CLI::Option* opt : app.get_options()) {
    if (opt->get_positional()) return true;
  }
  return false;
}

std::string CommandPath(const CLI::App& app) {
  std::vector<std::string> names;
  for (const CLI::App* a = &app; a != nullptr && a->get_parent() != nullptr; a = a->get_parent()) {
    names.push_back(a->get_name());
  }
  std::string path = "custos";
  for (auto it = names.rbegin(); it != names.rend(); ++it) path += " " + *it;
  return path;
}

// The width of the code point starting at text[i] and its length in bytes.
std::pair<size_t, size_t> CodePoint(std::string_view text, size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  size_t len = 1;
  uint32_t cp = c;
  if (c >= 0xF0) {
    len = 4;
    cp = c & 0x07U;
  } else if (c >= 0xE0) {
    len = 3;
    cp = c & 0x0FU;
  } else if (c >= 0xC0) {
    len = 2;
    cp = c & 0x1FU;
  }
  if (i + len > text.size()) return {1, 1};
  for (size_t k = 1; k < len; ++k) {
    cp = (cp << 6U) | (static_cast<unsigned char>(text[i + k]) & 0x3FU);
  }
  const bool wide = (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0xA4CF) ||
                    (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) ||
                    (cp >= 0xFE30 && cp <= 0xFE4F) || (cp >= 0xFF00 && cp <= 0xFF60) ||
                    (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x20000 && cp <= 0x3FFFD);
  return {wide ? size_t{2} : size_t{1}, len};
}

}  // namespace

std::string_view CustosVersion() { return CUSTOS_VERSION; }

void PrintVersion(std::ostream& out, bool json) {
  if (json) {
    out << nlohmann::json{{"name", "custos"}, {"version", std::string(CustosVersion())}}.dump()
        << '\n';
  } else {
    out << "custos " << CustosVersion() << '\n';
  }
}

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diag = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] == b[j - 1] ? 0 : 1)});
      diag = up;
    }
  }
  return row[b.size()];
}

std::optional<std::string> Closest(std::string_view word, const std::vector<std::string>& options) {
  if (word.empty()) return std::nullopt;
  std::optional<std::string> best;
  size_t best_distance = 0;
  for (const std::string& o : options) {
    const size_t d = EditDistance(word, o);
    if (!best.has_value() || d < best_distance) {
      best = o;
      best_distance = d;
    }
  }
  if (best.has_value() && best_distance <= std::max<size_t>(2, word.size() / 3)) return best;
  std::optional<std::string> prefixed;
  for (const std::string& o : options) {
    if (o.starts_with(word)) {
      if (prefixed.has_value()) return std::nullopt;
      prefixed = o;
    }
  }
  return prefixed;
}

std::optional<std::string> UsageHint(const CLI::App& app, const std::vector<std::string>& args) {
  const CLI::App* cur = &app;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& word = args[i];
    if (word == "--") return std::nullopt;
    if (word.size() > 1 && word[0] == '-') {
      const std::string name = word.substr(0, word.find('='));
      if (name == "-h" || name == "--help" || name == "--version") continue;
      const CLI::Option* opt = FindOption(*cur, name);
      if (opt == nullptr) {
        std::optional<std::string> near = Closest(name, LongOptionNames(*cur));
        std::string msg = fmt::format("unknown option '{}' for `{}`", name, CommandPath(*cur));
        if (near.has_value()) msg += fmt::format("; did you mean '{}'?", *near);
        return msg + fmt::format(" (see `{} --help`)", CommandPath(*cur));
      }
      if (opt->get_type_size_max() > 0 && word.find('=') == std::string::npos) ++i;
      continue;
    }
    if (const CLI::App* sub = FindSubcommand(*cur, word); sub != nullptr) {
      cur = sub;
      continue;
    }
    if (Subcommands(*cur).empty() || HasPositionals(*cur)) continue;
    std::vector<std::string> names;
    for (const CLI::App* sub : Subcommands(*cur)) names.push_back(sub->get_name());
    std::optional<std::string> near = Closest(word, names);
    std::string msg = fmt::format("unknown command '{}' for `{}`", word, CommandPath(*cur));
    if (near.has_value()) {
      msg += fmt::format("; did you mean '{}'?", *near);
    } else {
      std::string all;
      for (const std::string& n : names) all += (all.empty() ? "" : ", ") + n;
      msg += "; one of: " + all;
    }
    return msg + fmt::format(" (see `{} --help`)", CommandPath(*cur));
  }
  return std::nullopt;
}

std::string GlobalHelpFooter() {
  return "Global options (before or after the command):\n"
         "  --vault DIR        the vault directory ($CUSTOS_VAULT; default /var/lib/custos when\n"
         "                     it holds a vault, otherwise ./var/demo — see docs/cli.md)\n"
         "  --token-file F     your API token's file ($CUSTOS_TOKEN, else a no-echo prompt)\n"
         "  --purpose P        why you access the data, from the purpose catalogue\n"
         "                     ($CUSTOS_PURPOSE; required by commands that read customer data)\n"
         "  --json             one JSON document on standard output (the API's shapes)\n"
         "  --version          the version of custos\n"
         "Environment: CUSTOS_VAULT, CUSTOS_TOKEN, CUSTOS_PURPOSE, CUSTOS_PASSWORD,\n"
         "  CUSTOS_NEW_PASSWORD, CUSTOS_PASSPHRASE (passphrase-protected vaults),\n"
         "  CUSTOS_PROGRESS_MS (progress on a pipe: a line every N ms, default 5000)\n"
         "Exit codes: 0 ok, 1 internal, 2 usage, 3 invalid input, 4 refused, 5 not found,\n"
         "  6 conflict, 7 unavailable, 8 data loss, 9 partly done, 10 scan findings (docs/cli.md)";
}

size_t DisplayWidth(std::string_view text) {
  size_t width = 0;
  for (size_t i = 0; i < text.size();) {
    auto [w, len] = CodePoint(text, i);
    width += w;
    i += len;
  }
  return width;
}

std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows) {
  std::vector<size_t> widths(header.size(), 0);
  for (size_t c = 0; c < header.size(); ++c) widths[c] = DisplayWidth(header[c]);
  for (const auto& row : rows) {
    for (size_t c = 0; c < row.size() && c < widths.size(); ++c) {
      widths[c] = std::max(widths[c], DisplayWidth(row[c]));
    }
  }
  std::string out;
  auto line = [&](const std::vector<std::string>& cells) {
    std::string text;
    for (size_t c = 0; c < widths.size(); ++c) {
      const std::string cell = c < cells.size() ? cells[c] : std::string();
      text += cell;
      if (c + 1 < widths.size()) text += std::string(widths[c] - DisplayWidth(cell) + 2, ' ');
    }
    while (!text.empty() && text.back() == ' ') text.pop_back();
    out += text + '\n';
  };
  line(header);
  for (const auto& row : rows) line(row);
  return out;
}

std::string FormatSeconds(double seconds) {
  const auto s = static_cast<int64_t>(std::llround(seconds));
  if (s < 60) return fmt::format("{}s", s);
  if (s < 3600) return fmt::format("{}m{:02}s", s / 60, s % 60);
  return fmt::format("{}h{:02}m", s / 3600, (s % 3600) / 60);
}

Progress::Progress(std::string what, int64_t total, bool tty, std::ostream& out,
                   std::chrono::milliseconds plain_every)
    : what_(std::move(what)),
      total_(total),
      tty_(tty),
      out_(out),
      plain_every_(plain_every),
      start_(Clock::now()),
      last_(start_) {}

std::chrono::milliseconds PlainProgressInterval(const char* setting) {
  constexpr std::chrono::milliseconds kDefault = std::chrono::seconds(5);
  if (setting == nullptr || *setting == '\0') return kDefault;
  char* end = nullptr;
  errno = 0;
  const long long ms = std::strtoll(setting, &end, 10);
  if (errno != 0 || end == setting || *end != '\0' || ms < 0) return kDefault;
  return std::chrono::milliseconds(ms);
}

Progress::Progress(std::string what, int64_t total)
    : Progress(std::move(what), total, ::isatty(STDERR_FILENO) == 1, std::cerr,
               PlainProgressInterval(std::getenv("CUSTOS_PROGRESS_MS"))) {}

std::string Progress::Line(int64_t done, double elapsed_seconds) const {
  const double rate = elapsed_seconds > 0 ? static_cast<double>(done) / elapsed_seconds : 0.0;
  if (total_ <= 0) return fmt::format("{} {}, {:.0f} {}/s", done, what_, rate, what_);
  const int64_t pct = std::min<int64_t>(100, done * 100 / total_);
  std::string line =
      fmt::format("{} of {} {} ({}%), {:.0f} {}/s", done, total_, what_, pct, rate, what_);
  if (done < total_ && rate > 0) {
    line += ", about " + FormatSeconds(static_cast<double>(total_ - done) / rate) + " left";
  }
  return line;
}

void Progress::Update(int64_t done) {
  done_ = done;
  const Clock::time_point now = Clock::now();
  const auto since = now - last_;
  if (tty_ ? since < std::chrono::milliseconds(100) : since < plain_every_) return;
  last_ = now;
  const std::string line = Line(done, std::chrono::duration<double>(now - start_).count());
  if (tty_) {
    out_ << "\r\033[K" << line << std::flush;
  } else {
    out_ << line << '\n' << std::flush;
  }
  shown_ = true;
}

void Progress::Done() {
  if (finished_) return;
  finished_ = true;
  const std::string line =
      Line(done_, std::chrono::duration<double>(Clock::now() - start_).count());
  if (tty_) {
    out_ << "\r\033[K" << line << '\n' << std::flush;
  } else if (shown_) {
    out_ << line << '\n' << std::flush;
  }
}

}  // namespace custos::cli
