// See config_edit.h.
#include "schema/config_edit.h"

#include <fmt/format.h>

#include <string>

namespace custos::schema {

Result<std::string> WithPostgresStore(std::string text, std::string_view url,
                                      std::string_view schema) {
  for (std::string_view value : {url, schema}) {
    for (char ch : value) {
      if (ch == '"' || ch == '\\' || static_cast<unsigned char>(ch) < 0x20) {
        return InvalidArgument(
            "migrate: --to/--schema must not contain quotes, backslashes or control characters");
      }
    }
  }
  const std::string lines =
      fmt::format("backend = \"postgres\"\nurl = \"{}\"\nschema = \"{}\"", url, schema);
  const std::string backend = "backend = \"sqlite\"";
  const size_t at = text.find(backend);
  const size_t header = text.find("[store]");
  if (at != std::string::npos && header != std::string::npos && at > header) {
    text.replace(at, backend.size(), lines);
  } else if (header != std::string::npos) {
    text.insert(header + std::string("[store]").size(), "\n" + lines);
  } else {
    text += "\n[store]\n" + lines + "\n";
  }
  return text;
}

Status ReplaceConfig(const std::filesystem::path& config_path, std::string_view old_text,
                     std::string_view new_text, std::string_view keep_suffix, Env& env) {
  const std::filesystem::path kept = config_path.string() + std::string(keep_suffix);
  CUSTOS_RETURN_IF_ERROR(env.WriteFileAtomic(kept, old_text, 0600));
  return env.WriteFileAtomic(config_path, new_text, 0600);
}

}  // namespace custos::schema
