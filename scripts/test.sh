#!/usr/bin/env bash
# Runs every test of the solution (the README's test command) and ends with the totals line
# "N passed, N failed, N skipped". Exit code: 0 only when nothing failed and every project ran.
set -uo pipefail
cd "$(dirname "$0")/.."

# XLM-RoBERTa tokenizer tests train a small SentencePiece model with Debian's spm_train.
if ! command -v spm_train >/dev/null 2>&1; then
  echo "spm_train not found: install Debian's 'sentencepiece' package (scripts/install-deps.sh)" >&2
  exit 2
fi

log=$(mktemp)
dotnet build BgeVectorDb.sln -c Release --nologo -v q -clp:ErrorsOnly || { echo "0 passed, 1 failed"; exit 1; }
dotnet test BgeVectorDb.sln -c Release --no-build --nologo "$@" 2>&1 | tee "$log"
rc=${PIPESTATUS[0]}

# VSTest prints one summary per test project: "Passed!  - Failed: 0, Passed: 12, Skipped: 0, Total: 12, ..."
read -r passed failed skipped projects < <(grep -E '^(Passed|Failed)!' "$log" | sed -E 's/.*Failed: *([0-9]+), Passed: *([0-9]+), Skipped: *([0-9]+).*/\1 \2 \3/' |
  awk '{f+=$1; p+=$2; s+=$3; n++} END {print p+0, f+0, s+0, n+0}')
rm -f "$log"
expected=$(ls tests/*/*.Tests.csproj | wc -l)
if [ "$projects" -lt "$expected" ] && [ "$rc" -ne 0 ] && [ "$failed" -eq 0 ]; then
  failed=1   # a test project crashed or did not report: count it as a failure
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$rc" -eq 0 ] && [ "$failed" -eq 0 ]
