// The PIPL Art. 57 notices (secops_notices.h): templates in Chinese and English, filled with
// the incident's figures. The categories are the field catalogue's (custos.toml
// [fields.NAME] category); each has a label and a possible harm in both languages.
#include "vault/secops_notices.h"

#include <fmt/format.h>

#include <string_view>

#include "core/dates.h"

namespace custos::vault {
namespace {

struct CategoryText {
  std::string_view name;
  std::string_view zh;
  std::string_view en;
  std::string_view harm_zh;
  std::string_view harm_en;
};

constexpr CategoryText kCategories[] = {
    {"identity", "身份信息", "identity information", "身份被冒用、诈骗",
     "identity theft and fraud"},
    {"contact", "联系方式", "contact details", "骚扰、钓鱼电话或短信",
     "unwanted contact, phishing calls or messages"},
    {"financial", "金融账户信息", "financial account information", "资金损失、金融诈骗",
     "financial loss and fraud"},
    {"credential", "账户凭据", "account credentials", "账户被盗用", "account takeover"},
    {"needs", "兴趣与偏好", "interests and preferences", "被精准营销或定向诈骗",
     "targeted marketing or targeted scams"},
    {"transaction", "交易记录", "transaction records", "消费习惯暴露、定向诈骗",
     "exposure of spending habits, targeted scams"},
};

const CategoryText* Find(std::string_view name) {
  for (const CategoryText& c : kCategories) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string Listed(const std::vector<std::string>& categories, bool zh, bool harm) {
  std::string out;
  for (const std::string& name : categories) {
    const CategoryText* c = Find(name);
    std::string item =
        c == nullptr ? name
                     : std::string(harm ? (zh ? c->harm_zh : c->harm_en) : (zh ? c->zh : c->en));
    out += (out.empty() ? "" : (zh ? "、" : "; ")) + item;
  }
  if (out.empty()) return zh ? "（无）" : "(none)";
  return out;
}

std::string Lines(const std::vector<std::string>& items, std::string_view none) {
  if (items.empty()) return fmt::format("  - {}\n", none);
  std::string out;
  for (const std::string& i : items) out += fmt::format("  - {}\n", i);
  return out;
}

std::string Cause(const Art57Facts& f, bool zh) {
  std::string rules;
  for (const std::string& r : f.rules) rules += (rules.empty() ? "" : ", ") + r;
  if (zh) {
    return fmt::format("{}（审计日志监测规则：{}）", f.incident.title,
                       rules.empty() ? "人工发现" : rules);
  }
  return fmt::format("{} (detected on the audit log by: {})", f.incident.title,
                     rules.empty() ? "staff report" : rules);
}

std::string FieldsLine(const ImpactAssessment& a) {
  std::string out;
  for (const auto& [field, n] : a.fields) {
    out += fmt::format("{}{} ({})", out.empty() ? "" : ", ", field, n);
  }
  return out.empty() ? "(none)" : out;
}

std::string AuthorityZh(const Art57Facts& f) {
  const ImpactAssessment& a = f.impact;
  return fmt::format(
      "个人信息安全事件报告（《个人信息保护法》第五十七条）\n"
      "事件编号：{}\n发现时间：{}（UTC）；涉及期间：{} 至 {}（UTC）；级别：{}\n\n"
      "一、发生的原因：{}\n"
      "二、涉及的个人信息种类：{}；涉及个人 {} 人；涉及字段（人数）：{}\n"
      "三、可能造成的危害：{}\n"
      "四、已采取的补救措施：\n{}"
      "五、个人可以采取的减轻危害的措施：警惕冒充本公司的电话、短信和邮件，不向任何人透露验证码和密"
      "码，"
      "核对账户和交易记录，如有异常请联系我们。\n"
      "六、联系方式：{}\n",
      f.incident.incident_id, core::UtcDateOfMs(f.incident.opened_at_ms),
      core::UtcDateOfMs(f.incident.from_ms),
      f.incident.to_ms == 0 ? std::string("今") : core::UtcDateOfMs(f.incident.to_ms),
      f.incident.severity, Cause(f, true), Listed(a.categories, true, false), a.customers,
      FieldsLine(a), Listed(a.categories, true, true), Lines(f.measures, "评估中"), f.contact);
}

std::string AuthorityEn(const Art57Facts& f) {
  const ImpactAssessment& a = f.impact;
  return fmt::format(
      "Personal information security incident report (PIPL Art. 57)\n"
      "Incident: {}\nFound: {} (UTC); period concerned: {} to {} (UTC); severity: {}\n\n"
      "1. Cause: {}\n"
      "2. Personal information concerned: {}; individuals concerned: {}; fields (individuals): "
      "{}\n"
      "3. Possible harm: {}\n"
      "4. Measures taken:\n{}"
      "5. What individuals can do: be wary of calls, messages and e-mails claiming to be from "
      "us; never give anyone a verification code or password; check their accounts and "
      "transactions and tell us of anything unusual.\n"
      "6. Contact: {}\n",
      f.incident.incident_id, core::UtcDateOfMs(f.incident.opened_at_ms),
      core::UtcDateOfMs(f.incident.from_ms),
      f.incident.to_ms == 0 ? std::string("now") : core::UtcDateOfMs(f.incident.to_ms),
      f.incident.severity, Cause(f, false), Listed(a.categories, false, false), a.customers,
      FieldsLine(a), Listed(a.categories, false, true), Lines(f.measures, "being assessed"),
      f.contact);
}

std::string IndividualZh(const Art57Facts& f) {
  return fmt::format(
      "尊敬的客户：\n\n"
      "我们发现一起个人信息安全事件，可能涉及您的以下信息：{}。\n"
      "原因：{}。\n可能的影响：{}。\n"
      "我们已采取的措施：\n{}"
      "您可以：警惕冒充本公司的电话、短信和邮件；不要向任何人透露验证码和密码；核对账户和交易记录，"
      "如有异常请及时联系我们。\n"
      "联系我们：{}\n",
      Listed(f.impact.categories, true, false), Cause(f, true),
      Listed(f.impact.categories, true, true), Lines(f.measures, "正在处理"), f.contact);
}

std::string IndividualEn(const Art57Facts& f) {
  return fmt::format(
      "Dear customer,\n\n"
      "We found a personal information security incident that may concern the following "
      "information of yours: {}.\n"
      "Cause: {}.\nPossible harm: {}.\n"
      "What we have done:\n{}"
      "What you can do: be wary of calls, messages and e-mails claiming to be from us; never "
      "give anyone a verification code or password; check your accounts and transactions and "
      "tell us at once of anything unusual.\n"
      "Contact us: {}\n",
      Listed(f.impact.categories, false, false), Cause(f, false),
      Listed(f.impact.categories, false, true), Lines(f.measures, "in progress"), f.contact);
}

}  // namespace

std::vector<Art57Notice> DraftArt57Notices(const Art57Facts& facts) {
  return {Art57Notice{"authority", "zh", AuthorityZh(facts)},
          Art57Notice{"authority", "en", AuthorityEn(facts)},
          Art57Notice{"individuals", "zh", IndividualZh(facts)},
          Art57Notice{"individuals", "en", IndividualEn(facts)}};
}

}  // namespace custos::vault
