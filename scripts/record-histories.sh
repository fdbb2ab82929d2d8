#!/usr/bin/env bash
# Re-records the replay-test histories in tests/histories/ from representative runs on the embedded
# dev server (or TEMPORAL_ADDRESS). Only for workflow changes that no running execution can meet
# (see docs/versioning.md).
set -euo pipefail
cd "$(dirname "$0")/.."
mlgym() { node bin/mlgym.js "$@"; }
run_id() { python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
record() { npx tsx scripts/record-history.ts "$1" "$2"; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# moved-host-stubbed.json is kept: a run that moved off a lost host, recorded once from the workflow test "a run whose
# host goes silent moves" (stub activities on the time-skipping server; a real move needs two hosts).
find tests/histories -name '*.json' ! -name 'moved-host-stubbed.json' -delete

record "$(mlgym run prisonersDilemma --model baseline --json 2>/dev/null | run_id runId)" baseline-prisonersDilemma

cat > "$tmp/short.yaml" <<'YAML'
- ls
- "printf 'def row_strategy(history):\n    return 0\n' > strategy.py"
- validate
- cat strategy.py
- echo done
YAML
record "$(mlgym run prisonersDilemma --model "replay:$tmp/short.yaml" --continue-every 3 --json 2>/dev/null | run_id runId)" replay-continueAsNew

for i in $(seq 0 29); do echo "- \"sleep 0.7; echo $i\""; done > "$tmp/slow.yaml"
mlgym run prisonersDilemma --model "replay:$tmp/slow.yaml" --json > "$tmp/control.json" 2> "$tmp/control.err" &
sleep 8
id=$(grep -o 'run-prisonersDilemma-replay_slow.yaml-[0-9]*-[0-9a-f]*' "$tmp/control.err" | head -1)
mlgym pause "$id"; sleep 3
mlgym hint "$id" "look at target.py"; mlgym budget "$id" 1.5; mlgym resume "$id"; sleep 4
mlgym cancel "$id"; wait
record "$id" control-pause-hint-cancel

record "$(mlgym bench --tasks prisonersDilemma --models baseline --seeds 2 --json 2>/dev/null | run_id benchId)" benchmark-prisonersDilemma

# An external (Gym) run, driven by the TypeScript client.
npx tsx scripts/record-gym-history.ts
