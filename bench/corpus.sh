#!/usr/bin/env bash
# Benchmark on the reference corpus (351 crates, 5.06M lines): wall time and peak memory of
# `cargo-isolate check` as ratios against the syn parse floor, both measured here, in this run.
# Usage: bench/corpus.sh [CORPUS_DIR] [JOBS]   (the corpus is laid out there if missing; never commit it)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-${TMPDIR:-/tmp}/isolate-bench-corpus}
jobs=${2:-$(nproc)}
../shared/bench-corpus/vendor.sh "$corpus" >/dev/null
cargo build --release -q -p isolate-lint --bin cargo-isolate --example parse_floor
bin=target/release/cargo-isolate
floor=target/release/examples/parse_floor
out=$(mktemp -d)

ratio() { python3 -c "import sys; print(f'{float(sys.argv[1])/float(sys.argv[2]):.2f}')" "$1" "$2"; }

measure() { # name cmd... -> prints "wall_s max_rss_kb"
  local name=$1; shift
  /usr/bin/time -f '%e %M' -o "$out/$name.time" "$@" >"$out/$name.out" 2>"$out/$name.err" || true
  tail -n 1 "$out/$name.time"
}

# Warm the page cache once so neither side pays for the first read.
$floor "$corpus" "$jobs" >/dev/null
for run in 1 2 3; do
  read -r fw fm < <(measure floor$run $floor "$corpus" "$jobs")
  read -r lw lm < <(measure lint$run $bin check "$corpus" --format json -j "$jobs")
  echo "run $run: parse floor ${fw}s ${fm}KB | cargo-isolate ${lw}s ${lm}KB | time x$(ratio "$lw" "$fw") memory x$(ratio "$lm" "$fm")"
done
python3 - "$out/lint3.out" <<'PY'
import json, sys, collections
d = json.load(open(sys.argv[1]))
print("summary:", d["summary"])
print("findings per rule:", dict(sorted(collections.Counter(f["rule"] for f in d["findings"]).items())))
print("file errors:", len(d["errors"]))
PY
rm -rf "$out"
