#include "cli/secret_input.h"

#include <termios.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iostream>

namespace custos::cli {
namespace {

std::string TrimRight(std::string s) {
  while (!s.empty() &&
         (s.back() == '\n' || s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) {
    s.pop_back();
  }
  return s;
}

}  // namespace

Result<std::string> ReadSecret(const char* env, std::string_view prompt) {
  if (const char* v = std::getenv(env); v != nullptr && *v != '\0') return std::string(v);
  if (::isatty(STDIN_FILENO) == 0) {
    return Unauthenticated(std::string("no credential: set ") + env);
  }
  termios old_mode{};
  const bool have_mode = ::tcgetattr(STDIN_FILENO, &old_mode) == 0;
  if (have_mode) {
    termios quiet = old_mode;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
  }
  std::cerr << prompt << std::flush;
  std::string line;
  std::getline(std::cin, line);
  if (have_mode) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &old_mode);
  std::cerr << "\n";
  line = TrimRight(std::move(line));
  if (line.empty()) return Unauthenticated(std::string("no credential given (or set ") + env + ")");
  return line;
}

Result<std::string> ReadSecretFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Unavailable("cannot read the token file");
  std::string line;
  std::getline(in, line);
  line = TrimRight(std::move(line));
  if (line.empty()) return InvalidArgument("the token file is empty");
  return line;
}

}  // namespace custos::cli
