#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan in a build dir of their own, and runs each for
# the given time on a temporary copy of its seed corpus (tests/fuzz/corpus/<target>/; the repository is never written
# to). Exits non-zero when any target crashes, leaks, times out on an input or runs out of memory, and prints the
# input that did it and the command that reproduces it.
# Usage: scripts/fuzz.sh [seconds-per-target] [extra libFuzzer flags...]   (default 60 s)
#   PGPULSE_FUZZ_BUILD_DIR  build dir (default build-fuzz)
#   PGPULSE_FUZZ_TARGETS    targets to run, space-separated (default: every fuzz_* the build made)
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
shift || true
build=${PGPULSE_FUZZ_BUILD_DIR:-build-fuzz}
if ! command -v clang++ >/dev/null; then
  echo "fuzz: clang++ not found; libFuzzer comes with Debian's clang (apt-get install clang)" >&2
  exit 2
fi

started=$(date +%s)
# A dir configured once keeps its compiler; the fuzz options are set every time so an old dir cannot miss one.
CXX=${CXX:-clang++} cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPGPULSE_FUZZ=ON -DPGPULSE_BUILD_TESTS=OFF \
  >/dev/null
cmake --build "$build" --target pgpulse_fuzz_targets -j"$(nproc)"
echo "fuzz: build took $(($(date +%s) - started)) s"

# Inputs larger than what each parser meaningfully reads only slow the search: http covers the 8 KiB header limit
# (a body over 64 KiB is refused from its Content-Length alone); a DSN or a label value is short.
max_len_for() {
  case $1 in
    http) echo 16384 ;;
    config) echo 8192 ;;
    dsn) echo 1024 ;;
    *) echo 4096 ;;
  esac
}

if [[ -n ${PGPULSE_FUZZ_TARGETS:-} ]]; then
  read -r -a targets <<<"$PGPULSE_FUZZ_TARGETS"
else
  targets=()
  for binary in "$build"/tests/fuzz/fuzz_*; do
    [[ -x $binary ]] && targets+=("${binary##*/fuzz_}")
  done
fi
if [[ ${#targets[@]} -eq 0 ]]; then
  echo "fuzz: no targets in $build/tests/fuzz" >&2
  exit 2
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/pgpulse-fuzz.XXXXXX")
failed=()
for target in "${targets[@]}"; do
  binary=$build/tests/fuzz/fuzz_$target
  corpus=$work/$target/corpus
  artifacts=$work/$target/artifacts
  mkdir -p "$corpus" "$artifacts"
  if [[ -d tests/fuzz/corpus/$target ]]; then cp -R tests/fuzz/corpus/"$target"/. "$corpus"/; fi
  flags=(-max_total_time="$seconds" -max_len="$(max_len_for "$target")" -timeout=10 -rss_limit_mb=2048
    -print_final_stats=1 -artifact_prefix="$artifacts/")
  if [[ -f tests/fuzz/$target.dict ]]; then flags+=(-dict=tests/fuzz/"$target".dict); fi
  echo "fuzz: $target for ${seconds} s"
  if "$binary" "${flags[@]}" "$@" "$corpus" >"$work/$target/log" 2>&1; then
    grep -E '^(Done|stat::number_of_executed_units|stat::peak_rss_mb)' "$work/$target/log" || true
  else
    failed+=("$target")
    tail -n 60 "$work/$target/log"
    for input in "$artifacts"/*; do
      [[ -e $input ]] || continue
      echo "fuzz: $target failed on $input; reproduce with: $binary $input"
    done
  fi
done

echo "fuzz: total $(($(date +%s) - started)) s"
if [[ ${#failed[@]} -gt 0 ]]; then
  echo "fuzz: FAILED: ${failed[*]} (logs and inputs kept in $work)" >&2
  exit 1
fi
rm -rf "$work"
echo "fuzz: ok"
