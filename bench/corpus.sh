#!/usr/bin/env bash
# Benchmark on the reference corpus (351 crates, 5.06M lines): wall time, CPU time and peak
# memory of `cargo-isolate check`, as ratios against the syn parse floor (lint/examples/
# parse_floor.rs: the same files, read and parsed with the same pre-check on the same threads)
# and, optionally, against another revision of the linter - all measured in this one run.
#
# Usage: bench/corpus.sh [CORPUS_DIR] [JOBS]
#   RUNS=5            rounds; each round runs every program once, in a rotating order
#   BASELINE_REV=main also build that git revision (from `git archive`, in $TMPDIR) and measure it;
#                     several revisions, space-separated, are each measured
#   VENDOR=path       the corpus script (default ../shared/bench-corpus/vendor.sh, from the repo root)
# The corpus is laid out in CORPUS_DIR if missing; never commit it.
#
# The machine is shared and its speed drifts by tens of percent between runs, so every figure
# is a median over the rounds, and ratios are taken within a round (same load) before their
# median is reported.
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=${1:-${TMPDIR:-/tmp}/isolate-bench-corpus}
jobs=${2:-$(nproc)}
runs=${RUNS:-5}
"${VENDOR:-../shared/bench-corpus/vendor.sh}" "$corpus" >/dev/null
cargo build --release -q -p isolate-lint --bin cargo-isolate --example parse_floor
bin=target/release/cargo-isolate
floor=target/release/examples/parse_floor
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

programs=(floor lint)
declare -A base_bins=()
# BASELINE_REV may name several revisions ("9aac5ac 9ce8ff8"): each is built and measured as
# program base@REV, and lint is compared with each.
for rev in ${BASELINE_REV:-}; do
  base_dir=${TMPDIR:-/tmp}/isolate-baseline-$(git rev-parse --short "$rev")
  if [[ ! -x $base_dir/target/release/cargo-isolate ]]; then
    mkdir -p "$base_dir"
    git archive "$rev" | tar -x -C "$base_dir"
    (cd "$base_dir" && CARGO_TARGET_DIR="$base_dir/target" cargo build --release -q -p isolate-lint --bin cargo-isolate)
  fi
  base_bins[base@$rev]=$base_dir/target/release/cargo-isolate
  programs+=("base@$rev")
done

command_of() {
  case $1 in
    floor) echo "$floor $corpus $jobs" ;;
    lint) echo "$bin check $corpus --format json -j $jobs" ;;
    base@*) echo "${base_bins[$1]} check $corpus --format json -j $jobs" ;;
  esac
}

# Warm the page cache once so no program pays for the first read.
$floor "$corpus" "$jobs" >/dev/null
for ((round = 1; round <= runs; round++)); do
  n=${#programs[@]}
  for ((k = 0; k < n; k++)); do
    p=${programs[$(((k + round) % n))]}
    /usr/bin/time -f '%e %U %S %M' -o "$out/$p.$round.time" $(command_of "$p") >"$out/$p.out" 2>/dev/null || true
  done
  line="round $round:"
  for p in "${programs[@]}"; do
    read -r w u s m < <(tail -n 1 "$out/$p.$round.time")
    line+=" $p ${w}s cpu $(python3 -c "print(f'{$u+$s:.1f}')")s ${m}KB |"
  done
  echo "$line"
done

python3 - "$out" "$runs" "${programs[@]}" <<'PY'
import collections, json, statistics, sys
out, runs, programs = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
def read(p, r):
    w, u, s, m = open(f"{out}/{p}.{r}.time").read().split()[-4:]
    return float(w), float(u) + float(s), int(m)
t = {p: [read(p, r) for r in range(1, runs + 1)] for p in programs}
med = lambda xs: statistics.median(xs)
for p in programs:
    w, c, m = zip(*t[p])
    print(f"{p:6} median wall {med(w):6.2f} s  cpu {med(c):6.2f} s  peak rss {med(m)/1024:6.0f} MB (min {min(m)/1024:.0f}, max {max(m)/1024:.0f})")
def ratios(a, b, i):
    return [x[i] / y[i] for x, y in zip(t[a], t[b])]
print(f"lint/floor  wall x{med(ratios('lint', 'floor', 0)):.3f} (per-round {', '.join(f'{r:.2f}' for r in ratios('lint', 'floor', 0))})"
      f"  cpu x{med(ratios('lint', 'floor', 1)):.3f}  rss x{med(ratios('lint', 'floor', 2)):.2f}")
bases = [p for p in programs if p.startswith("base@")]
for b in bases:
    print(f"{b}/floor  wall x{med(ratios(b, 'floor', 0)):.3f}  cpu x{med(ratios(b, 'floor', 1)):.3f}  rss x{med(ratios(b, 'floor', 2)):.2f}")
    print(f"lint/{b}   wall x{med(ratios('lint', b, 0)):.3f} (per-round {', '.join(f'{r:.2f}' for r in ratios('lint', b, 0))})"
          f"  cpu x{med(ratios('lint', b, 1)):.3f}  rss x{med(ratios('lint', b, 2)):.3f}")
for p in [q for q in programs if q != "floor"]:
    d = json.load(open(f"{out}/{p}.out"))
    rules = dict(sorted(collections.Counter(f["rule"] for f in d["findings"]).items()))
    print(f"{p}: {d['summary']}")
    print(f"{p}: findings per rule {rules}; file errors {len(d['errors'])}")
for b in bases:
    a = {(f["file"], f["line"]): (f["rule"], f["level"]) for f in json.load(open(f"{out}/{b}.out"))["findings"]}
    c = {(f["file"], f["line"]): (f["rule"], f["level"]) for f in json.load(open(f"{out}/lint.out"))["findings"]}
    changed = [k for k in sorted(set(a) | set(c)) if a.get(k) != c.get(k)]
    print(f"lint against {b}: {len(changed)} findings changed (file:line rule/level)")
    if len(bases) == 1:
        for k in changed:
            print(f"changed {k[0]}:{k[1]}: {a.get(k)} -> {c.get(k)}")
PY
