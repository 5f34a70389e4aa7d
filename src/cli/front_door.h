// What a person meets first: the version, hints for a mistyped command or flag, tables for
// lists, and progress on long commands (issue 22 point 1; docs/cli.md).
#pragma once

#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace custos::cli {

// The version of this build (CMake's project version), e.g. "0.1.0".
std::string_view CustosVersion();

// `custos --version` / `custos version`: "custos 0.1.0", or with `json`
// {"name":"custos","version":"0.1.0"}. Writes to `out`.
void PrintVersion(std::ostream& out, bool json);

// The Levenshtein distance between two ASCII strings (bytes).
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `word` when it is close enough to be a likely typo (distance at most
// 2, or at most a third of the word's length when longer, or `word` a prefix of exactly one
// candidate); nullopt otherwise.
std::optional<std::string> Closest(std::string_view word, const std::vector<std::string>& options);

// After CLI11 refused `args` (argv without the program name) for `app`: a message naming the
// first unknown command or option and, when one is close, what was probably meant ("unknown
// command 'custmer'; did you mean 'customer'?"). nullopt when every word is known (then CLI11's
// own message is the better one). Walks the words as CLI11 does: subcommands descend, options
// of the command or any command above it are known (the global flags fall through), an option
// that takes a value skips the next word unless given as --opt=value.
std::optional<std::string> UsageHint(const CLI::App& app, const std::vector<std::string>& args);

// The global flags and environment variables, as shown at the end of every `--help`.
std::string GlobalHelpFooter();

// A plain text table: a header row, then the rows, each column as wide as its widest cell
// (display width: CJK and full-width characters count two), separated by two spaces, no
// trailing spaces. Rows shorter than the header get empty cells.
std::string Table(const std::vector<std::string>& header,
                  const std::vector<std::vector<std::string>>& rows);

// The display width of a UTF-8 string (East Asian wide and full-width characters count two).
size_t DisplayWidth(std::string_view text);

// Progress of a long command on standard error: on a terminal one line rewritten in place
// ("\r") with the count, the total, the rate and the time left; when standard error is not a
// terminal a plain line at most every `plain_every` (no "\r"), so logs stay readable. It never
// writes to standard output, so --json documents stay whole.
class Progress {
 public:
  using Clock = std::chrono::steady_clock;
  // `what` names the unit ("rows", "DEKs"); `total` 0 when unknown. `tty` decides the style;
  // `out` is where it goes (std::cerr in the CLI).
  Progress(std::string what, int64_t total, bool tty, std::ostream& out,
           std::chrono::milliseconds plain_every = std::chrono::seconds(5));
  // `custos` commands: stderr, styled by isatty(2); plain lines every CUSTOS_PROGRESS_MS
  // milliseconds (PlainProgressInterval).
  Progress(std::string what, int64_t total);
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  void SetTotal(int64_t total) { total_ = total; }
  // `done` units so far. Throttled: at most ten redraws a second on a terminal.
  void Update(int64_t done);
  // The final line: on a terminal always; otherwise only after earlier lines (a short run that
  // showed nothing stays quiet). Idempotent.
  void Done();

  // The text of one progress report at `done` after `elapsed` seconds, e.g.
  // "1200 of 5000 rows (24%), 600 rows/s, about 7s left". Exposed for tests.
  std::string Line(int64_t done, double elapsed_seconds) const;

 private:
  std::string what_;
  int64_t total_;
  bool tty_;
  std::ostream& out_;
  std::chrono::milliseconds plain_every_;
  Clock::time_point start_;
  Clock::time_point last_;
  int64_t done_ = 0;
  bool shown_ = false;
  bool finished_ = false;
};

// The interval between plain progress lines given by the CUSTOS_PROGRESS_MS setting
// (milliseconds, 0: every update); 5 seconds when unset or not a non-negative number.
std::chrono::milliseconds PlainProgressInterval(const char* setting);

// The ProgressFn a domain service reports to (core/progress.h), drawn on `progress`: the
// total as the service counts it, then the rows done.
inline auto Draw(Progress& progress) {
  return [&progress](int64_t done, int64_t total) {
    progress.SetTotal(total);
    progress.Update(done);
  };
}

// "42s", "3m05s", "1h02m": a rough remaining time.
std::string FormatSeconds(double seconds);

}  // namespace custos::cli
