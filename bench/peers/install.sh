#!/usr/bin/env bash
# Installs the ANN benchmark peers from Debian and compiles the native hnswlib driver:
#   libhnswlib-dev (header-only hnswlib) + g++  -> bench/peers/hnswlib_driver (g++ -O3 -march=native)
#   python3-hnswlib, python3-faiss, python3-numpy -> used under /usr/bin/python3 by py_peers.py
# Usage: bash bench/peers/install.sh   (needs root or sudo for apt-get)
set -euo pipefail
cd "$(dirname "$0")"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
need=()
for p in libhnswlib-dev g++ python3-hnswlib python3-faiss python3-numpy; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
g++ -O3 -march=native -std=c++17 -DNDEBUG -I/usr/include/hnswlib -I/usr/include -pthread hnswlib_driver.cpp -o hnswlib_driver
echo "built $(pwd)/hnswlib_driver"
/usr/bin/python3 -c 'import hnswlib, faiss, numpy; print("python peers: hnswlib", getattr(hnswlib, "__version__", "?"), "faiss", faiss.__version__, "numpy", numpy.__version__)'
