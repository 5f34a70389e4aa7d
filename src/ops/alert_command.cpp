#include "ops/alert_command.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <utility>

#include <fmt/format.h>

extern char** environ;  // NOLINT(readability-redundant-declaration): POSIX, for posix_spawn

namespace custos::ops {
namespace {

constexpr size_t kMaxQueued = 1000;

// Writes all of `data` to `fd` (the child's stdin); false if the child stopped reading.
bool WriteAll(int fd, std::string_view data) {
  while (!data.empty()) {
    const ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

}  // namespace

std::unique_ptr<AlertCommand> AlertCommand::Start(std::string command, int64_t timeout_ms,
                                                  Report report) {
  if (command.empty()) return nullptr;
  return std::unique_ptr<AlertCommand>(
      new AlertCommand(std::move(command), timeout_ms, std::move(report)));
}

AlertCommand::AlertCommand(std::string command, int64_t timeout_ms, Report report)
    : command_(std::move(command)),
      timeout_ms_(timeout_ms),
      report_(std::move(report)),
      thread_([this] { Run(); }) {}

AlertCommand::~AlertCommand() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_one();
  thread_.join();
  for (const auto& [id, json] : queue_) report_(id, "not sent: the server stopped");
}

void AlertCommand::Send(std::string alert_id, std::string json) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (queue_.size() < kMaxQueued) {
      queue_.emplace_back(std::move(alert_id), std::move(json));
      wake_.notify_one();
      return;
    }
  }
  report_(alert_id, "not sent: 1000 alerts are waiting for the command");
}

void AlertCommand::Run() {
  // A command that exits without reading its input must not stop the server with SIGPIPE:
  // blocked on this thread, a write to its pipe fails with EPIPE instead (reported).
  sigset_t pipe_signal;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, nullptr);
  std::unique_lock<std::mutex> lock(mu_);
  while (true) {
    wake_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (stop_) return;
    auto [id, json] = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    RunOne(id, json);
    lock.lock();
  }
}

void AlertCommand::RunOne(const std::string& alert_id, const std::string& json) {
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    report_(alert_id, "cannot make a pipe for the alert command");
    return;
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, pipe_fds[0], STDIN_FILENO);
  const char* argv[] = {"sh", "-c", command_.c_str(), nullptr};
  pid_t pid = 0;
  const int spawned = posix_spawn(&pid, "/bin/sh", &actions, nullptr,
                                  const_cast<char* const*>(argv), environ);  // NOLINT
  posix_spawn_file_actions_destroy(&actions);
  ::close(pipe_fds[0]);
  if (spawned != 0) {
    ::close(pipe_fds[1]);
    report_(alert_id, "the alert command cannot start");
    return;
  }
  const bool written = WriteAll(pipe_fds[1], json + "\n");
  ::close(pipe_fds[1]);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms_);
  int status = 0;
  while (true) {
    const pid_t done = ::waitpid(pid, &status, WNOHANG);
    if (done == pid) break;
    if (done < 0 && errno != EINTR) {
      report_(alert_id, "the alert command's end cannot be read");
      return;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      report_(alert_id, fmt::format("the alert command was killed after {} ms", timeout_ms_));
      return;
    }
    ::poll(nullptr, 0, 10);
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    report_(alert_id, fmt::format("the alert command failed (exit status {}{})",
                                  WIFEXITED(status) ? WEXITSTATUS(status) : -1,
                                  written ? "" : "; it did not read the alert"));
  }
}

}  // namespace custos::ops
