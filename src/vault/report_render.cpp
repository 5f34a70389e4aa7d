// The renderings of a compliance report (reports.h): JSON, CSV and a self-contained HTML page
// with inline SVG bar charts drawn here (no script, no network at view time).
#include <fmt/format.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "access/training.h"
#include "vault/reports.h"
#include "vault/subject_report.h"

namespace custos::vault {

namespace {

using Json = nlohmann::ordered_json;

Json BilingualJson(const Bilingual& b) { return {{"zh", b.zh}, {"en", b.en}}; }

const std::string& In(const Bilingual& b, std::string_view lang) {
  return lang == "zh" ? b.zh : b.en;
}

// HTML escaping is the subject report's (subject_report.h).
std::string Escape(std::string_view s) { return HtmlEscape(s); }

std::string CsvCell(std::string_view s) {
  if (s.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(s);
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

int64_t NumberOr0(const std::string& s) {
  if (s.empty() || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) ||
      s.size() > 15) {
    return 0;
  }
  return std::stoll(s);
}

// A horizontal bar chart of `t`'s chart column, one bar per row labelled by its first column.
std::string BarChart(const ReportTable& t, std::string_view lang) {
  const auto col = static_cast<size_t>(t.chart_column);
  int64_t max = 0;
  for (const auto& row : t.rows) max = std::max(max, NumberOr0(row.at(col)));
  constexpr int kBar = 18, kLabel = 160, kWidth = 360;
  const int height = static_cast<int>(t.rows.size()) * (kBar + 6) + 6;
  std::string svg = fmt::format(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" width=\"{}\" height=\"{}\" "
      "aria-label=\"{}\">",
      kLabel + kWidth + 60, height, Escape(In(t.columns.at(col), lang)));
  int y = 6;
  for (const auto& row : t.rows) {
    const int64_t v = NumberOr0(row.at(col));
    const int64_t w = max == 0 ? 0 : v * kWidth / max;
    svg += fmt::format(
        "<text x=\"0\" y=\"{}\" font-size=\"12\">{}</text><rect x=\"{}\" y=\"{}\" width=\"{}\" "
        "height=\"{}\" fill=\"#3a6ea5\"/><text x=\"{}\" y=\"{}\" font-size=\"12\">{}</text>",
        y + 13, Escape(row.at(0)), kLabel, y, w, kBar, kLabel + w + 4, y + 13, v);
    y += kBar + 6;
  }
  return svg + "</svg>";
}

constexpr std::string_view kStyle =
    "body{font-family:sans-serif;margin:2em;max-width:75em}table{border-collapse:collapse;"
    "margin:0 0 .5em}td,th{border:1px solid #999;padding:.25em .5em;text-align:left}"
    ".source{color:#555;font-size:.9em;margin:0 0 1.5em}";

}  // namespace

std::string RenderReportJson(const Report& r) {
  Json tables = Json::array();
  for (const ReportTable& t : r.tables) {
    Json columns = Json::array();
    for (const Bilingual& c : t.columns) columns.push_back(BilingualJson(c));
    tables.push_back({{"id", t.id},
                      {"title", BilingualJson(t.title)},
                      {"columns", columns},
                      {"rows", t.rows},
                      {"source", BilingualJson(t.source)}});
  }
  Json notes = Json::array();
  for (const Bilingual& n : r.notes) notes.push_back(BilingualJson(n));
  Json doc = {{"report", r.name},
              {"title", BilingualJson(r.title)},
              {"from", ReportDay(r, r.from_ms)},
              {"to", ReportDay(r, r.to_ms - 1)},  // the last day included
              {"from_ms", r.from_ms},
              {"to_ms", r.to_ms},
              {"time_zone", r.time_zone},
              {"generated_at_ms", r.generated_at_ms},
              {"generated_by", r.generated_by},
              {"audit_seq", r.audit_seq},
              {"tables", tables},
              {"notes", notes}};
  return doc.dump(2, ' ', false, Json::error_handler_t::replace) + "\n";
}

std::string RenderReportCsv(const Report& r, std::string_view lang) {
  std::string out = fmt::format("# report {} {} {} audit_seq {}\r\n", r.name,
                                ReportDay(r, r.from_ms), ReportDay(r, r.to_ms - 1), r.audit_seq);
  for (const ReportTable& t : r.tables) {
    out += fmt::format("# table {}\r\n", t.id);
    for (size_t i = 0; i < t.columns.size(); ++i) {
      out += (i > 0 ? "," : "") + CsvCell(In(t.columns[i], lang));
    }
    out += "\r\n";
    for (const auto& row : t.rows) {
      for (size_t i = 0; i < row.size(); ++i) out += (i > 0 ? "," : "") + CsvCell(row[i]);
      out += "\r\n";
    }
  }
  return out;
}

std::string RenderReportHtml(const Report& r, std::string_view lang) {
  const bool zh = lang == "zh";
  std::string body =
      fmt::format("<h1>{}</h1>\n<p>{} {} – {} ({}) · {} {} · {} {} · {} {}</p>\n",
                  Escape(In(r.title, lang)), zh ? "期间" : "Period", ReportDay(r, r.from_ms),
                  ReportDay(r, r.to_ms - 1), Escape(r.time_zone), zh ? "生成于" : "generated",
                  ReportDay(r, r.generated_at_ms), zh ? "生成人" : "by", Escape(r.generated_by),
                  zh ? "审计条目截至" : "audit entries up to", r.audit_seq);
  for (const Bilingual& n : r.notes) {
    body += fmt::format("<p><em>{}</em></p>\n", Escape(In(n, lang)));
  }
  for (const ReportTable& t : r.tables) {
    body += fmt::format("<h2 id=\"{}\">{}</h2>\n", Escape(t.id), Escape(In(t.title, lang)));
    if (t.chart_column >= 0 && !t.rows.empty()) body += BarChart(t, lang) + "\n";
    body += "<table><tr>";
    for (const Bilingual& c : t.columns) body += "<th>" + Escape(In(c, lang)) + "</th>";
    body += "</tr>\n";
    for (const auto& row : t.rows) {
      body += "<tr>";
      for (const std::string& cell : row) body += "<td>" + Escape(cell) + "</td>";
      body += "</tr>\n";
    }
    body += fmt::format("</table>\n<p class=\"source\">{}: {}</p>\n", zh ? "来源" : "Source",
                        Escape(In(t.source, lang)));
  }
  return fmt::format(
      "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n"
      "<style>{}</style>\n</head>\n<body>\n{}</body>\n</html>\n",
      zh ? "zh-CN" : "en", Escape(In(r.title, lang)), kStyle, body);
}

}  // namespace custos::vault
