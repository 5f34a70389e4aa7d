#include "scan/patterns.h"

#include <array>

namespace custos::scan {
namespace {

// A trailing [^0-9] makes a digit run fire once, at its end, instead of at every digit; the
// stream is closed with one extra newline so a number at the very end still fires.
constexpr std::array<TriggerPattern, 9> kPatterns = {{
    {TriggerKind::kDigitRun, kNativeGroup, false, "[0-9]{7}[^0-9]"},
    {TriggerKind::kDigitGroups, kNativeGroup, false, "[0-9]{4}[ \\-][0-9]{4}[^0-9]"},
    {TriggerKind::kIpv4, kNativeGroup, false, "[0-9]\\.[0-9]{1,3}\\.[0-9]{1,3}\\.[0-9]"},
    {TriggerKind::kFullWidthDigits, 0, true, "[\\x{FF10}-\\x{FF19}]{7}"},
    {TriggerKind::kEmail, 1, false, "@[A-Za-z0-9\\-]+\\.[A-Za-z]"},
    {TriggerKind::kIpv6, 2, false, "[0-9A-Fa-f]{1,4}::?[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{0,4}:"},
    {TriggerKind::kNamePrefix, 0, true,
     "(?:姓名|联系人|收件人|收货人|持卡人|户名|开户人|申请人|客户|患者|乘客)"},
    {TriggerKind::kNameSuffix, 0, true, "(?:先生|女士|小姐)"},
    {TriggerKind::kAddress, 0, true, "[0-9]{1,5}号"},
}};
// Passports and unified social credit codes contain a run of seven digits and are found
// through kDigitRun; landlines through kDigitRun / kDigitGroups.

}  // namespace

std::span<const TriggerPattern> TriggerPatterns() { return kPatterns; }

int TriggerGroupCount() { return 3; }

}  // namespace custos::scan
