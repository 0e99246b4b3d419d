/*
 * tests/port_cpp_pmr_noexcept.cpp - include/tarn/tarn.hpp built with -fno-exceptions:
 * it compiles, containers work within the pool's budget, and a failed allocation
 * returns nullptr (do_allocate, try_allocate) instead of throwing.
 */
#include <cstdio>
#include <memory_resource>
#include <vector>

#include "check.h"
#include "tarn/tarn.hpp"

#if TARN_HPP_EXCEPTIONS
#error "this test must be built with -fno-exceptions"
#endif

/* Reaches the protected do_allocate, which is what allocate returns. */
struct heap_probe : tarn::heap_resource {
    using tarn::heap_resource::heap_resource;
    void *raw(std::size_t n) { return do_allocate(n, alignof(std::max_align_t)); }
};
struct pool_probe : tarn::block_resource {
    using tarn::block_resource::block_resource;
    void *raw(std::size_t n) { return do_allocate(n, 8); }
};

alignas(std::max_align_t) static unsigned char mem[8192];
alignas(std::max_align_t) static unsigned char pmem[TARN_BLOCK_POOL_BYTES(8, 32)];

int main()
{
    heap_probe heap(mem, sizeof mem);
    CHECK(heap.status() == TARN_OK);
    {
        std::pmr::vector<int> v(&heap);
        for (int i = 0; i < 500; i++) v.push_back(i);
        CHECK(v[499] == 499);
    }
    CHECK(heap.raw(100000) == nullptr);
    CHECK(heap.last_error() == TARN_ENOMEM);
    CHECK(heap.try_allocate(100000) == nullptr);
    void *p = heap.raw(64);
    CHECK(p != nullptr);
    heap.deallocate(p, 64);

    pool_probe pool(pmem, sizeof pmem, 32, &heap);
    CHECK(pool.status() == TARN_OK);
    std::size_t n = 0;
    while (pool.raw(16) != nullptr) n++;
    CHECK(n == 8);                                   /* the buffer holds 8 blocks and their bitmap */
    CHECK(pool.raw(16) == nullptr);                  /* empty, no overflow: nullptr */
    CHECK(pool.raw(1000) != nullptr);                /* other sizes: upstream */
    return check_done();
}
