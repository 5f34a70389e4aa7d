#include "lifecycle/plan.h"

#include <nlohmann/json.hpp>

namespace custos::lifecycle {
namespace {

using Json = nlohmann::json;

Json ItemJson(const PlanItem& item, bool with_reason) {
  Json j = {{"kind", item.kind},           {"customer_id", item.customer_id},
            {"record_id", item.record_id}, {"rule", item.rule},
            {"event", item.event},         {"event_ms", item.event_ms},
            {"due_ms", item.due_ms}};
  if (with_reason) j["held"] = item.held;
  return j;
}

Result<PlanItem> ItemFrom(const Json& j, bool with_reason) {
  if (!j.is_object()) return InvalidArgument("plan: every item must be an object");
  PlanItem item;
  try {
    item.kind = j.at("kind").get<std::string>();
    item.customer_id = j.at("customer_id").get<std::string>();
    item.record_id = j.at("record_id").get<std::string>();
    item.rule = j.at("rule").get<std::string>();
    item.event = j.at("event").get<std::string>();
    item.event_ms = j.at("event_ms").get<int64_t>();
    item.due_ms = j.at("due_ms").get<int64_t>();
    if (with_reason) item.held = j.at("held").get<std::string>();
  } catch (const Json::exception&) {
    return InvalidArgument("plan: an item lacks a key or has a value of the wrong type");
  }
  if (item.kind != "customer" && item.kind != "profile" && item.kind != "consent" &&
      item.kind != "transaction" && item.kind != "note") {
    return InvalidArgument(
        "plan: item 'kind' must be customer, profile, consent, transaction or note");
  }
  return item;
}

}  // namespace

std::string RulesJson(const schema::Config& config) {
  Json rules = Json::object();
  for (const schema::RetentionClassDef& c : config.retention_classes) {
    Json r = {{"event", c.event}, {"min", schema::RetentionPeriodText(c.min)}};
    r["max"] = c.max.has_value() ? schema::RetentionPeriodText(*c.max) : std::string("none");
    rules[c.name] = r;
  }
  return rules.dump();
}

std::string PlanToJson(const Plan& plan) {
  Json j = Json::object();
  j["format"] = kPlanFormat;
  j["plan_id"] = plan.plan_id;
  j["created_at_ms"] = plan.created_at_ms;
  j["created_by"] = plan.created_by;
  j["rules"] = Json::parse(plan.rules_json.empty() ? "{}" : plan.rules_json);
  Json due = Json::array();
  for (const PlanItem& item : plan.due) due.push_back(ItemJson(item, false));
  Json held = Json::array();
  for (const PlanItem& item : plan.held) held.push_back(ItemJson(item, true));
  j["due"] = std::move(due);
  j["held"] = std::move(held);
  return j.dump();
}

Result<Plan> PlanFromJson(std::string_view text) {
  const Json j = Json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return InvalidArgument("plan: not a JSON object");
  if (j.value("format", "") != kPlanFormat) {
    return InvalidArgument("plan: 'format' is not custos-retention-plan/1");
  }
  Plan plan;
  try {
    plan.plan_id = j.at("plan_id").get<std::string>();
    plan.created_at_ms = j.at("created_at_ms").get<int64_t>();
    plan.created_by = j.at("created_by").get<std::string>();
    plan.rules_json = j.at("rules").dump();
    for (const Json& item : j.at("due")) {
      CUSTOS_ASSIGN_OR_RETURN(PlanItem p, ItemFrom(item, false));
      plan.due.push_back(std::move(p));
    }
    for (const Json& item : j.at("held")) {
      CUSTOS_ASSIGN_OR_RETURN(PlanItem p, ItemFrom(item, true));
      plan.held.push_back(std::move(p));
    }
  } catch (const Json::exception&) {
    return InvalidArgument("plan: a key is missing or has a value of the wrong type");
  }
  return plan;
}

}  // namespace custos::lifecycle
