// Native hnswlib peer of the `ann` benchmark (bench/BgeVectorDb.Bench/AnnBenchmark.cs).
// Build: bench/peers/install.sh  (g++ -O3 -march=native against Debian's header-only libhnswlib-dev)
// Usage: hnswlib_driver <data.bin> <queries.bin> <truth.bin> <M> <ef_construction> <threads>
//   *.bin vectors: int32 n, int32 dim, n*dim float32;  truth: int32 nq, int32 k, nq*k int32 ids.
// Creates an inner-product index (vectors are unit length: cosine), prints "ready <n>", then serves
// stdin commands, so the harness can interleave its own build and searches with ours slice by slice:
//   "add <count>" -> inserts the next <count> points (in id order) on <threads> threads, prints
//                    "added <points so far> <seconds for this slice>"
//   "bytes"       -> prints "bytes <bytes_per_vector>" over the points added so far
//   "block <ef> <from> <count>" -> single-thread search of queries [from, from+count) one at a time at
//                    that ef, prints "block <seconds> <hits>" (hits: results that are in the true top k)
//   "quit"        -> exits
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

static std::vector<float> read_vectors(const char* path, int& n, int& dim) {
    std::ifstream f(path, std::ios::binary);
    if (!f) { std::cerr << "cannot open " << path << "\n"; std::exit(2); }
    f.read(reinterpret_cast<char*>(&n), 4);
    f.read(reinterpret_cast<char*>(&dim), 4);
    std::vector<float> v(static_cast<size_t>(n) * dim);
    f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
    return v;
}

int main(int argc, char** argv) {
    if (argc != 7) { std::cerr << "usage: hnswlib_driver data queries truth M ef_construction threads\n"; return 2; }
    int n, dim, nq, qdim, tq, k;
    auto data = read_vectors(argv[1], n, dim);
    auto queries = read_vectors(argv[2], nq, qdim);
    std::ifstream tf(argv[3], std::ios::binary);
    tf.read(reinterpret_cast<char*>(&tq), 4);
    tf.read(reinterpret_cast<char*>(&k), 4);
    std::vector<int> truth(static_cast<size_t>(tq) * k);
    tf.read(reinterpret_cast<char*>(truth.data()), static_cast<std::streamsize>(truth.size() * sizeof(int)));
    int M = std::atoi(argv[4]), efc = std::atoi(argv[5]), threads = std::atoi(argv[6]);

    hnswlib::InnerProductSpace space(dim);
    hnswlib::HierarchicalNSW<float> index(&space, n, M, efc, 100);
    int added = 0;
    std::printf("ready %d\n", n);
    std::fflush(stdout);

    std::string cmd;
    while (std::cin >> cmd) {
        if (cmd == "quit") break;
        if (cmd == "add") {
            int count;
            std::cin >> count;
            int end = std::min(n, added + count);
            auto t0 = std::chrono::steady_clock::now();
            std::atomic<int> next{added};
            std::vector<std::thread> pool;
            for (int t = 0; t < threads; t++) {
                pool.emplace_back([&] {
                    for (int i = next++; i < end; i = next++) index.addPoint(data.data() + static_cast<size_t>(i) * dim, i);
                });
            }
            for (auto& th : pool) th.join();
            added = end;
            std::printf("added %d %.6f\n", added, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
            std::fflush(stdout);
            continue;
        }
        if (cmd == "bytes") {
            // Level-0 block (links + vector + label) per element, upper-level link lists, and the
            // per-element level/lock/label-map bookkeeping.
            double bytes = static_cast<double>(index.size_data_per_element_) * added;
            for (int i = 0; i < added; i++) bytes += static_cast<double>(index.element_levels_[i]) * index.size_links_per_element_ + sizeof(void*) + sizeof(int);
            bytes += static_cast<double>(added) * (sizeof(hnswlib::labeltype) + sizeof(hnswlib::tableint) + 16);
            std::printf("bytes %.1f\n", added == 0 ? 0.0 : bytes / added);
            std::fflush(stdout);
            continue;
        }
        if (cmd != "block") { std::cerr << "unknown command " << cmd << "\n"; return 2; }
        int ef, from, count;
        std::cin >> ef >> from >> count;
        index.setEf(ef);
        std::vector<std::vector<hnswlib::labeltype>> results(count);
        auto s0 = std::chrono::steady_clock::now();
        for (int q = 0; q < count; q++) {
            auto pq = index.searchKnn(queries.data() + static_cast<size_t>(from + q) * dim, k);
            auto& r = results[q];
            while (!pq.empty()) { r.push_back(pq.top().second); pq.pop(); }
        }
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
        long hits = 0;
        for (int q = 0; q < count; q++) {
            auto t = truth.begin() + static_cast<long>(from + q) * k;
            std::unordered_set<int> want(t, t + k);
            for (auto id : results[q]) hits += want.count(static_cast<int>(id));
        }
        std::printf("block %.9f %ld\n", secs, hits);
        std::fflush(stdout);
    }
    return 0;
}
