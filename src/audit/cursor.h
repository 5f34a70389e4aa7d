// The cursor of a paginated audit query (issue 13 item 5): opaque to callers, it carries where
// the next page starts (after seq) and where the query ends (the last entry committed when its
// first page was asked for). A query thus answers one fixed set of entries across its pages:
// none is lost or repeated, and entries appended meanwhile (the query's own entries among
// them) are not part of it — `custos audit follow` is for those.
//
// Text form: "c1" followed by two 16-digit lower-case hex numbers (after_seq, up_to_seq);
// callers must not build or read it.
//
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custos::audit {

struct QueryCursor {
  int64_t after_seq = 0;  // the next page starts after this entry
  int64_t up_to_seq = 0;  // the query's last entry (inclusive)
};

std::string EncodeCursor(const QueryCursor& cursor);

// The cursor `text` encodes. InvalidArgument "cursor: not a cursor of this server" unless it
// is a cursor EncodeCursor wrote with 0 <= after_seq <= up_to_seq.
Result<QueryCursor> DecodeCursor(std::string_view text);

}  // namespace custos::audit
