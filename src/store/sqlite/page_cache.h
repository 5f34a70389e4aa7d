// SQLite's page cache for every Custos connection: SQLite's own (pcache1), with a cheaper
// truncation after a commit.
//
// Why: when SQLite splits a B-tree page it may swap two new pages' numbers so that they lie in
// ascending order, and it parks one of them under a temporary number on the way: the page
// just past PENDING_BYTE (262,145 with 4 KiB pages; btree.c, balance_nonroot). pcache1 keeps the
// largest key it has seen (iMaxKey) and does not lower it when that page moves back. Every
// commit then truncates the cache to the database's size, and pcache1 scans the hash buckets
// from the size up to iMaxKey — the whole hash table (65,536 buckets at the default 256 MiB
// cache) whenever the database is below 1 GiB minus that many pages. On a 200,000-customer
// vault (760 MB) that scan was 15 % of `custos serve`'s CPU under audited reads
// (BENCHMARKS.md, "The page cache's scan after a commit").
//
// What it does: it forwards every call to pcache1 and keeps its own upper bound of the keys
// present, which ignores the parked key (a page is keyed there only between two rekeys of
// one balance; a flag says when one is). A truncation to a limit above that bound removes
// nothing, so it is not passed on; any other is, and the bound falls to the limit. What the
// cache holds is therefore what pcache1 alone would hold.
//
// Thread safety: InstallPageCache is safe to call from any thread, any number of times; it
// takes effect only before SQLite initialises (the first open), and is then kept for the
// process. A cache's state is touched only under SQLite's serialisation of its connection.
#pragma once

#include <cstdint>

namespace custos::store::sqlite {

// Installs the wrapper once. Returns false when SQLite refused (it was initialised already,
// e.g. by another library); SQLite's own cache then stays, with the same results.
bool InstallPageCache();

// Test hooks: truncations asked for, and those passed on to pcache1, since the start of the
// process (all connections).
uint64_t TEST_TruncationsAsked();
uint64_t TEST_TruncationsPassed();

}  // namespace custos::store::sqlite
