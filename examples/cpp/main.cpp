/*
 * examples/cpp - C++17 std::pmr containers on tarn (include/tarn/tarn.hpp).
 *
 * A word count: std::pmr::map nodes come from a tarn block pool sized for them
 * (tarn::block_resource), everything else - the strings, the vector of words - from a
 * tarn heap (tarn::heap_resource), which is also the pool's upstream.  Prints the
 * result, the heap's peak, the smallest heap the program runs in (a binary search), and
 * shows that running out ends in std::bad_alloc with the heap intact.
 */
#include <cstdio>
#include <map>
#include <memory_resource>
#include <new>
#include <string>
#include <vector>

#include "tarn/tarn.hpp"

alignas(std::max_align_t) static unsigned char heap_mem[1 << 20];
alignas(std::max_align_t) static unsigned char node_mem[64 * 1024];

struct result {
    std::size_t words = 0, distinct = 0, top_count = 0, heap_peak = 0, pool_used = 0;
    std::string top;
};

/* The program: count the words of a generated text.  Throws std::bad_alloc when the
 * heap is too small. */
static result word_count(std::size_t heap_size)
{
    tarn::heap_resource heap(heap_mem, heap_size);
    if (heap.status() != TARN_OK) {
        throw std::bad_alloc();
    }
    using node_map = std::pmr::map<std::pmr::string, int>;
    /* map nodes: one block each (the node size is the library's; 96 bytes is enough for
     * a std::pmr::string key, an int and the tree links on 64-bit) */
    tarn::block_resource nodes(node_mem, sizeof node_mem, 96, &heap, true);
    result r;
    {
        std::pmr::vector<std::pmr::string> words(&heap);
        for (int i = 0; i < 8000; i++) {
            words.emplace_back("word-number-" + std::to_string((i * i) % 997));
        }
        node_map count(&nodes);
        for (const auto &w : words) {
            count[w]++;
        }
        r.words = words.size();
        r.distinct = count.size();
        for (const auto &kv : count) {
            if (static_cast<std::size_t>(kv.second) > r.top_count) {
                r.top_count = static_cast<std::size_t>(kv.second);
                r.top = std::string(kv.first);
            }
        }
        tarn_block_stats bs;
        (void)tarn_block_stats_get(nodes.pool(), &bs);
        r.pool_used = bs.count - bs.min_free;
    }
    tarn_heap_stats hs;
    (void)tarn_heap_stats_get(heap.heap(), &hs);
    r.heap_peak = hs.peak_used;
    if (hs.live_blocks != 0 || tarn_heap_check(heap.heap()) != TARN_OK) {
        std::printf("cpp: heap not empty or damaged\n");
        throw std::bad_alloc();
    }
    return r;
}

int main()
{
    result r = word_count(sizeof heap_mem);
    std::printf("cpp: %zu words, %zu distinct, most frequent \"%s\" x%zu\n", r.words, r.distinct,
                r.top.c_str(), r.top_count);
    std::printf("cpp: map nodes from the block pool: %zu blocks at most; heap peak %zu bytes\n",
                r.pool_used, r.heap_peak);

    std::size_t lo = TARN_HEAP_MIN_SIZE, hi = sizeof heap_mem;
    while (hi - lo > r.heap_peak / 128) {
        std::size_t mid = lo + (hi - lo) / 2;
        try {
            (void)word_count(mid);
            hi = mid;
        } catch (const std::bad_alloc &) {
            lo = mid;
        }
    }
    std::printf("cpp: smallest heap it ran in: %zu bytes (fails in %zu)\n", hi, lo);
    try {
        (void)word_count(hi / 2);
        std::printf("cpp: expected std::bad_alloc in a %zu-byte heap\n", hi / 2);
        return 1;
    } catch (const std::bad_alloc &) {
        std::printf("cpp: in a %zu-byte heap: std::bad_alloc, caught\n", hi / 2);
    }
    return 0;
}
