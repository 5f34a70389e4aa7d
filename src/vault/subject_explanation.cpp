// The explanation of the processing rules (issue 18 item 7; PIPL Art. 48;
// docs/subject_requests.md, "Explanation"): for one customer, the purposes the data is or is
// not processed for and their legal bases, the restrictions in force, each retention class
// and when its parts are due for destruction, the sharing agreements (none exist in this
// version: it says so) and where the data is kept (the store, the encryption, each field's
// classification). It explains rules and dates: no value of the customer is decrypted.
// Rendered as JSON and as HTML in Chinese and English from the report's templates.
#include <fmt/format.h>

#include <string>

#include "schema/config.h"
#include "vault/subject_report.h"
#include "vault/vault_impl.h"

namespace custos::vault {
namespace {

using Json = nlohmann::ordered_json;

// Every purpose of the catalogue: whether the customer's data is processed for it now and on
// which legal basis (a legal obligation needs no consent, PIPL Art. 13; the others the
// customer's consent, and a withdrawn one stops it, Art. 15).
Result<Json> PurposesJson(const schema::Config& config, const ReportSources& src) {
  CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState state,
                          consent::Replay(src.customer.customer_id, src.consents));
  Json out = Json::array();
  for (const schema::PurposeDef& p : config.purposes) {
    std::string given = "not_needed";
    if (!p.legal_obligation) {
      auto it = state.purposes.find(p.name);
      given = it == state.purposes.end() ? "never_given"
              : it->second.granted       ? "granted"
                                         : "withdrawn";
    }
    const bool processed = p.legal_obligation || given == "granted";
    out.push_back({{"purpose", p.name},
                   {"label", p.label},
                   {"description", p.description},
                   {"legal_basis", p.legal_obligation ? "legal_obligation" : "consent"},
                   {"consent", given},
                   {"processed", processed ? "yes" : "no"}});
  }
  return out;
}

// Each retention class with its rule (event, floor, ceiling) and the customer's dates.
Json RetentionJson(const schema::Config& config, const ReportSources& src) {
  Json out = RetentionDatesJson(config, src);
  for (Json& part : out) {
    const schema::RetentionClassDef* rule =
        config.FindRetentionClass(part["retention_class"].get<std::string>());
    if (rule == nullptr) continue;
    part["description"] = rule->description;
    part["min"] = schema::RetentionPeriodText(rule->min);
    part["max"] = rule->max.has_value() ? Json(schema::RetentionPeriodText(*rule->max)) : Json();
  }
  return out;
}

// Where the data is kept: the store, the encryption, and each field's classification.
Json StorageJson(const schema::Config& config) {
  Json fields = Json::array();
  for (const schema::FieldDef& f : config.fields) {
    const bool password = f.type == schema::FieldType::kPassword;
    fields.push_back({{"field", f.name},
                      {"label", f.label},
                      {"category", f.category},
                      {"level", std::string(LevelName(f.level))},
                      {"sensitive", f.pipl_sensitive ? "yes" : "no"},
                      {"stored_as", password ? "one-way hash (Argon2id), never readable"
                                             : "encrypted with the customer's own key"},
                      {"searchable", f.searchable ? "by a keyed hash (blind index)" : "no"},
                      {"retention_class", f.retention_class}});
  }
  Json records = Json::array();
  for (const schema::RecordKindDef& r : config.records) {
    records.push_back({{"record", r.name},
                       {"level", std::string(LevelName(r.level))},
                       {"stored_as", "encrypted with the customer's own key"},
                       {"retention_class", r.retention_class}});
  }
  return Json{{"store", config.store.backend},
              {"encryption", config.keys.suite},
              {"key_provider", config.keys.provider},
              {"per_customer_key", true},
              {"backups", "encrypted; a destroyed customer's key is destroyed in every copy"},
              {"fields", std::move(fields)},
              {"records", std::move(records)}};
}

Result<Json> ExplanationJson(const VaultState& m, const ReportSources& src) {
  const schema::Config& config = *m.config;
  CUSTOS_ASSIGN_OR_RETURN(Json purposes, PurposesJson(config, src));
  CUSTOS_ASSIGN_OR_RETURN(consent::ConsentState state,
                          consent::Replay(src.customer.customer_id, src.consents));
  Json doc;
  doc["schema"] = "custos.subject_explanation/1";
  doc["request"] = {{"request_id", src.request.request_id},
                    {"kind", src.request.kind},
                    {"reference", src.request.reference},
                    {"opened_at", IsoOfMs(src.request.opened_at_ms)},
                    {"produced_at", IsoOfMs(src.produced_at_ms)}};
  doc["customer"] = {{"customer_id", src.customer.customer_id},
                     {"created_at", IsoOfMs(src.customer.created_at_ms)},
                     {"source", src.customer.source}};
  doc["purposes"] = std::move(purposes);
  doc["separate_consents"] = {{"sensitive", state.sensitive ? "granted" : "not_granted"},
                              {"third_party", state.third_party ? "granted" : "not_granted"}};
  Json restrictions = Json::array();
  for (const store::RestrictionRow& r : src.restrictions) {
    restrictions.push_back({{"since", IsoOfMs(r.placed_at_ms)},
                            {"rule", r.rule},
                            {"until", r.until_ms == 0 ? Json() : Json(IsoOfMs(r.until_ms))}});
  }
  doc["restrictions"] = std::move(restrictions);
  doc["retention"] = RetentionJson(config, src);
  // This version has no sharing component: no agreement exists to provide data to a partner.
  doc["sharing"] = {{"agreements", Json::array()},
                    {"note",
                     "no sharing agreements exist: the data is not provided to any other "
                     "handler"}};
  doc["storage"] = StorageJson(config);
  return doc;
}

// --- explanation.html ---

struct ExplanationLabels {
  std::string_view title;
  std::string_view intro;  // {request}, {produced}
  std::string_view purposes, restrictions, retention, sharing, no_sharing, storage, storage_intro,
      fields, records, none;
  std::string_view purpose_head, retention_head, field_head, record_head;
};

constexpr ExplanationLabels kExplanationZh{
    "个人信息处理规则说明",
    "本说明依据《个人信息保护法》第四十八条，应您的请求（编号 {request}）于 {produced} "
    "生成，解释本公司处理您的个人信息所适用的规则。",
    "处理目的与法律依据",
    "处理限制",
    "保存期限",
    "向第三方提供",
    "本公司未与任何第三方订立数据提供协议，您的个人信息未向其他个人信息处理者提供。",
    "存储方式",
    "数据存储于 {store} 数据库，以 {encryption} 加密，每位客户使用独立密钥（密钥提供方："
    "{provider}）。备份同样加密；客户信息被删除时，其密钥在所有副本中一并销毁。",
    "字段分级",
    "记录分级",
    "无",
    "<tr><th>目的</th><th>名称</th><th>法律依据</th><th>同意状态</th><th>是否处理</th></tr>",
    "<tr><th>保存类别</th><th>内容</th><th>起算事件</th><th>最短保存</th><th>最长保存</th>"
    "<th>最早删除</th><th>到期删除</th></tr>",
    "<tr><th>字段</th><th>名称</th><th>类别</th><th>级别</th><th>敏感</th><th>存储</th>"
    "<th>保存类别</th></tr>",
    "<tr><th>记录</th><th>级别</th><th>存储</th><th>保存类别</th></tr>",
};

constexpr ExplanationLabels kExplanationEn{
    "Explanation of the rules of processing",
    "This explanation answers your request {request} under Article 48 of the Personal "
    "Information Protection Law. It was produced on {produced} and explains the rules under "
    "which the company processes your personal information.",
    "Purposes of processing and their legal bases",
    "Restrictions of processing",
    "Retention",
    "Provision to third parties",
    "The company has no agreement to provide data to any third party: your personal "
    "information is not provided to any other handler.",
    "Where the data is kept",
    "The data is kept in a {store} database, encrypted with {encryption} under a key of your "
    "own (key provider: {provider}). Backups are encrypted too; when your data is deleted its "
    "key is destroyed in every copy.",
    "Classification of each field",
    "Classification of each record",
    "none",
    "<tr><th>purpose</th><th>name</th><th>legal basis</th><th>consent</th><th>processed</th></tr>",
    "<tr><th>retention class</th><th>parts</th><th>counted from</th><th>at least</th>"
    "<th>at most</th><th>kept at least until</th><th>due for destruction</th></tr>",
    "<tr><th>field</th><th>name</th><th>category</th><th>level</th><th>sensitive</th>"
    "<th>stored as</th><th>retention class</th></tr>",
    "<tr><th>record</th><th>level</th><th>stored as</th><th>retention class</th></tr>",
};

std::string ExplanationSection(const Json& doc, const ExplanationLabels& l) {
  auto text = [](const Json& v) { return HtmlEscape(v.is_string() ? v.get<std::string>() : ""); };
  std::string out = fmt::format(
      "<h1>{}</h1>\n<p>{}</p>\n", l.title,
      fmt::format(fmt::runtime(l.intro), fmt::arg("request", text(doc["request"]["reference"])),
                  fmt::arg("produced", text(doc["request"]["produced_at"]))));
  auto h2 = [&](std::string_view title) { out += fmt::format("<h2>{}</h2>\n", title); };
  h2(l.purposes);
  out += HtmlTable(doc["purposes"], l.purpose_head,
                   {"purpose", "label", "legal_basis", "consent", "processed"}, l.none);
  h2(l.restrictions);
  out += HtmlTable(doc["restrictions"], "", {"since", "rule", "until"}, l.none);
  h2(l.retention);
  out += HtmlTable(doc["retention"], l.retention_head,
                   {"retention_class", "parts", "counted_from", "min", "max", "kept_at_least_until",
                    "due_for_destruction"},
                   l.none);
  h2(l.sharing);
  if (doc["sharing"]["agreements"].empty()) {
    out += fmt::format("<p>{}</p>\n", l.no_sharing);
  } else {
    out += HtmlTable(doc["sharing"]["agreements"], "", {"partner", "purpose"}, l.none);
  }
  const Json& storage = doc["storage"];
  h2(l.storage);
  out += "<p>" +
         fmt::format(fmt::runtime(l.storage_intro), fmt::arg("store", text(storage["store"])),
                     fmt::arg("encryption", text(storage["encryption"])),
                     fmt::arg("provider", text(storage["key_provider"]))) +
         "</p>\n";
  h2(l.fields);
  out += HtmlTable(
      storage["fields"], l.field_head,
      {"field", "label", "category", "level", "sensitive", "stored_as", "retention_class"}, l.none);
  h2(l.records);
  out += HtmlTable(storage["records"], l.record_head,
                   {"record", "level", "stored_as", "retention_class"}, l.none);
  return out;
}

}  // namespace

Result<Verdict> GatherExplanation(VaultState& /*m*/, Scope& s, const store::SubjectRequestRow& row,
                                  ReportSources& out) {
  const std::string& id = row.customer_id;
  out.request = row;
  out.produced_at_ms = s.now_ms;
  CUSTOS_ASSIGN_OR_RETURN(auto customer, s.txn.GetCustomer(id));
  if (!customer.has_value()) return Verdict::Deny(NotFound("customer: destroyed or absent"));
  out.customer = std::move(*customer);
  CUSTOS_ASSIGN_OR_RETURN(out.consents, s.txn.ListConsents(id));
  CUSTOS_ASSIGN_OR_RETURN(out.restrictions, s.txn.ListRestrictions(id));
  CUSTOS_ASSIGN_OR_RETURN(out.facts, RetentionFactsOf(s, id));
  return Verdict::Allow(
      fmt::format("explanation of the processing rules of customer {}: {} consent entr(ies), {} "
                  "restriction(s), retention dates",
                  id, out.consents.size(), out.restrictions.size()));
}

Result<SubjectReport> RenderExplanation(const VaultState& m, const ReportSources& sources) {
  CUSTOS_ASSIGN_OR_RETURN(Json doc, ExplanationJson(m, sources));
  SubjectReport out;
  out.json = doc.dump(2) + "\n";
  out.html =
      HtmlPage("个人信息处理规则说明 / Explanation of the rules of processing",
               ExplanationSection(doc, kExplanationZh), ExplanationSection(doc, kExplanationEn));
  return out;
}

}  // namespace custos::vault
