#!/usr/bin/env bash
# Installs what a fresh Debian machine needs for the tests beyond the .NET SDK:
# - sentencepiece (spm_train, spm_encode) and python3: scripts/make-test-spm.sh builds the small
#   SentencePiece model the XLM-R tokenizer tests use, and spm_encode is their reference;
# - ICU (libicu): the build runs with InvariantGlobalization=false because BERT accent stripping
#   needs Unicode NFD normalization.
# Idempotent: installs only what is missing.
set -euo pipefail
missing=()
command -v spm_train >/dev/null 2>&1 || missing+=(sentencepiece)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
ldconfig -p 2>/dev/null | grep -q 'libicuuc\.so' || missing+=(libicu-dev)
if [ ${#missing[@]} -eq 0 ]; then exit 0; fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
