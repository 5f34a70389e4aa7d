// The web console's files (issue 21; docs/console.md), built at build time from console/ by
// esbuild (console/build.mjs) and embedded in the binary by cmake/embed_console.cmake, so
// `custos serve` needs no network and no files beside it at view time. A build without node
// (or without `npm ci` in console/) embeds none: ConsoleBuilt() is false and /console/ says
// the console was not built.
//
// Thread safety: constant data.
#pragma once

#include <string_view>
#include <vector>

namespace custos::api {

struct ConsoleAsset {
  std::string_view name;  // "index.html", "app.js", "app.css", "icon.svg"
  std::string_view content_type;
  std::string_view body;
};

// Every embedded file; empty when the console was not built.
const std::vector<ConsoleAsset>& ConsoleAssets();
bool ConsoleBuilt();

}  // namespace custos::api
