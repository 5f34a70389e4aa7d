#include "cli/output.h"

#include <iostream>

namespace custos::cli {

int ExitCodeFor(const Status& status) {
  switch (status.code()) {
    case Code::kOk:
      return kExitOk;
    case Code::kInvalidArgument:
      return kExitInvalidInput;
    case Code::kUnauthenticated:
    case Code::kPermissionDenied:
      return kExitDenied;
    case Code::kNotFound:
      return kExitNotFound;
    case Code::kConflict:
    case Code::kFailedPrecondition:
      return kExitConflict;
    case Code::kResourceExhausted:
    case Code::kUnavailable:
      return kExitUnavailable;
    case Code::kDataLoss:
      return kExitDataLoss;
    case Code::kInternal:
      return kExitInternal;
  }
  return kExitInternal;
}

int Output::Fail(const Status& given) const {
  Status status = given;
  if (no_purpose && given.code() == Code::kPermissionDenied &&
      given.message().starts_with("purpose: required")) {
    status = Status(given.code(),
                    "purpose required: this command uses customer data for a purpose; give one "
                    "with --purpose P or $CUSTOS_PURPOSE (one of the purpose catalogue in "
                    "custos.toml, e.g. customer_service)");
  }
  if (json) {
    nlohmann::json doc;
    doc["error"] = {{"code", std::string(CodeName(status.code()))}, {"message", status.message()}};
    std::cout << doc.dump() << '\n';
  } else {
    std::cerr << "custos: " << status.ToString() << '\n';
  }
  return ExitCodeFor(status);
}

void Output::Print(const nlohmann::json& doc, const std::string& human) const {
  if (json) {
    std::cout << doc.dump() << '\n';
  } else {
    std::cout << human;
    if (!human.empty() && human.back() != '\n') std::cout << '\n';
  }
}

}  // namespace custos::cli
