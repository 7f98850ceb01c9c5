#!/usr/bin/env bash
# Installs what a fresh Debian machine needs for the tests beyond the .NET SDK:
# sentencepiece (spm_train) to build the small SentencePiece model the XLM-R tokenizer tests use.
set -euo pipefail
if command -v spm_train >/dev/null 2>&1; then exit 0; fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq sentencepiece >/dev/null
