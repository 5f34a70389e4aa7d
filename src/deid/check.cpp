#include "deid/check.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

namespace custos::deid {
namespace {

// One CSV record (RFC 4180): false at end of input; quoted cells may span lines.
Result<bool> ReadCsvRecord(std::istream& in, std::vector<std::string>& cells, uint64_t line) {
  cells.clear();
  std::string cell;
  bool quoted = false;
  bool any = false;
  char c = 0;
  while (in.get(c)) {
    any = true;
    if (quoted) {
      if (c != '"') {
        cell.push_back(c);
      } else if (in.peek() == '"') {
        in.get(c);
        cell.push_back('"');
      } else {
        quoted = false;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      cells.push_back(std::move(cell));
      cell.clear();
    } else if (c == '\n') {
      break;
    } else if (c != '\r') {
      cell.push_back(c);
    }
  }
  if (quoted) return InvalidArgument(fmt::format("line {}: unterminated quoted cell", line));
  if (!any) return false;
  cells.push_back(std::move(cell));
  return true;
}

struct Group {
  uint64_t count = 0;                                   // people
  std::vector<std::map<std::string, uint64_t>> values;  // per sensitive column
};

// What the rows are grouped into, and (with an individual column) whose class each person is.
struct Groups {
  std::map<std::string, Group> classes;
  std::map<std::string, std::string> class_of;  // person -> class key
  uint64_t rows = 0;
};

Result<std::vector<size_t>> Positions(const std::vector<std::string>& header,
                                      const std::vector<std::string>& names) {
  std::vector<size_t> pos;
  for (const std::string& n : names) {
    auto it = std::find(header.begin(), header.end(), n);
    if (it == header.end()) return InvalidArgument(fmt::format("column '{}': missing", n));
    pos.push_back(static_cast<size_t>(it - header.begin()));
  }
  return pos;
}

// `who`: the individual column's position, or npos (every row a person).
Status AddRow(Groups& groups, const std::vector<std::string>& cells, const std::vector<size_t>& q,
              const std::vector<size_t>& s, size_t who, uint64_t line) {
  std::string key;
  for (size_t p : q) {
    key.append(cells[p]);
    key.push_back('\x1f');
  }
  ++groups.rows;
  if (who != std::string::npos) {
    auto [it, first_row] = groups.class_of.try_emplace(cells[who], key);
    if (!first_row) {
      if (it->second != key) {
        return InvalidArgument(
            fmt::format("line {}: one person's rows are in two classes (quasi-identifiers "
                        "differ between rows of the same individual)",
                        line));
      }
      return Status::Ok();  // counted at the person's first row
    }
  }
  Group& g = groups.classes[key];
  g.values.resize(s.size());
  ++g.count;
  for (size_t i = 0; i < s.size(); ++i) ++g.values[i][cells[s[i]]];
  return Status::Ok();
}

Status ReadCsv(std::istream& in, const std::vector<std::string>& quasi,
               const std::vector<std::string>& sensitive, const std::string& individual,
               Groups& groups) {
  std::vector<std::string> header;
  CUSTOS_ASSIGN_OR_RETURN(bool has_header, ReadCsvRecord(in, header, 1));
  if (!has_header) return InvalidArgument("line 1: no header");
  CUSTOS_ASSIGN_OR_RETURN(std::vector<size_t> q, Positions(header, quasi));
  CUSTOS_ASSIGN_OR_RETURN(std::vector<size_t> s, Positions(header, sensitive));
  size_t who = std::string::npos;
  if (!individual.empty()) {
    CUSTOS_ASSIGN_OR_RETURN(std::vector<size_t> w, Positions(header, {individual}));
    who = w[0];
  }
  std::vector<std::string> cells;
  for (uint64_t line = 2;; ++line) {
    CUSTOS_ASSIGN_OR_RETURN(bool more, ReadCsvRecord(in, cells, line));
    if (!more) break;
    if (cells.size() != header.size()) {
      return InvalidArgument(
          fmt::format("line {}: {} cells, the header has {}", line, cells.size(), header.size()));
    }
    CUSTOS_RETURN_IF_ERROR(AddRow(groups, cells, q, s, who, line));
  }
  return Status::Ok();
}

Status ReadJsonl(std::istream& in, const std::vector<std::string>& quasi,
                 const std::vector<std::string>& sensitive, const std::string& individual,
                 Groups& groups) {
  std::vector<std::string> names = quasi;
  names.insert(names.end(), sensitive.begin(), sensitive.end());
  const size_t who = individual.empty() ? std::string::npos : names.size();
  if (!individual.empty()) names.push_back(individual);
  std::vector<size_t> q(quasi.size());
  std::vector<size_t> s(sensitive.size());
  for (size_t i = 0; i < q.size(); ++i) q[i] = i;
  for (size_t i = 0; i < s.size(); ++i) s[i] = quasi.size() + i;
  std::string text;
  std::vector<std::string> cells(names.size());
  for (uint64_t line = 1; std::getline(in, text); ++line) {
    if (text.empty()) continue;
    nlohmann::json j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_object()) return InvalidArgument(fmt::format("line {}: not a JSON object", line));
    for (size_t i = 0; i < names.size(); ++i) {
      auto it = j.find(names[i]);
      if (it == j.end() || !it->is_string()) {
        return InvalidArgument(
            fmt::format("line {}: field '{}': missing or not a string", line, names[i]));
      }
      cells[i] = it->get<std::string>();
    }
    CUSTOS_RETURN_IF_ERROR(AddRow(groups, cells, q, s, who, line));
  }
  return Status::Ok();
}

void Summarise(const std::map<std::string, Group>& groups, size_t sensitive, double threshold,
               FileCheck& out) {
  uint64_t people = 0;
  out.l_distinct.assign(sensitive, 0);
  out.l_entropy.assign(sensitive, 0);
  uint64_t at_risk = 0;
  for (const auto& [key, g] : groups) {
    people += g.count;
    out.smallest_class = out.classes == 0 ? g.count : std::min(out.smallest_class, g.count);
    if (1.0 / static_cast<double>(g.count) > threshold) at_risk += g.count;
    for (size_t i = 0; i < sensitive; ++i) {
      double h = 0;
      for (const auto& [v, c] : g.values[i]) {
        const double p = static_cast<double>(c) / static_cast<double>(g.count);
        h -= p * std::log(p);
      }
      const uint64_t distinct = g.values[i].size();
      out.l_distinct[i] = out.classes == 0 ? distinct : std::min(out.l_distinct[i], distinct);
      out.l_entropy[i] = out.classes == 0 ? std::exp(h) : std::min(out.l_entropy[i], std::exp(h));
    }
    ++out.classes;
  }
  out.individuals = people;
  if (people == 0) return;
  const double n = static_cast<double>(people);
  out.average_class = n / static_cast<double>(out.classes);
  out.prosecutor = {1.0 / static_cast<double>(out.smallest_class),
                    static_cast<double>(out.classes) / n, static_cast<double>(at_risk) / n};
  out.journalist = out.prosecutor;
  const double marketer = static_cast<double>(out.classes) / n;
  out.marketer = {marketer, marketer, marketer > threshold ? 1.0 : 0.0};
}

}  // namespace

Result<FileCheck> CheckFile(std::istream& in, FileFormat format,
                            const std::vector<std::string>& quasi,
                            const std::vector<std::string>& sensitive, double risk_threshold,
                            const std::string& individual) {
  Groups groups;
  if (format == FileFormat::kCsv) {
    CUSTOS_RETURN_IF_ERROR(ReadCsv(in, quasi, sensitive, individual, groups));
  } else {
    CUSTOS_RETURN_IF_ERROR(ReadJsonl(in, quasi, sensitive, individual, groups));
  }
  FileCheck out;
  Summarise(groups.classes, sensitive.size(), risk_threshold, out);
  out.rows = groups.rows;
  return out;
}

bool Meets(const FileCheck& check, const PrivacyModel& model) {
  if (check.rows == 0 || check.smallest_class < model.k) return false;
  for (size_t i = 0; i < check.l_distinct.size(); ++i) {
    if (model.diversity == Diversity::kDistinct &&
        static_cast<double>(check.l_distinct[i]) < model.l) {
      return false;
    }
    if (model.diversity == Diversity::kEntropy && check.l_entropy[i] < model.l - 1e-9) {
      return false;
    }
  }
  return true;
}

}  // namespace custos::deid
