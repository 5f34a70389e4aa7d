#!/usr/bin/env python3
"""clang-tidy over src/ with a result cache (scripts/lint.sh runs this).

A full pass takes about 13 minutes on two cores, almost all of it parsing. Each translation unit's
result is cached under a key made of everything that can change it: the clang-tidy version, the
.clang-tidy file, the compile command, and the contents of the source and of every header it
includes (the list comes from the build's dependency log, `ninja -t deps`, so the build must have
compiled the file once). Paths of the checkout are replaced by a placeholder in the key, so a
fresh clone reuses the results of the last one, as ccache does. A file whose dependencies are
unknown is always checked.

Usage: tidy.py BUILD_DIR [--jobs N] [--prune]. Exit status 1 if any file has a finding (or
fails to parse), 0 otherwise. Cache: $CUSTOS_TIDY_CACHE, else ~/.cache/custos-tidy;
CUSTOS_TIDY_CACHE=off turns it off. --prune removes the cache's entries this run did not use
(for the cache kept in the repository, .ci/tidy-cache: scripts/tidy_cache_refresh.sh).
"""
import argparse
import collections
import concurrent.futures
import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import time

TIDY = os.environ.get("CLANG_TIDY", "clang-tidy-14")
ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), ".."))
PLACEHOLDER = "<custos-root>"
# GCC-only warning options in the compile commands (-Wno-restrict) are unknown to clang.
EXTRA_ARGS = ["--extra-arg=-Wno-unknown-warning-option"]
# CUSTOS_TIDY_CHECKS=a,-b adds to the .clang-tidy set for one run (to measure a check).
if os.environ.get("CUSTOS_TIDY_CHECKS"):
    EXTRA_ARGS.append("--checks=" + os.environ["CUSTOS_TIDY_CHECKS"])
FINDING = re.compile(r"^(.*?):(\d+):(\d+): (warning|error): .*\[([\w.,-]+)\]$", re.M)


def ninja_deps(build_dir):
    """Maps each object file (relative to build_dir) to the files it depends on."""
    out = subprocess.run(["ninja", "-C", build_dir, "-t", "deps"], capture_output=True,
                         text=True, check=True).stdout
    deps, current = {}, None
    for line in out.splitlines():
        if not line.strip():
            current = None
        elif not line.startswith(" "):
            current = line.split(":", 1)[0]
            deps[current] = [] if "(VALID)" in line else None
        elif current is not None and deps[current] is not None:
            deps[current].append(line.strip())
    return deps


class Hasher:
    def __init__(self):
        self.memo = {}

    def file(self, path):
        if path not in self.memo:
            try:
                with open(path, "rb") as f:
                    self.memo[path] = hashlib.sha256(f.read()).hexdigest()
            except OSError:
                self.memo[path] = "missing"
        return self.memo[path]


def object_of(entry):
    """The object file an entry of compile_commands.json writes (its -o), as ninja names it."""
    if "output" in entry:
        return entry["output"]
    args = entry.get("arguments") or shlex.split(entry["command"])
    return args[args.index("-o") + 1] if "-o" in args else ""


def neutral(text):
    return text.replace(ROOT, PLACEHOLDER)


def nested_configs(path, hasher):
    """The .clang-tidy files below the root that apply to `path` (InheritParentConfig), so that
    adding or changing one (src/vault/.clang-tidy) invalidates its files' cached results."""
    out, d = [], os.path.dirname(os.path.realpath(path))
    while d.startswith(ROOT + os.sep):
        config = os.path.join(d, ".clang-tidy")
        if os.path.exists(config):
            out.append(neutral(config) + hasher.file(config))
        d = os.path.dirname(d)
    return "".join(out)


def cache_key(entry, deps, hasher, salt):
    h = hashlib.sha256(salt.encode())
    h.update(nested_configs(entry["file"], hasher).encode())
    h.update(neutral(entry.get("command") or " ".join(entry["arguments"])).encode())
    h.update(hasher.file(entry["file"]).encode())
    for dep in sorted(deps):
        path = dep if os.path.isabs(dep) else os.path.join(entry["directory"], dep)
        h.update(neutral(os.path.normpath(path)).encode())
        h.update(hasher.file(path).encode())
    return h.hexdigest()


def run_tidy(build_dir, path):
    proc = subprocess.run([TIDY, "-p", build_dir, "--quiet", "--warnings-as-errors=*",
                           *EXTRA_ARGS, path], capture_output=True, text=True)
    # Keep the diagnostics, drop clang-tidy's "N warnings generated" chatter.
    lines = [l for l in proc.stdout.splitlines() if not l.startswith("Suppressed ")]
    return proc.returncode, "\n".join(lines).strip()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("build_dir")
    parser.add_argument("--jobs", type=int, default=int(os.environ.get("JOBS", "2")))
    parser.add_argument("--prune", action="store_true",
                        help="remove cache entries this run did not use")
    args = parser.parse_args()
    build_dir = os.path.realpath(args.build_dir)
    with open(os.path.join(build_dir, "compile_commands.json")) as f:
        entries = [e for e in json.load(f)
                   if os.path.realpath(e["file"]).startswith(os.path.join(ROOT, "src") + os.sep)]
    cache_dir = os.environ.get("CUSTOS_TIDY_CACHE",
                               os.path.join(os.path.expanduser("~"), ".cache", "custos-tidy"))
    use_cache = cache_dir != "off"
    deps = ninja_deps(build_dir) if use_cache else {}
    version = subprocess.run([TIDY, "--version"], capture_output=True, text=True).stdout
    with open(os.path.join(ROOT, ".clang-tidy")) as f:
        salt = version + f.read() + " ".join(EXTRA_ARGS)
    hasher = Hasher()

    todo, results, cached, used = [], {}, 0, set()
    for e in entries:
        d = deps.get(object_of(e))
        key = cache_key(e, d, hasher, salt) if d is not None else None
        hit = os.path.join(cache_dir, key[:2], key) if key else None
        if key:
            used.add(key)
        if hit and os.path.exists(hit):
            with open(hit) as f:
                code, _, text = f.read().partition("\n")
            results[e["file"]] = (int(code), text.replace(PLACEHOLDER, ROOT))
            cached += 1
        else:
            todo.append((e["file"], hit))

    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        futures = {pool.submit(run_tidy, build_dir, path): (path, hit) for path, hit in todo}
        for fut in concurrent.futures.as_completed(futures):
            path, hit = futures[fut]
            code, text = fut.result()
            results[path] = (code, text)
            if hit:
                os.makedirs(os.path.dirname(hit), exist_ok=True)
                with open(hit + ".tmp", "w") as f:
                    f.write(f"{code}\n{neutral(text)}")
                os.replace(hit + ".tmp", hit)

    pruned = 0
    if args.prune and use_cache and os.path.isdir(cache_dir):
        for sub in os.listdir(cache_dir):
            subdir = os.path.join(cache_dir, sub)
            if not os.path.isdir(subdir):
                continue
            for name in os.listdir(subdir):
                if name not in used:
                    os.remove(os.path.join(subdir, name))
                    pruned += 1
            if not os.listdir(subdir):
                os.rmdir(subdir)

    findings = collections.OrderedDict()  # unique (place, check): a header's finding once
    failed = []
    for path in sorted(results):
        code, text = results[path]
        if code != 0:
            failed.append(path)
            print(text)
        for m in FINDING.finditer(text):
            check = m.group(5).split(",")[0]  # "[bugprone-x,-warnings-as-errors]"
            findings.setdefault((m.group(1), m.group(2), m.group(3), check), True)
    per_check = collections.Counter(check for *_, check in findings)
    print(f"clang-tidy: {len(entries)} files under src/, {cached} from the cache, "
          f"{len(todo)} checked in {time.monotonic() - start:.0f}s; "
          f"{len(findings)} findings in {len(failed)} files"
          + (f"; {pruned} unused cache entries pruned" if args.prune else ""))
    for check, n in per_check.most_common():
        print(f"  {n:5d} {check}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
