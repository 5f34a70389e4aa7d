// The answer letter of a data-subject request (issue 18 item 8; PIPL Art. 50;
// docs/subject_requests.md, "The answer letter"): the outcome stated for the customer —
// fulfilled (what was done; a deletion: the day, and the consent evidence kept), restricted (the
// rule that keeps the data and the date it ends), or refused (the reason, and where to complain) —
// in Chinese and then in English, from the templates below and the report's page. No value of the
// customer is in it: the request's reference, its kind, dates, rules and field names only.
#include <fmt/format.h>

#include <array>
#include <string>

#include "lifecycle/rules.h"
#include "schema/vocabulary.h"
#include "vault/subject_report.h"

namespace custos::vault {
namespace {

struct LetterLabels {
  std::string_view title;
  std::string_view greeting;
  std::string_view opening;  // {opened}, {kind}, {reference}, {answered}
  std::string_view fulfilled_access, fulfilled_explanation, fulfilled_correction,
      fulfilled_restriction, fulfilled_portability, fulfilled_other;
  std::string_view fulfilled_deletion;  // {deleted}
  std::string_view consent_kept;        // {rule}, {until}
  std::string_view restricted;          // {rule}, {until}
  std::string_view until_release;       // a legal hold: no date
  std::string_view refused;             // {reason}
  std::string_view closing;
  std::array<std::string_view, 7> kinds;  // schema::kSubjectRequestKinds order
};

constexpr LetterLabels kLetterZh{
    "个人信息权利请求答复函",
    "尊敬的客户：",
    "您于 {opened} 提出的{kind}请求（编号 {reference}）已于 {answered} 处理完毕，答复如下。",
    "我们已满足您的请求：随函附上您的个人信息查阅报告。",
    "我们已满足您的请求：随函附上本公司处理您的个人信息所适用规则的说明。",
    "我们已按您的要求更正了以下信息：{fields}。",
    "我们已满足您的请求：自即日起，除履行法定义务外，本公司不再处理您的个人信息，直至您撤回限制。",
    "我们已满足您的请求：您的个人信息已按公开的格式导出并加密打包，解压密码将通过其他渠道另行告知"
    "。",
    "我们已满足您的请求。",
    "我们已满足您的请求：您的个人信息已于 {deleted} 删除。",
    "您的同意记录（不含其他个人信息）是合法收集的证明，依据 {rule} 保存至 {until}，届满后删除。",
    "您的部分个人信息依据 {rule} 须保存至 {until}，目前无法删除。在此之前，除履行法定义务外，"
    "本公司已限制对其的处理；期限届满后将予以删除。",
    "法律保全解除之日",
    "很遗憾，我们无法满足您的请求，理由如下：{reason}。如有异议，您可以向履行个人信息保护职责的"
    "部门投诉、举报（《个人信息保护法》第六十五条）。",
    "如有疑问，请凭请求编号联系我们。",
    {"查阅", "复制", "转移", "更正", "删除", "限制处理", "解释说明"},
};

constexpr LetterLabels kLetterEn{
    "Answer to your personal information request",
    "Dear customer,",
    "Your {kind} request of {opened} (reference {reference}) was answered on {answered}.",
    "We have done what you asked: your personal information access report is enclosed.",
    "We have done what you asked: the explanation of the rules under which the company "
    "processes your personal information is enclosed.",
    "We have corrected the following as you asked: {fields}.",
    "We have done what you asked: from today the company processes your personal information "
    "only where the law obliges it to, until you lift the restriction.",
    "We have done what you asked: your personal information is exported in the published format "
    "in an encrypted package; its passphrase reaches you separately.",
    "We have done what you asked.",
    "We have done what you asked: your personal information was deleted on {deleted}.",
    " The records of your consents, which hold no other personal information, are the evidence "
    "that it was collected lawfully: they are kept under {rule} until {until}, then deleted.",
    "Part of your personal information must be kept under {rule} until {until}, so it cannot be "
    "deleted yet. Until then the company restricts its processing to what the law obliges; it "
    "is deleted when that period ends.",
    "the day the legal hold is released",
    "We regret that we cannot do what you asked, for this reason: {reason}. If you disagree, "
    "you may complain to the authority responsible for personal information protection "
    "(Personal Information Protection Law, Article 65).",
    "If you have any question, please contact us quoting the reference of your request.",
    {"access", "copy", "portability", "correction", "deletion", "restriction", "explanation"},
};

std::string_view LetterKindLabel(const LetterLabels& l, std::string_view kind) {
  for (size_t i = 0; i < schema::kSubjectRequestKinds.size(); ++i) {
    if (schema::kSubjectRequestKinds[i] == kind) return l.kinds[i];
  }
  return kind;
}

std::string Outcome(const LetterLabels& l, const LetterFacts& f) {
  if (f.answer == "refused") {
    return fmt::format(fmt::runtime(l.refused), fmt::arg("reason", HtmlEscape(f.reason)));
  }
  if (f.answer == "restricted") {
    const std::string until =
        f.until_ms == 0 ? std::string(l.until_release) : lifecycle::UtcDay(f.until_ms);
    return fmt::format(fmt::runtime(l.restricted), fmt::arg("rule", HtmlEscape(f.rule)),
                       fmt::arg("until", HtmlEscape(until)));
  }
  if (f.kind == "deletion" && f.deleted_at_ms != 0) {
    std::string text = fmt::format(fmt::runtime(l.fulfilled_deletion),
                                   fmt::arg("deleted", lifecycle::UtcDay(f.deleted_at_ms)));
    if (f.until_ms != 0) {
      text += fmt::format(fmt::runtime(l.consent_kept), fmt::arg("rule", HtmlEscape(f.rule)),
                          fmt::arg("until", lifecycle::UtcDay(f.until_ms)));
    }
    return text;
  }
  if (f.kind == "access" || f.kind == "copy") return std::string(l.fulfilled_access);
  if (f.kind == "explanation") return std::string(l.fulfilled_explanation);
  if (f.kind == "restriction") return std::string(l.fulfilled_restriction);
  if (f.kind == "portability") return std::string(l.fulfilled_portability);
  if (f.kind == "correction") {
    return fmt::format(fmt::runtime(l.fulfilled_correction),
                       fmt::arg("fields", HtmlEscape(f.fields)));
  }
  return std::string(l.fulfilled_other);
}

std::string LetterSection(const LetterLabels& l, const LetterFacts& f) {
  const std::string opening = fmt::format(
      fmt::runtime(l.opening), fmt::arg("opened", lifecycle::UtcDay(f.opened_at_ms)),
      fmt::arg("kind", LetterKindLabel(l, f.kind)), fmt::arg("reference", HtmlEscape(f.reference)),
      fmt::arg("answered", lifecycle::UtcDay(f.answered_at_ms)));
  return fmt::format("<h1>{}</h1>\n<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n<p>{}</p>\n", l.title,
                     l.greeting, opening, Outcome(l, f), l.closing);
}

}  // namespace

std::string RenderLetterHtml(const LetterFacts& facts) {
  return HtmlPage("个人信息权利请求答复函 / Answer to your personal information request",
                  LetterSection(kLetterZh, facts), LetterSection(kLetterEn, facts));
}

}  // namespace custos::vault
