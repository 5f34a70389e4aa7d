// See config_edit.h.
#include "cli/config_edit.h"

#include <string>

namespace custos::cli {

Status ReplaceConfig(const std::filesystem::path& config_path, std::string_view old_text,
                     std::string_view new_text, std::string_view keep_suffix, Env& env) {
  const std::filesystem::path kept = config_path.string() + std::string(keep_suffix);
  CUSTOS_RETURN_IF_ERROR(env.WriteFileAtomic(kept, old_text, 0600));
  return env.WriteFileAtomic(config_path, new_text, 0600);
}

}  // namespace custos::cli
