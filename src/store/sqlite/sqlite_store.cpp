#include "store/sqlite/sqlite_store.h"

#include <fmt/core.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <utility>
#include <vector>

#include "store/sqlite/sqlite_db.h"
#include "store/sqlite/sqlite_schema.h"
#include "store/sqlite/sqlite_snapshot.h"
#include "store/sqlite/sqlite_transaction.h"
#include "store/sqlite/sqlite_writer_slot.h"

namespace custos::store {
namespace {

using sqlite::SlotLease;
using sqlite::SqliteDb;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Checkpoints the write-ahead log on a thread of its own, through a second connection, once a
// commit leaves `threshold_pages` or more in it. SQLite would otherwise checkpoint inside the
// commit that crossed the threshold: copying 64 MiB and two fsyncs, which stalled a bulk
// import for most of a second every 16384 pages (a fifth of its time) and, now and then, an
// audited read. Durability is unchanged: the same PASSIVE checkpoint with the same fsyncs
// (the store's `synchronous`) runs, only elsewhere. A checkpoint that fails with an I/O error
// is not retried: the store then refuses new transactions (a failed fsync stops writes).
//
// A PASSIVE checkpoint copies the log up to where it ended when the checkpoint began; a writer
// that never pauses has added more by then, so the log is never wholly copied and never
// restarted. The checkpointer therefore also watches a hard limit (SqliteOptions::wal_max_pages):
// a commit that leaves the log past it makes the next Begin() truncate the log first.
class BackgroundCheckpointer {
 public:
  // nullptr when the second connection cannot be had; SQLite's own checkpoints then stay.
  static std::unique_ptr<BackgroundCheckpointer> Start(const std::filesystem::path& path,
                                                       const SqliteOptions& options) {
    auto db = SqliteDb::Open(path, /*create=*/false);
    if (!db.ok()) return nullptr;
    const char* sync =
        options.synchronous == "full" ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL";
    if (!(*db)->Exec(sync, "checkpointer: set synchronous").ok()) return nullptr;
    const int64_t max_pages = options.wal_max_pages > 0
                                  ? options.wal_max_pages
                                  : 4 * int64_t{options.wal_autocheckpoint_pages};
    return std::unique_ptr<BackgroundCheckpointer>(new BackgroundCheckpointer(
        std::move(db).value(), options.wal_autocheckpoint_pages, max_pages));
  }

  ~BackgroundCheckpointer() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_one();
    thread_.join();
  }

  // For SqliteDb::SetWalHook: runs in the committing thread, so it only signals.
  static void OnCommit(void* self, int pages) {
    auto* c = static_cast<BackgroundCheckpointer*>(self);
    const int64_t before = c->log_pages_.exchange(pages, std::memory_order_relaxed);
    const int64_t at = c->truncate_at_.load(std::memory_order_relaxed);
    // A log that restarted from its start (a checkpoint copied all of it) while a truncation
    // was deferred (a reader held the log when it was tried): the file is still at the size
    // the reader left it, and the log may never grow back to the deferred mark. Truncate at
    // the next Begin().
    const bool restarted_after_deferral = pages < before && at > c->max_pages_;
    if (pages >= at || restarted_after_deferral) {
      c->over_limit_.store(true, std::memory_order_relaxed);
    }
    if (pages < c->threshold_pages_) return;
    {
      std::lock_guard<std::mutex> lock(c->mu_);
      c->requested_ = true;
    }
    c->wake_.notify_one();
  }

  // OK, or the failure that stopped checkpointing.
  Status Health() {
    std::lock_guard<std::mutex> lock(mu_);
    return failure_;
  }

  int threshold_pages() const { return threshold_pages_; }

  // True when the last commit left the log at or past the limit. Read and reset by the
  // holder of the writer slot (as OnCommit runs), so no two threads act on it at once.
  bool OverLimit() const { return over_limit_.load(std::memory_order_relaxed); }

  // The writer's TRUNCATE checkpoint, on the writer's connection `writer` (no transaction open
  // on it), after this thread's checkpoint in progress: SQLite answers BUSY at once, without
  // waiting, to a checkpoint that meets another. Done, the limit stands; not done (a reader, or
  // another process's checkpoint, held the log), the next try waits until the log has grown by
  // the limit again, so that a long snapshot (a backup) does not make every Begin() wait out
  // the busy timeout. True when the log was truncated; Unavailable / DataLoss on an I/O error.
  Result<bool> TruncateLog(SqliteDb& writer) {
    Result<bool> done = false;
    {
      std::lock_guard<std::mutex> checkpointing(checkpoint_mu_);
      done = writer.CheckpointTruncate();
    }
    if (!done.ok()) return done.status();
    over_limit_.store(false, std::memory_order_relaxed);
    truncate_at_.store(*done ? max_pages_ : log_pages_.load(std::memory_order_relaxed) + max_pages_,
                       std::memory_order_relaxed);
    return *done;
  }

 private:
  BackgroundCheckpointer(std::unique_ptr<SqliteDb> db, int threshold_pages, int64_t max_pages)
      : db_(std::move(db)),
        threshold_pages_(threshold_pages),
        max_pages_(max_pages),
        truncate_at_(max_pages),
        thread_([this] { Run(); }) {}

  void Run() {
    std::unique_lock<std::mutex> lock(mu_);
    while (true) {
      wake_.wait(lock, [this] { return stop_ || requested_; });
      if (stop_ || !failure_.ok()) return;
      requested_ = false;
      lock.unlock();
      Status st;
      {
        std::lock_guard<std::mutex> checkpointing(checkpoint_mu_);
        st = db_->CheckpointPassive();
      }
      lock.lock();
      if (!st.ok()) {
        failure_ =
            Unavailable("store: background checkpoint failed, writes stopped: " + st.message());
      }
    }
  }

  std::unique_ptr<SqliteDb> db_;
  const int threshold_pages_;
  const int64_t max_pages_;
  std::atomic<int64_t> truncate_at_;
  std::atomic<int64_t> log_pages_{0};
  std::atomic<bool> over_limit_{false};
  std::mutex checkpoint_mu_;  // one checkpoint at a time in this process
  std::mutex mu_;
  std::condition_variable wake_;
  bool requested_ = false;
  bool stop_ = false;
  Status failure_;
  std::thread thread_;  // last: starts once everything above is ready
};

Status SetPragmas(SqliteDb& db, const SqliteOptions& options);

// The store's read connections (SqliteOptions::read_connections): each is lent to one read
// transaction at a time and opened at the first read that finds none free. Query-only: a read
// transaction that tries to write is refused and says so (Transaction::Wrote).
class ReadPool {
 public:
  ReadPool(std::filesystem::path path, SqliteOptions options, size_t size)
      : path_(std::move(path)), options_(std::move(options)), size_(size) {}
  ReadPool(const ReadPool&) = delete;
  ReadPool& operator=(const ReadPool&) = delete;
  ~ReadPool() = default;  // every lease is back: a transaction does not outlive its store

  // A free read connection and the lease that gives it back; waits up to `timeout` when every
  // one is lent. nullptr when none could be opened (the caller reads on its writer instead).
  Result<std::pair<SqliteDb*, SlotLease>> Take(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    if (free_.empty() && opened_ < size_ && !failed_) {
      ++opened_;
      lock.unlock();
      auto reader = Open();
      lock.lock();
      if (reader == nullptr) {
        failed_ = true;
        --opened_;
      } else {
        all_.push_back(std::move(reader));
        free_.push_back(all_.back().get());
      }
    }
    if (opened_ == 0) return std::pair<SqliteDb*, SlotLease>{nullptr, SlotLease()};
    if (!cv_.wait_for(lock, timeout, [this] { return !free_.empty(); })) {
      return Unavailable("store: begin read: timed out waiting for a read connection");
    }
    Reader* reader = free_.back();
    free_.pop_back();
    return std::pair<SqliteDb*, SlotLease>{reader->db.get(), SlotLease(reader)};
  }

 private:
  struct Reader final : sqlite::Lent {
    Reader(ReadPool& owner, std::unique_ptr<SqliteDb> conn) : pool(owner), db(std::move(conn)) {}
    void Release() override {
      {
        std::lock_guard<std::mutex> lock(pool.mu_);
        pool.free_.push_back(this);
      }
      pool.cv_.notify_one();
    }
    ReadPool& pool;
    std::unique_ptr<SqliteDb> db;
  };

  std::unique_ptr<Reader> Open() {
    auto db = SqliteDb::Open(path_, /*create=*/false);
    if (!db.ok()) return nullptr;
    (*db)->SetBusyTimeout(options_.busy_timeout_ms);
    // The memory map only where the VFS maps the whole file and keeps it across the writer's
    // commits (wal_write_vfs.h, "The kept map"): SQLite alone lets go of it at each one, and
    // remapping and faulting the pages back in cost more than reading the pages a read needs.
    SqliteOptions options = options_;
    if (!(*db)->KeepMap()) options.mmap_size_mib = 0;
    if (!SetPragmas(**db, options).ok() || !(*db)->MakeReadOnly().ok()) return nullptr;
    return std::make_unique<Reader>(*this, std::move(db).value());
  }

  const std::filesystem::path path_;
  const SqliteOptions options_;
  const size_t size_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<Reader>> all_;  // guarded by mu_
  std::vector<Reader*> free_;                 // guarded by mu_
  size_t opened_ = 0;                         // guarded by mu_: in all_ or being opened
  bool failed_ = false;                       // guarded by mu_: an open failed; no more tries
};

class SqliteStore final : public Store {
 public:
  SqliteStore(std::unique_ptr<SqliteDb> db, std::chrono::milliseconds slot_timeout,
              std::unique_ptr<BackgroundCheckpointer> checkpointer)
      : db_(std::move(db)), slot_timeout_(slot_timeout), checkpointer_(std::move(checkpointer)) {
    if (checkpointer_) db_->SetWalHook(&BackgroundCheckpointer::OnCommit, checkpointer_.get());
  }

  ~SqliteStore() override {
    // The read and checkpointer connections close first, so the store's own close (the last
    // connection) still checkpoints and removes the log.
    readers_.reset();
    if (checkpointer_) {
      db_->SetWalHook(nullptr, nullptr);
      checkpointer_.reset();
    }
  }

  Result<std::unique_ptr<Transaction>> Begin() override {
    if (checkpointer_) CUSTOS_RETURN_IF_ERROR(checkpointer_->Health());
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("begin"));
    if (checkpointer_ && checkpointer_->OverLimit()) {
      CUSTOS_RETURN_IF_ERROR(checkpointer_->TruncateLog(*db_).status());
    }
    return sqlite::SqliteTransaction::Begin(*db_, std::move(lease));
  }

  Result<std::unique_ptr<Transaction>> BeginRead() override {
    if (checkpointer_) CUSTOS_RETURN_IF_ERROR(checkpointer_->Health());
    if (readers_) {
      CUSTOS_ASSIGN_OR_RETURN(auto reader, readers_->Take(slot_timeout_));
      if (reader.first != nullptr) {
        return sqlite::SqliteTransaction::Begin(*reader.first, std::move(reader.second),
                                                /*deferred=*/true);
      }
    }
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("begin read"));
    return sqlite::SqliteTransaction::Begin(*db_, std::move(lease), /*deferred=*/true);
  }

  Result<int> SchemaVersion() override {
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("schema version"));
    return sqlite::ReadSchemaVersion(*db_);
  }

  Status Checkpoint() override {
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("checkpoint"));
    // After the background checkpoint in progress, if any (two checkpoints that meet make the
    // second answer busy at once). Not done: a reader (another connection's snapshot) or
    // another process's checkpoint kept part of the log alive; it was not truncated.
    CUSTOS_ASSIGN_OR_RETURN(
        bool done, checkpointer_ ? checkpointer_->TruncateLog(*db_) : db_->CheckpointTruncate());
    if (!done) return Unavailable("store: checkpoint: another connection is reading the log");
    return Status::Ok();
  }

  Status MergeStagedIndex() override {
    CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("merge staged index"));
    CUSTOS_RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE", "merge staged index: begin"));
    // Key order: each index page is written once, however random the tokens.
    Status st = db_->Exec(
        "INSERT OR IGNORE INTO blind_index(field, token, customer_id) "
        "SELECT field, token, customer_id FROM blind_index_staged ORDER BY field, token, "
        "customer_id",
        "merge staged index: insert");
    if (st.ok()) st = db_->Exec("DELETE FROM blind_index_staged", "merge staged index: clear");
    if (st.ok()) st = db_->Exec("COMMIT", "merge staged index: commit");
    if (!st.ok() && !db_->InAutocommit()) {
      db_->Exec("ROLLBACK", "merge staged index: rollback").IgnoreError();
    }
    return st.ok() ? st : Unavailable(st.message());
  }

  std::string_view Backend() const override { return "sqlite"; }

  Result<std::unique_ptr<Snapshot>> OpenSnapshot() override {
    return sqlite::OpenSnapshot(path_, options_.busy_timeout_ms);
  }

  Result<std::unique_ptr<Loader>> OpenLoader() override {
    return sqlite::OpenLoader(path_, options_);
  }

  // Where the file is and how it was opened, for the snapshot and loader connections.
  void SetSource(std::filesystem::path path, SqliteOptions options) {
    path_ = std::move(path);
    options_ = std::move(options);
    size_t readers = options_.read_connections > 0
                         ? static_cast<size_t>(options_.read_connections)
                         : std::clamp<size_t>(std::thread::hardware_concurrency(), 1, 8);
    if (path_ != ":memory:" && !path_.empty()) {
      readers_ = std::make_unique<ReadPool>(path_, options_, readers);
    }
  }

  Result<std::string> ReadPragma(std::string_view pragma) {
    static constexpr std::array<std::pair<std::string_view, const char*>, 8> kAllowed = {{
        {"journal_mode", "PRAGMA journal_mode"},
        {"secure_delete", "PRAGMA secure_delete"},
        {"foreign_keys", "PRAGMA foreign_keys"},
        {"synchronous", "PRAGMA synchronous"},
        {"busy_timeout", "PRAGMA busy_timeout"},
        {"cache_size", "PRAGMA cache_size"},
        {"wal_autocheckpoint", "PRAGMA wal_autocheckpoint"},
        {"mmap_size", "PRAGMA mmap_size"},
    }};
    if (pragma == "wal_autocheckpoint" && checkpointer_) {
      // SQLite's own setting is off: the background checkpointer applies the threshold.
      return std::to_string(checkpointer_->threshold_pages());
    }
    for (const auto& [name, sql] : kAllowed) {
      if (name != pragma) continue;
      CUSTOS_ASSIGN_OR_RETURN(SlotLease lease, TakeSlot("read pragma"));
      return db_->QueryText(sql, "read pragma");
    }
    return InvalidArgument("store: read pragma: not an inspectable pragma");
  }

 private:
  Result<SlotLease> TakeSlot(std::string_view op) {
    if (!slot_.Acquire(slot_timeout_)) {
      return Unavailable(
          fmt::format("store: {}: timed out waiting for the open transaction to finish", op));
    }
    return SlotLease(&slot_);
  }

  std::unique_ptr<SqliteDb> db_;
  std::chrono::milliseconds slot_timeout_;
  sqlite::WriterSlot slot_;
  std::unique_ptr<BackgroundCheckpointer> checkpointer_;  // null: SQLite checkpoints itself
  std::filesystem::path path_;
  SqliteOptions options_;
  std::unique_ptr<ReadPool> readers_;  // null: reads on db_ (an in-memory database)
};

Status CheckOptions(const SqliteOptions& options) {
  if (options.synchronous != "normal" && options.synchronous != "full") {
    return InvalidArgument("store: option 'synchronous': must be \"normal\" or \"full\"");
  }
  if (options.busy_timeout_ms < 0) {
    return InvalidArgument("store: option 'busy_timeout_ms': must not be negative");
  }
  if (options.cache_size_kib < 0) {
    return InvalidArgument("store: option 'cache_size_kib': must not be negative");
  }
  if (options.read_connections < 0) {
    return InvalidArgument("store: option 'read_connections': must not be negative");
  }
  if (options.wal_autocheckpoint_pages < 0) {
    return InvalidArgument("store: option 'wal_autocheckpoint_pages': must not be negative");
  }
  if (options.mmap_size_mib < 0 || options.mmap_size_mib > (int64_t{1} << 30)) {
    return InvalidArgument("store: option 'mmap_size_mib': must be 0 .. 1073741824");
  }
  if (options.wal_max_pages < 0 ||
      (options.wal_max_pages > 0 && options.wal_max_pages < options.wal_autocheckpoint_pages)) {
    return InvalidArgument(
        "store: option 'wal_max_pages': must be 0 or at least wal_autocheckpoint_pages");
  }
  return Status::Ok();
}

Status SetPragmas(SqliteDb& db, const SqliteOptions& options) {
  CUSTOS_ASSIGN_OR_RETURN(std::string mode,
                          db.QueryText("PRAGMA journal_mode=WAL", "set journal_mode"));
  if (mode != "wal") {
    return FailedPrecondition("store: journal_mode WAL is not available for this file");
  }
  // secure_delete: deleted content (a shredded wrapped key) is overwritten, not left in
  // free pages (ARCHITECTURE.md, Keys).
  CUSTOS_RETURN_IF_ERROR(db.Exec("PRAGMA secure_delete=ON", "set secure_delete"));
  CUSTOS_RETURN_IF_ERROR(db.Exec("PRAGMA foreign_keys=ON", "set foreign_keys"));
  CUSTOS_RETURN_IF_ERROR(db.Exec(
      options.synchronous == "full" ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL",
      "set synchronous"));
  // PRAGMA arguments cannot be bound; these are validated integers.
  std::string cache = fmt::format("PRAGMA cache_size=-{}", options.cache_size_kib);
  CUSTOS_RETURN_IF_ERROR(db.Exec(cache.c_str(), "set cache_size"));
  std::string autocheckpoint =
      fmt::format("PRAGMA wal_autocheckpoint={}", options.wal_autocheckpoint_pages);
  CUSTOS_RETURN_IF_ERROR(db.Exec(autocheckpoint.c_str(), "set wal_autocheckpoint"));
  // Pages read through a read-only memory map (SqliteOptions::mmap_size_mib); SQLite answers
  // the size it applied (its build's cap), which is not an error.
  const std::string mmap = fmt::format("PRAGMA mmap_size={}", options.mmap_size_mib * 1024 * 1024);
  CUSTOS_RETURN_IF_ERROR(db.QueryText(mmap.c_str(), "set mmap_size").status());
  return Status::Ok();
}

}  // namespace

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::filesystem::path& db_path,
                                               const SqliteOptions& options) {
  CUSTOS_RETURN_IF_ERROR(CheckOptions(options));
  CUSTOS_ASSIGN_OR_RETURN(std::unique_ptr<SqliteDb> db,
                          SqliteDb::Open(db_path, options.create_if_missing));
  db->SetBusyTimeout(options.busy_timeout_ms);
  CUSTOS_RETURN_IF_ERROR(SetPragmas(*db, options));
  CUSTOS_RETURN_IF_ERROR(sqlite::Migrate(*db, NowMs()));
  std::unique_ptr<BackgroundCheckpointer> checkpointer;
  if (options.wal_autocheckpoint_pages > 0) {
    checkpointer = BackgroundCheckpointer::Start(db_path, options);
  }
  auto store = std::make_unique<SqliteStore>(
      std::move(db), std::chrono::milliseconds(options.busy_timeout_ms), std::move(checkpointer));
  store->SetSource(db_path, options);
  return std::unique_ptr<Store>(std::move(store));
}

Result<std::string> TEST_ReadPragma(Store& store, std::string_view pragma) {
  auto* sqlite_store = dynamic_cast<SqliteStore*>(&store);
  if (sqlite_store == nullptr) return InvalidArgument("store: read pragma: not a SQLite store");
  return sqlite_store->ReadPragma(pragma);
}

}  // namespace custos::store
