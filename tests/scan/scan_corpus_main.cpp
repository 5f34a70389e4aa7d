// scan_corpus: writes the labelled corpus to files, for the benchmark and for inspection.
//   scan_corpus --out DIR --bytes N [--files K] [--seed S] [--labels] [--plain-lines P]
//   scan_corpus --patterns      print the trigger patterns, one per line (for ripgrep)
// Files cycle through Chinese text, English text, CSV and JSON Lines. --plain-lines P makes P%
// of the text lines ordinary prose without planted values (default 0: every line has one).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

#include "corpus.h"
#include "scan/patterns.h"

using namespace custos::scan;

int main(int argc, char** argv) {
  std::string out_dir;
  uint64_t bytes = 0;
  int files = 4;
  uint64_t seed = 1;
  bool labels = false;
  int plain = 0;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string { return i + 1 < argc ? argv[++i] : ""; };
    if (a == "--patterns") {
      for (const auto& p : TriggerPatterns()) std::cout << p.regex << '\n';
      return 0;
    }
    if (a == "--out")
      out_dir = next();
    else if (a == "--bytes")
      bytes = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--files")
      files = std::atoi(next().c_str());
    else if (a == "--seed")
      seed = std::strtoull(next().c_str(), nullptr, 10);
    else if (a == "--labels")
      labels = true;
    else if (a == "--plain-lines")
      plain = std::atoi(next().c_str());
    else {
      std::cerr << "usage: scan_corpus --out DIR --bytes N [--files K] [--seed S] [--labels] "
                   "[--plain-lines P] | --patterns\n";
      return 2;
    }
  }
  if (out_dir.empty() || bytes == 0 || files < 1) {
    std::cerr << "scan_corpus: --out and --bytes are required\n";
    return 2;
  }
  std::filesystem::create_directories(out_dir);
  const corpus::DocKind kinds[] = {corpus::DocKind::kChineseText, corpus::DocKind::kEnglishText,
                                   corpus::DocKind::kCsv, corpus::DocKind::kJsonl};
  const uint64_t per_file = bytes / static_cast<uint64_t>(files);
  for (int f = 0; f < files; ++f) {
    const auto kind = kinds[f % 4];
    const std::string path =
        out_dir + "/part-" + std::to_string(f) + std::string(corpus::Extension(kind));
    std::ofstream os(path, std::ios::binary | std::ios::trunc);
    std::ofstream ls;
    if (labels) ls.open(path + ".labels.tsv", std::ios::trunc);
    corpus::CorpusWriter w(kind, seed + static_cast<uint64_t>(f), plain);
    std::string buf;
    std::vector<corpus::Label> l;
    while (w.written() < per_file) {
      buf.clear();
      l.clear();
      w.Append(1 << 20, buf, labels ? &l : nullptr);
      os << buf;
      for (const auto& x : l)
        ls << TypeName(x.type) << '\t' << x.offset << '\t' << x.length << '\n';
    }
    if (!os) {
      std::cerr << "scan_corpus: cannot write " << path << '\n';
      return 1;
    }
  }
  return 0;
}
