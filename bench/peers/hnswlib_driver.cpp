// Native hnswlib peer of the `ann` benchmark (bench/BgeVectorDb.Bench/AnnBenchmark.cs).
// Build: bench/peers/install.sh  (g++ -O3 -march=native against Debian's header-only libhnswlib-dev)
// Usage: hnswlib_driver <data.bin> <queries.bin> <truth.bin> <M> <ef_construction> <threads>
//   *.bin vectors: int32 n, int32 dim, n*dim float32;  truth: int32 nq, int32 k, nq*k int32 ids.
// Builds an inner-product index (vectors are unit length: cosine), prints
//   "built <seconds> <bytes_per_vector>"
// then serves stdin commands, so the harness can interleave its own runs with ours:
//   "ef <ef>"  -> single-thread search of every query at that ef, prints "ef <ef> <recall@k> <qps>"
//   "quit"     -> exits
#include <hnswlib/hnswlib.h>

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
    auto t0 = std::chrono::steady_clock::now();
    std::atomic<int> next{0};
    std::vector<std::thread> pool;
    for (int t = 0; t < threads; t++) {
        pool.emplace_back([&] {
            for (int i = next++; i < n; i = next++) index.addPoint(data.data() + static_cast<size_t>(i) * dim, i);
        });
    }
    for (auto& th : pool) th.join();
    double build = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    // Bytes: level-0 block (links + vector + label) per element, upper-level link lists, and the
    // per-element level/lock/label-map bookkeeping.
    double bytes = static_cast<double>(index.size_data_per_element_) * n;
    for (int i = 0; i < n; i++) bytes += static_cast<double>(index.element_levels_[i]) * index.size_links_per_element_ + sizeof(void*) + sizeof(int);
    bytes += static_cast<double>(n) * (sizeof(hnswlib::labeltype) + sizeof(hnswlib::tableint) + 16);
    std::printf("built %.3f %.1f\n", build, bytes / n);
    std::fflush(stdout);

    std::string cmd;
    while (std::cin >> cmd) {
        if (cmd == "quit") break;
        if (cmd != "ef") { std::cerr << "unknown command " << cmd << "\n"; return 2; }
        int ef;
        std::cin >> ef;
        index.setEf(ef);
        std::vector<std::vector<hnswlib::labeltype>> results(nq);
        auto s0 = std::chrono::steady_clock::now();
        for (int q = 0; q < nq; q++) {
            auto pq = index.searchKnn(queries.data() + static_cast<size_t>(q) * dim, k);
            auto& r = results[q];
            while (!pq.empty()) { r.push_back(pq.top().second); pq.pop(); }
        }
        double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
        long found = 0;
        for (int q = 0; q < nq; q++) {
            std::unordered_set<int> want(truth.begin() + static_cast<long>(q) * k, truth.begin() + static_cast<long>(q + 1) * k);
            for (auto id : results[q]) found += want.count(static_cast<int>(id));
        }
        std::printf("ef %d %.5f %.1f\n", ef, static_cast<double>(found) / (static_cast<double>(nq) * k), nq / secs);
        std::fflush(stdout);
    }
    return 0;
}
