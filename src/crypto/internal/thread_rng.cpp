#include "crypto/internal/thread_rng.h"

#include <botan/mem_ops.h>
#include <botan/stream_cipher.h>
#include <botan/system_rng.h>
#include <pthread.h>

#include <array>
#include <atomic>
#include <memory>
#include <mutex>

namespace custos::crypto {
namespace {

// Bumped in every child process right after fork() (pthread_atfork).
std::atomic<uint64_t> fork_generation{0};

void ForkedChild() { fork_generation.fetch_add(1, std::memory_order_relaxed); }

void RegisterForkHandler() {
  static std::once_flag once;
  std::call_once(once, [] { ::pthread_atfork(nullptr, nullptr, &ForkedChild); });
}

// ChaCha20 keystream with fast key erasure; rekeyed from the system RNG after kReseedBytes of
// output and in a forked child.
class ChaChaThreadRng final : public Botan::RandomNumberGenerator {
 public:
  ChaChaThreadRng() : cipher_(Botan::StreamCipher::create_or_throw("ChaCha(20)")) {
    RegisterForkHandler();
    Reseed();
  }

  void randomize(uint8_t output[], size_t length) override {
    if (generation_ != fork_generation.load(std::memory_order_relaxed) ||
        produced_ >= kReseedBytes) {
      Reseed();
    }
    cipher_->write_keystream(output, length);
    produced_ += length;
    // Fast key erasure: the key that produced `output` is gone once this returns.
    std::array<uint8_t, 32> next;
    cipher_->write_keystream(next.data(), next.size());
    Rekey(next.data());
    Botan::secure_scrub_memory(next.data(), next.size());
  }

  bool accepts_input() const override { return false; }
  void add_entropy(const uint8_t[], size_t) override {}
  std::string name() const override { return "custos-thread-chacha20"; }
  void clear() override { Reseed(); }
  bool is_seeded() const override { return true; }

 private:
  static constexpr size_t kReseedBytes = size_t{1} << 20;

  void Reseed() {
    std::array<uint8_t, 32> key;
    Botan::system_rng().randomize(key.data(), key.size());
    Rekey(key.data());
    Botan::secure_scrub_memory(key.data(), key.size());
    produced_ = 0;
    generation_ = fork_generation.load(std::memory_order_relaxed);
  }
  void Rekey(const uint8_t key[32]) {
    static constexpr std::array<uint8_t, 12> kNonce{};  // a new key each time: a fixed nonce
    cipher_->set_key(key, 32);
    cipher_->set_iv(kNonce.data(), kNonce.size());
  }

  std::unique_ptr<Botan::StreamCipher> cipher_;
  size_t produced_ = 0;
  uint64_t generation_ = 0;
};

}  // namespace

Botan::RandomNumberGenerator& ThreadRng() {
  thread_local ChaChaThreadRng rng;
  return rng;
}

}  // namespace custos::crypto
