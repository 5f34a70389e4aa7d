// Masking rules: what a role that may see a field only masked (P3.2b) is shown instead of the
// value. Rules are named in custos.toml ([fields] mask = "...") and applied by the access
// layer after decryption; the unmasked value never leaves the service.
//
// Rules (all count UTF-8 characters, never bytes, so a Chinese character is never split):
//   none       the value unchanged
//   full       "****"
//   mobile     first 3 and last 4 characters, one * for each between: 138****5678
//   id_card    first 6 and last 4, one * for each between: 110105********002X
//   name       first character, then one * per remaining character: 张三 -> 张*,
//              欧阳娜娜 -> 欧***; a one-character name becomes "*"
//   email      first character of the local part, "***", then @domain: z***@example.com
//   address    the administrative part is kept and the rest becomes "****": the province
//              (省 / 自治区 / municipality), then at most two further units ending in 市, 州,
//              盟, 地区, 区, 县 or 旗, stopping after the first county-level unit (区, 县, 旗,
//              or a second 市 such as 苏州市昆山市). Names from the GB/T 2260 table are
//              recognised first, so 市中区 or 新市区 are not cut at their inner 市. A unit is at
//              most 16 characters; with no recognisable unit the whole value becomes "****".
//              广东省深圳市南山区科技南路18号 -> 广东省深圳市南山区****
//   bank_card  "************" then the last 4 digits
// A value too short for its rule to hide anything (mobile under 8 characters, ID under 11,
// bank card under 5, e-mail without a local part or @) becomes "****": a mask never shows
// the whole value.
//
// Thread safety: a pure function; safe from any thread.
#pragma once

#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace custos::core {

// The masked form of `value` under `rule`. Fails with InvalidArgument if the rule is unknown
// (the message names the rule, never the value) or `value` is not valid UTF-8.
Result<std::string> ApplyMask(std::string_view rule, std::string_view value);

// The names of every rule ApplyMask knows.
std::span<const std::string_view> MaskRuleNames();

}  // namespace custos::core
