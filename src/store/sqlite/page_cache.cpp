#include "store/sqlite/page_cache.h"

#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <new>

namespace custos::store::sqlite {
namespace {

// SQLite's PENDING_BYTE (os.h): the byte at 1 GiB, whose page is never a database page.
constexpr unsigned kPendingByte = 0x40000000U;

std::atomic<uint64_t> g_cache_asked{0};
std::atomic<uint64_t> g_passed{0};

sqlite3_pcache_methods2 g_inner;  // pcache1's methods, read once before installing
sqlite3_pcache_methods2 g_cache_methods;

struct Cache {
  sqlite3_pcache* inner = nullptr;
  unsigned parked_key = 0;      // the page number balance_nonroot parks a page under
  unsigned max_key = 0;         // no page but the parked one has a larger key
  bool parked_present = false;  // a page is keyed parked_key now
};

Cache* Of(sqlite3_pcache* p) { return reinterpret_cast<Cache*>(p); }

int Init(void* /*arg*/) { return g_inner.xInit(g_inner.pArg); }
void Shutdown(void* /*arg*/) {
  if (g_inner.xShutdown != nullptr) g_inner.xShutdown(g_inner.pArg);
}

sqlite3_pcache* Create(int page_bytes, int extra_bytes, int purgeable) {
  auto* c = new (std::nothrow) Cache;
  if (c == nullptr) return nullptr;
  c->inner = g_inner.xCreate(page_bytes, extra_bytes, purgeable);
  if (c->inner == nullptr) {
    delete c;
    return nullptr;
  }
  c->parked_key = page_bytes > 0 ? kPendingByte / static_cast<unsigned>(page_bytes) + 1 : 0;
  return reinterpret_cast<sqlite3_pcache*>(c);
}

void Cachesize(sqlite3_pcache* p, int pages) { g_inner.xCachesize(Of(p)->inner, pages); }
int Pagecount(sqlite3_pcache* p) { return g_inner.xPagecount(Of(p)->inner); }

sqlite3_pcache_page* Fetch(sqlite3_pcache* p, unsigned key, int create) {
  Cache* c = Of(p);
  sqlite3_pcache_page* page = g_inner.xFetch(c->inner, key, create);
  if (page != nullptr && key > c->max_key) c->max_key = key;
  return page;
}

void Unpin(sqlite3_pcache* p, sqlite3_pcache_page* page, int discard) {
  g_inner.xUnpin(Of(p)->inner, page, discard);
}

void Rekey(sqlite3_pcache* p, sqlite3_pcache_page* page, unsigned old_key, unsigned new_key) {
  Cache* c = Of(p);
  g_inner.xRekey(c->inner, page, old_key, new_key);
  if (old_key == c->parked_key) c->parked_present = false;
  if (new_key == c->parked_key) {
    c->parked_present = true;
  } else if (new_key > c->max_key) {
    c->max_key = new_key;
  }
}

void Truncate(sqlite3_pcache* p, unsigned limit) {
  Cache* c = Of(p);
  g_cache_asked.fetch_add(1, std::memory_order_relaxed);
  const bool parked_goes = c->parked_present && limit <= c->parked_key;
  if (limit > c->max_key && !parked_goes) return;  // no page at or above the limit
  g_passed.fetch_add(1, std::memory_order_relaxed);
  g_inner.xTruncate(c->inner, limit);
  if (parked_goes) c->parked_present = false;
  if (limit <= c->max_key) c->max_key = limit > 0 ? limit - 1 : 0;
}

void Destroy(sqlite3_pcache* p) {
  Cache* c = Of(p);
  g_inner.xDestroy(c->inner);
  delete c;
}

void Shrink(sqlite3_pcache* p) {
  if (g_inner.xShrink != nullptr) g_inner.xShrink(Of(p)->inner);
}

}  // namespace

bool InstallPageCache() {
  static std::once_flag once;
  static bool installed = false;
  std::call_once(once, [] {
    if (sqlite3_config(SQLITE_CONFIG_GETPCACHE2, &g_inner) != SQLITE_OK) return;
    if (g_inner.xCreate == nullptr || g_inner.xFetch == nullptr || g_inner.xTruncate == nullptr ||
        g_inner.xRekey == nullptr || g_inner.xInit == nullptr) {
      return;
    }
    g_cache_methods = sqlite3_pcache_methods2{};
    g_cache_methods.iVersion = g_inner.iVersion;
    g_cache_methods.pArg = nullptr;
    g_cache_methods.xInit = Init;
    g_cache_methods.xShutdown = Shutdown;
    g_cache_methods.xCreate = Create;
    g_cache_methods.xCachesize = Cachesize;
    g_cache_methods.xPagecount = Pagecount;
    g_cache_methods.xFetch = Fetch;
    g_cache_methods.xUnpin = Unpin;
    g_cache_methods.xRekey = Rekey;
    g_cache_methods.xTruncate = Truncate;
    g_cache_methods.xDestroy = Destroy;
    g_cache_methods.xShrink = Shrink;
    installed = sqlite3_config(SQLITE_CONFIG_PCACHE2, &g_cache_methods) == SQLITE_OK;
  });
  return installed;
}

uint64_t TEST_TruncationsAsked() { return g_cache_asked.load(std::memory_order_relaxed); }
uint64_t TEST_TruncationsPassed() { return g_passed.load(std::memory_order_relaxed); }

}  // namespace custos::store::sqlite
