// In-process latency of audited reads on an existing vault: GetCustomer (all readable fields)
// and FindCustomers by phone, each a full trip through the one door (authorise, audit entry
// durable, unwrap, open). Prints p50/p99 in microseconds as JSON: wall-clock time, and the
// calling thread's CPU time (cpu_*), which a machine shared with other work disturbs less.
// The vault is opened as `custos serve` opens it: on SQLite its reads are journalled unless
// custos.toml says read_journal = false (the entry durable in the audit journal before the
// answer returns; docs/audit.md "The read journal").
//   custos_read_latency VAULT_DIR SAMPLES [STAFF_ID PURPOSE]
// The reader (default admin, customer_service) must be allowed to list, read and search.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <ctime>
#include <iostream>
#include <random>
#include <vector>

#include "vault/vault.h"

using namespace custos;
using Clock = std::chrono::steady_clock;

namespace {

double ThreadCpuUs() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

double Percentile(std::vector<double> v, double p) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::cerr << "usage: custos_read_latency VAULT_DIR SAMPLES [STAFF_ID PURPOSE]\n";
    return 2;
  }
  const size_t samples = std::stoul(argv[2]);
  vault::OpenOptions open;
  open.dir = argv[1];
  open.journal_reads = true;
  auto v = vault::Vault::Open(open);
  if (!v.ok()) {
    std::cerr << v.status().ToString() << '\n';
    return 1;
  }
  const std::string staff = argc == 5 ? argv[3] : "admin";
  const std::string purpose = argc == 5 ? argv[4] : "customer_service";
  vault::Context ctx{staff, purpose, vault::Channel::kJob, "bench"};
  // Sample ids and phones spread over the vault by walking pages.
  std::vector<std::string> ids;
  std::vector<std::string> phones;
  std::string after;
  std::mt19937_64 rng(42);
  while (ids.size() < samples) {
    auto page = (*v)->customers().List(ctx, after, 1000);
    if (!page.ok()) {
      std::cerr << "list customers: " << page.status().ToString() << '\n';
      return 1;
    }
    if (page->customers.empty()) break;
    for (const auto& c : page->customers) {
      if (rng() % 8 == 0 && ids.size() < samples) {
        ids.push_back(c.customer_id);
        phones.push_back(c.fields.count("phone") ? c.fields.at("phone") : "");
      }
    }
    after = page->next_after;
    if (after.empty()) break;
    // Skip ahead so samples cover the whole key range of a large vault.
    for (int skip = 0; skip < 20 && !after.empty(); ++skip) {
      auto next = (*v)->customers().List(ctx, after, 1);
      if (!next.ok() || next->customers.empty()) break;
      after = next->customers.back().customer_id;
    }
  }
  if (ids.empty()) {
    std::cerr << "the vault holds no customer to read\n";
    return 1;
  }
  std::shuffle(ids.begin(), ids.end(), rng);
  std::vector<double> get_us, find_us, get_cpu_us, find_cpu_us;
  for (size_t i = 0; i < ids.size(); ++i) {
    const double c0 = ThreadCpuUs();
    auto t0 = Clock::now();
    auto c = (*v)->customers().Get(ctx, ids[i], {});
    auto t1 = Clock::now();
    get_cpu_us.push_back(ThreadCpuUs() - c0);
    if (!c.ok()) {
      std::cerr << c.status().ToString() << '\n';
      return 1;
    }
    get_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  for (size_t i = 0; i < phones.size(); ++i) {
    if (phones[i].empty()) continue;
    const double c0 = ThreadCpuUs();
    auto t0 = Clock::now();
    auto hits = (*v)->customers().Find(ctx, "phone", phones[i]);
    auto t1 = Clock::now();
    find_cpu_us.push_back(ThreadCpuUs() - c0);
    if (!hits.ok() || hits->empty()) {
      std::cerr << "find failed\n";
      return 1;
    }
    find_us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
  }
  std::cout << fmt::format(
      "{{\"samples\":{},\"get_p50_us\":{:.1f},\"get_p99_us\":{:.1f},"
      "\"find_phone_p50_us\":{:.1f},\"find_phone_p99_us\":{:.1f},"
      "\"get_cpu_p50_us\":{:.1f},\"find_phone_cpu_p50_us\":{:.1f}}}\n",
      get_us.size(), Percentile(get_us, 0.50), Percentile(get_us, 0.99), Percentile(find_us, 0.50),
      Percentile(find_us, 0.99), Percentile(get_cpu_us, 0.50), Percentile(find_cpu_us, 0.50));
  return 0;
}
