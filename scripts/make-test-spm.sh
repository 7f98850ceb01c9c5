#!/usr/bin/env bash
# Trains the small SentencePiece Unigram model the XLM-RoBERTa tokenizer tests, the synthetic XLM-R
# reranker generator and the benchmarks use (stand-in for BAAI/bge-reranker-*'s sentencepiece.bpe.model,
# which this environment cannot download).
#
# Usage: scripts/make-test-spm.sh OUTDIR
#   Writes OUTDIR/sentencepiece.bpe.model (+ OUTDIR/sentencepiece.bpe.vocab) and prints the model path
#   as the last line of stdout. Reuses an existing model built by the same recipe (OUTDIR/.recipe).
#
# Input: title + text of every document of the SciFact corpus, read from
#   $BGE_SHARED_DATA/scifact-beir/corpus.jsonl, default <repoRoot>/../shared/data.
# Deterministic: all sentences are loaded in file order (no sampling, no shuffle), one training thread,
# fixed random seed, so the same spm_train version gives a byte-identical model every run.
# Needs: spm_train (Debian package `sentencepiece`, see scripts/install-deps.sh) and python3.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 OUTDIR" >&2
  exit 2
fi
OUTDIR=$1
VOCAB_SIZE=8000
RECIPE="v1 unigram vocab=${VOCAB_SIZE} seed=42 threads=1 corpus=scifact title+text nmt_nfkc"

if ! command -v spm_train >/dev/null 2>&1; then
  echo "error: spm_train not found; install Debian package 'sentencepiece' (scripts/install-deps.sh)" >&2
  exit 3
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "error: python3 not found (needed to extract the SciFact corpus text)" >&2
  exit 3
fi

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$SCRIPT_DIR/.." && pwd)
DATA=${BGE_SHARED_DATA:-$REPO_ROOT/../shared/data}
CORPUS=$DATA/scifact-beir/corpus.jsonl
if [ ! -f "$CORPUS" ]; then
  echo "error: SciFact corpus not found at $CORPUS (set BGE_SHARED_DATA)" >&2
  exit 4
fi

mkdir -p "$OUTDIR"
OUTDIR=$(cd "$OUTDIR" && pwd)
MODEL=$OUTDIR/sentencepiece.bpe.model
if [ -f "$MODEL" ] && [ -f "$OUTDIR/.recipe" ] && [ "$(cat "$OUTDIR/.recipe")" = "$RECIPE" ]; then
  echo "$MODEL"
  exit 0
fi

WORK=$(mktemp -d "$OUTDIR/.spm-train.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

# One line per title and per abstract, in corpus order.
python3 - "$CORPUS" "$WORK/corpus.txt" <<'PY'
import json, sys
with open(sys.argv[1], encoding="utf-8") as src, open(sys.argv[2], "w", encoding="utf-8") as dst:
    for line in src:
        line = line.strip()
        if not line:
            continue
        doc = json.loads(line)
        for field in ("title", "text"):
            value = " ".join((doc.get(field) or "").split())
            if value:
                dst.write(value + "\n")
PY

# Relative paths: spm_train records input and model_prefix in the model's trainer_spec.
(cd "$WORK" && spm_train \
  --input=corpus.txt \
  --model_prefix=sentencepiece.bpe \
  --model_type=unigram \
  --vocab_size=$VOCAB_SIZE \
  --character_coverage=0.9995 \
  --normalization_rule_name=nmt_nfkc \
  --input_sentence_size=0 \
  --shuffle_input_sentence=false \
  --max_sentence_length=65536 \
  --num_threads=1 \
  --random_seed=42 \
  --unk_id=0 --bos_id=1 --eos_id=2 --pad_id=-1 \
  >train.log 2>&1) || { cat "$WORK/train.log" >&2; echo "error: spm_train failed" >&2; exit 5; }

mv -f "$WORK/sentencepiece.bpe.vocab" "$OUTDIR/sentencepiece.bpe.vocab"
mv -f "$WORK/sentencepiece.bpe.model" "$MODEL"
echo "$RECIPE" >"$OUTDIR/.recipe"
echo "$MODEL"
