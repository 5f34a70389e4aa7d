// Status and Result<T>: how every Custos component reports an expected failure.
//
// A Status carries a stable machine code (see Code) and a human message that names the field,
// line or rule at fault. Messages never contain personal data or secrets: callers build them
// from field names and rules, not from values. Result<T> holds either a value or a non-OK
// Status. Both are [[nodiscard]]; exceptions never cross a component boundary.
//
// Thread safety: values; distinct objects may be used from distinct threads freely.
#pragma once

#include <cassert>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace custos {

// Stable codes. Their names (CodeName) appear in the CLI's --json output and HTTP errors.
enum class Code : uint8_t {
  kOk = 0,
  kInvalidArgument,     // hostile or malformed input; the message names field/line and rule
  kUnauthenticated,     // no valid credential
  kPermissionDenied,    // authenticated but not allowed (policy, consent, purpose)
  kNotFound,            // the named thing does not exist
  kConflict,            // already exists / concurrent modification
  kFailedPrecondition,  // state does not allow the operation (e.g. vault not initialised)
  kResourceExhausted,   // a limit on attempts or concurrent work: refused now, retry later
  kUnavailable,         // cannot serve now (audit log unwritable, store down); fail closed
  kDataLoss,            // integrity failure: tampered ciphertext, broken audit chain
  kInternal,            // a bug or an unexpected environment failure
};

// "ok", "invalid_argument", "unauthenticated", ...
std::string_view CodeName(Code code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(Code code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status Ok() { return Status(); }
  bool ok() const { return code_ == Code::kOk; }
  Code code() const { return code_; }
  const std::string& message() const { return message_; }
  // "invalid_argument: field 'phone': not a mainland mobile number"
  std::string ToString() const;

  // Marks a status as deliberately ignored (searchable, in the manner of RocksDB).
  void IgnoreError() const {}

 private:
  Code code_ = Code::kOk;
  std::string message_;
};

inline Status InvalidArgument(std::string m) { return {Code::kInvalidArgument, std::move(m)}; }
inline Status Unauthenticated(std::string m) { return {Code::kUnauthenticated, std::move(m)}; }
inline Status PermissionDenied(std::string m) { return {Code::kPermissionDenied, std::move(m)}; }
inline Status NotFound(std::string m) { return {Code::kNotFound, std::move(m)}; }
inline Status Conflict(std::string m) { return {Code::kConflict, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {Code::kFailedPrecondition, std::move(m)};
}
inline Status ResourceExhausted(std::string m) { return {Code::kResourceExhausted, std::move(m)}; }
inline Status Unavailable(std::string m) { return {Code::kUnavailable, std::move(m)}; }
inline Status DataLoss(std::string m) { return {Code::kDataLoss, std::move(m)}; }
inline Status Internal(std::string m) { return {Code::kInternal, std::move(m)}; }

// Either a T or a non-OK Status. Accessing value() of an error is a bug (asserted).
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}        // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    assert(!std::get<Status>(v_).ok() && "Result constructed from an OK status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & {
    assert(ok());
    return std::get<T>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<T>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<T>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace custos

#define CUSTOS_CONCAT_INNER_(a, b) a##b
#define CUSTOS_CONCAT_(a, b) CUSTOS_CONCAT_INNER_(a, b)

// Returns the Status from the enclosing function if `expr` is not OK. The variable's name carries
// the line, so that a lambda inside `expr` (a body handed to the admission core) may use it too.
// NOLINTBEGIN(bugprone-macro-parentheses): `status`, `tmp`, `lhs` are names, not expressions
#define CUSTOS_RETURN_IF_ERROR(expr) \
  CUSTOS_RETURN_IF_ERROR_IMPL_(CUSTOS_CONCAT_(custos_status_, __LINE__), expr)
#define CUSTOS_RETURN_IF_ERROR_IMPL_(status, expr) \
  do {                                             \
    ::custos::Status status = (expr);              \
    if (!status.ok()) return status;               \
  } while (0)

// `lhs` = value of Result `expr`, or returns its Status. lhs may declare: auto x.
#define CUSTOS_ASSIGN_OR_RETURN(lhs, expr) \
  CUSTOS_ASSIGN_OR_RETURN_IMPL_(CUSTOS_CONCAT_(custos_result_, __LINE__), lhs, expr)
#define CUSTOS_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
// NOLINTEND(bugprone-macro-parentheses)
