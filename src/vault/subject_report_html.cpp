// report.html of an access report (issue 18 item 2): the report's JSON rendered for a person,
// in Chinese and then in English, from the templates below. Every value is HTML-escaped (a
// customer's own text is never markup).
#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "vault/subject_report.h"

namespace custos::vault {
namespace {

using Json = nlohmann::ordered_json;

// The page; {style}, {zh}, {en} are filled in.
constexpr std::string_view kPageTemplate = R"(<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>{style}</style>
</head>
<body>
<section lang="zh-CN">
{zh}
</section>
<hr>
<section lang="en">
{en}
</section>
</body>
</html>
)";

constexpr std::string_view kStyle =
    "body{font-family:sans-serif;margin:2em;}table{border-collapse:collapse;margin:0 0 1.5em}"
    "td,th{border:1px solid #999;padding:.25em .5em;text-align:left;vertical-align:top}";

// One language's headings and sentences.
struct ReportLabels {
  std::string_view title;
  std::string_view intro;  // {request}, {produced}
  std::string_view fields, transactions, notes, consent, restrictions, sources, purposes, accesses,
      shared, retention, none, cut;
  std::string_view field_head, record_head, consent_head, purpose_head, access_head, retention_head;
};

constexpr ReportLabels kReportZh{
    "个人信息查阅报告",
    "本报告依据《个人信息保护法》第四十五条，应您的请求（编号 {request}）于 {produced} "
    "生成，列出本公司持有的您的全部个人信息。",
    "个人资料",
    "交易记录",
    "沟通记录",
    "同意记录",
    "处理限制",
    "信息来源",
    "处理目的",
    "访问记录（按岗位与角色）",
    "向第三方提供",
    "保存期限",
    "无",
    "（仅列出最早的记录，另有更多）",
    "<tr><th>字段</th><th>名称</th><th>内容</th></tr>",
    "<tr><th>编号</th><th>时间</th><th>来源</th><th>内容</th></tr>",
    "<tr><th>时间</th><th>操作</th><th>范围</th><th>目的</th><th>渠道</th></tr>",
    "<tr><th>目的</th><th>名称</th><th>法律依据</th></tr>",
    "<tr><th>时间</th><th>岗位</th><th>角色</th><th>操作</th><th>目的</th></tr>",
    "<tr><th>保存类别</th><th>内容</th><th>起算事件</th><th>最早删除</th><th>到期删除</th></tr>",
};

constexpr ReportLabels kReportEn{
    "Personal information access report",
    "This report answers your request {request} under Article 45 of the Personal Information "
    "Protection Law. It was produced on {produced} and lists all personal information the "
    "company holds about you.",
    "Your details",
    "Transactions",
    "Communication notes",
    "Consent history",
    "Restrictions of processing",
    "Where the data came from",
    "Purposes of processing",
    "Who accessed it (by post and role)",
    "Shared with third parties",
    "Retention",
    "none",
    "(the oldest entries only; there are more)",
    "<tr><th>field</th><th>name</th><th>value</th></tr>",
    "<tr><th>id</th><th>time</th><th>source</th><th>content</th></tr>",
    "<tr><th>time</th><th>action</th><th>scope</th><th>purpose</th><th>channel</th></tr>",
    "<tr><th>purpose</th><th>name</th><th>legal basis</th></tr>",
    "<tr><th>time</th><th>post</th><th>roles</th><th>action</th><th>purpose</th></tr>",
    "<tr><th>retention class</th><th>parts</th><th>counted from</th><th>kept at least "
    "until</th><th>due for destruction</th></tr>",
};

}  // namespace

std::string HtmlEscape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&#39;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

namespace {

std::string Escape(std::string_view text) { return HtmlEscape(text); }

// A JSON value as text: strings as they are, null as "—", the rest as JSON.
std::string Text(const Json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "—";
  return v.dump();
}

}  // namespace

std::string HtmlTable(const Json& rows, std::string_view head,
                      std::initializer_list<const char*> keys, std::string_view none) {
  if (rows.empty()) return fmt::format("<p>{}</p>\n", none);
  std::string out = fmt::format("<table>\n{}\n", head);
  for (const Json& row : rows) {
    out += "<tr>";
    for (const char* key : keys) out += "<td>" + Escape(Text(row.value(key, Json()))) + "</td>";
    out += "</tr>\n";
  }
  return out + "</table>\n";
}

std::string HtmlPage(std::string_view title, std::string_view zh, std::string_view en) {
  return fmt::format(fmt::runtime(kPageTemplate), fmt::arg("title", title),
                     fmt::arg("style", kStyle), fmt::arg("zh", zh), fmt::arg("en", en));
}

namespace {

std::string Table(const Json& rows, std::string_view head, std::initializer_list<const char*> keys,
                  std::string_view none) {
  return HtmlTable(rows, head, keys, none);
}

std::string ReportSection(const Json& doc, const ReportLabels& l) {
  std::string out =
      fmt::format("<h1>{}</h1>\n<p>{}</p>\n", l.title,
                  fmt::format(fmt::runtime(l.intro),
                              fmt::arg("request", Escape(Text(doc["request"]["reference"]))),
                              fmt::arg("produced", Escape(Text(doc["request"]["produced_at"])))));
  auto h2 = [&](std::string_view title) { out += fmt::format("<h2>{}</h2>\n", title); };
  h2(l.fields);
  out += Table(doc["fields"], l.field_head, {"name", "label", "value"}, l.none);
  h2(l.transactions);
  out += Table(doc["transactions"], l.record_head, {"txn_id", "created_at", "source", "fields"},
               l.none);
  h2(l.notes);
  out += Table(doc["notes"], l.record_head, {"note_id", "created_at", "source", "text"}, l.none);
  h2(l.consent);
  out += Table(doc["consent"]["history"], l.consent_head,
               {"recorded_at", "action", "scope", "purpose", "channel"}, l.none);
  h2(l.restrictions);
  out += Table(doc["consent"]["restrictions"], "", {"since", "rule", "until"}, l.none);
  h2(l.sources);
  out += "<p>" + Escape(Text(doc["sources"])) + "</p>\n";
  h2(l.purposes);
  out += Table(doc["purposes"], l.purpose_head, {"purpose", "label", "legal_basis"}, l.none);
  h2(l.accesses);
  out +=
      Table(doc["accesses"], l.access_head, {"at", "post", "roles", "action", "purpose"}, l.none);
  if (doc["accesses_cut"].get<bool>()) out += fmt::format("<p>{}</p>\n", l.cut);
  h2(l.shared);
  out += Table(doc["shared_with"], "", {"partner"}, l.none);
  h2(l.retention);
  out += Table(
      doc["retention"], l.retention_head,
      {"retention_class", "parts", "counted_from", "kept_at_least_until", "due_for_destruction"},
      l.none);
  return out;
}

}  // namespace

std::string RenderReportHtml(std::string_view report_json) {
  const Json doc = Json::parse(report_json);
  return HtmlPage("个人信息查阅报告 / Personal information access report",
                  ReportSection(doc, kReportZh), ReportSection(doc, kReportEn));
}

}  // namespace custos::vault
