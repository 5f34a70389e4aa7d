// AlertCommand: hands each alert to a local command ([ops] alert_command; docs/
// security_operations.md), so an operator's paging system can take it: the command runs under
// /bin/sh -c with the alert as one JSON object on its standard input, and is killed after the
// timeout. Commands run one at a time on a worker thread of the AlertCommand's own: Send never
// waits for a command, so a slow or failing command never blocks serving or the scan. A
// failure (cannot start, killed, non-zero exit, a full queue) is reported through `report`
// (the server's log), with the alert id, never the alert's content.
//
// Thread safety: Send may be called from any thread; the destructor waits for the command in
// progress (at most the timeout) and drops what is still queued, reporting it.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace custos::ops {

class AlertCommand {
 public:
  using Report = std::function<void(std::string_view alert_id, std::string_view problem)>;
  // nullptr when `command` is empty (no command configured).
  static std::unique_ptr<AlertCommand> Start(std::string command, int64_t timeout_ms,
                                             Report report);
  ~AlertCommand();
  AlertCommand(const AlertCommand&) = delete;
  AlertCommand& operator=(const AlertCommand&) = delete;

  // Queues the alert `json` (its id for reports); at most 1000 wait, more are dropped and
  // reported.
  void Send(std::string alert_id, std::string json);

 private:
  AlertCommand(std::string command, int64_t timeout_ms, Report report);
  void Run();
  void RunOne(const std::string& alert_id, const std::string& json);

  const std::string command_;
  const int64_t timeout_ms_;
  const Report report_;
  std::mutex mu_;
  std::condition_variable wake_;
  std::deque<std::pair<std::string, std::string>> queue_;
  bool stop_ = false;
  std::thread thread_;  // last: starts once the members above are ready
};

}  // namespace custos::ops
