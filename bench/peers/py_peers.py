#!/usr/bin/python3
"""Python peers of the `ann` benchmark: python3-hnswlib and faiss IndexHNSWFlat (Debian packages).

Usage: /usr/bin/python3 py_peers.py <data.bin> <queries.bin> <truth.bin> <M> <ef_construction> <threads> <ef,ef,...>
Files as in hnswlib_driver.cpp. Prints one JSON object per line:
  {"system": ..., "build_s": ..., "bytes_per_vector": ...}  then  {"system": ..., "ef": ..., "recall": ..., "qps": ...}
Queries run one at a time on one thread (same protocol as the other systems).
"""
import json
import sys
import time

import numpy as np


def read_vectors(path):
    with open(path, "rb") as f:
        n, dim = np.frombuffer(f.read(8), dtype=np.int32)
        return np.frombuffer(f.read(), dtype=np.float32).reshape(int(n), int(dim))


def read_truth(path):
    with open(path, "rb") as f:
        nq, k = np.frombuffer(f.read(8), dtype=np.int32)
        return np.frombuffer(f.read(), dtype=np.int32).reshape(int(nq), int(k))


def recall(found, truth):
    hits = sum(len(set(f) & set(t)) for f, t in zip(found, truth))
    return hits / truth.size


def main():
    data, queries, truth = read_vectors(sys.argv[1]), read_vectors(sys.argv[2]), read_truth(sys.argv[3])
    m, efc, threads = int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    efs = [int(x) for x in sys.argv[7].split(",")]
    k = truth.shape[1]
    n, dim = data.shape

    import hnswlib
    index = hnswlib.Index(space="ip", dim=dim)
    index.init_index(max_elements=n, M=m, ef_construction=efc, random_seed=100)
    index.set_num_threads(threads)
    t0 = time.perf_counter()
    index.add_items(data, np.arange(n))
    build = time.perf_counter() - t0
    # Same layout as the native driver: level-0 block of (2M links + vector + label) per element.
    per = 4 + 2 * m * 4 + dim * 4 + 8
    print(json.dumps({"system": "python3-hnswlib", "build_s": build, "bytes_per_vector": per}), flush=True)
    index.set_num_threads(1)
    for ef in efs:
        index.set_ef(ef)
        t0 = time.perf_counter()
        found = [index.knn_query(q.reshape(1, -1), k=k)[0][0] for q in queries]
        secs = time.perf_counter() - t0
        print(json.dumps({"system": "python3-hnswlib", "ef": ef, "recall": recall(found, truth), "qps": len(queries) / secs}), flush=True)
    del index

    import faiss
    faiss.omp_set_num_threads(threads)
    index = faiss.IndexHNSWFlat(dim, m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = efc
    t0 = time.perf_counter()
    index.add(np.ascontiguousarray(data))
    build = time.perf_counter() - t0
    # Flat storage (dim floats) + level-0 neighbours (2M ints) + upper levels (about M ints / (M-1)).
    per = dim * 4 + 2 * m * 4 + 4 * m / max(1, m - 1) * 4 + 8
    print(json.dumps({"system": "faiss-IndexHNSWFlat", "build_s": build, "bytes_per_vector": per}), flush=True)
    faiss.omp_set_num_threads(1)
    for ef in efs:
        index.hnsw.efSearch = ef
        t0 = time.perf_counter()
        found = [index.search(q.reshape(1, -1), k)[1][0] for q in queries]
        secs = time.perf_counter() - t0
        print(json.dumps({"system": "faiss-IndexHNSWFlat", "ef": ef, "recall": recall(found, truth), "qps": len(queries) / secs}), flush=True)


if __name__ == "__main__":
    main()
