/*
 * tests/port_cpp_pmr.cpp - include/tarn/tarn.hpp: tarn::heap_resource and
 * tarn::block_resource under std::pmr::vector, string, map and list, checked through
 * tarn's statistics and integrity checks; failure as std::bad_alloc (or nullptr when
 * built with -fno-exceptions, as port_cpp_pmr_noexcept is); foreign deallocations
 * refused; routing between the pool and upstream.
 */
#include <cstdio>
#include <cstring>
#include <list>
#include <map>
#include <memory_resource>
#include <string>
#include <vector>

#include "check.h"
#include "tarn/tarn.hpp"

/* An upstream resource that counts what it is asked for (and serves it from new). */
class counting_resource : public std::pmr::memory_resource {
public:
    std::size_t allocs = 0, deallocs = 0, live = 0;

protected:
    void *do_allocate(std::size_t bytes, std::size_t align) override
    {
        allocs++;
        live++;
        return std::pmr::new_delete_resource()->allocate(bytes, align);
    }
    void do_deallocate(void *p, std::size_t bytes, std::size_t align) override
    {
        deallocs++;
        live--;
        std::pmr::new_delete_resource()->deallocate(p, bytes, align);
    }
    bool do_is_equal(const std::pmr::memory_resource &o) const noexcept override
    {
        return this == &o;
    }
};

static tarn_heap_stats hstats(tarn::heap_resource &r)
{
    tarn_heap_stats s;
    CHECK(tarn_heap_stats_get(r.heap(), &s) == TARN_OK);
    CHECK(tarn_heap_check(r.heap()) == TARN_OK);
    return s;
}

alignas(std::max_align_t) static unsigned char heap_mem[1 << 20];
alignas(std::max_align_t) static unsigned char small_mem[4096];
alignas(std::max_align_t) static unsigned char pool_mem[16 * 1024];

static void test_heap_containers()
{
    tarn::heap_resource heap(heap_mem, sizeof heap_mem);
    CHECK(heap.status() == TARN_OK);
    {
        std::pmr::vector<int> v(&heap);
        for (int i = 0; i < 50000; i++) v.push_back(i * 3);
        long long sum = 0;
        for (int x : v) sum += x;
        CHECK(sum == 3LL * 49999 * 50000 / 2);

        std::pmr::string s(&heap);
        for (int i = 0; i < 2000; i++) s += "tarn ";
        CHECK(s.size() == 10000);
        CHECK(s.get_allocator().resource() == &heap);

        std::pmr::map<int, std::pmr::string> m(&heap);
        for (int i = 0; i < 3000; i++) {
            m.emplace(i, std::pmr::string(std::string(size_t(i % 50), 'x') + "-long-enough-for-the-heap", &heap));
        }
        CHECK(m.size() == 3000);
        CHECK(m[1234].get_allocator().resource() == &heap);   /* propagated to elements */
        for (int i = 0; i < 3000; i += 2) m.erase(i);
        CHECK(m.size() == 1500);
        tarn_heap_stats s1 = hstats(heap);
        CHECK(s1.live_blocks > 1500);
        CHECK(s1.peak_used > 50000 * sizeof(int));

        /* over-aligned requests */
        void *p = heap.allocate(100, 256);
        CHECK(reinterpret_cast<std::uintptr_t>(p) % 256 == 0);
        heap.deallocate(p, 100, 256);
    }
    tarn_heap_stats s = hstats(heap);
    CHECK(s.live_blocks == 0);                              /* everything came back */
    CHECK(s.used == 0);
    CHECK(heap.is_equal(heap));
    tarn::heap_resource other(heap.heap());                 /* the same heap, not owned */
    CHECK(!heap.is_equal(other));                           /* distinct resources */
}

static void test_heap_failure()
{
    tarn::heap_resource heap(small_mem, sizeof small_mem);
    CHECK(heap.status() == TARN_OK);
    std::pmr::vector<char> v(&heap);
    bool threw = false;
    try {
        v.reserve(100000);
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
    CHECK(heap.last_error() == TARN_ENOMEM);
    CHECK(heap.try_allocate(100000) == nullptr);
    v.assign(1000, 'a');                                    /* still usable */
    CHECK(v.size() == 1000);
    int local = 0;
    tarn_heap_stats before = hstats(heap);
    heap.deallocate(&local, sizeof local, alignof(int));    /* foreign: refused */
    CHECK(heap.last_error() == TARN_EFOREIGN);
    tarn_heap_stats after = hstats(heap);
    CHECK(after.live_blocks == before.live_blocks && after.used == before.used);

    unsigned char tiny[8];
    tarn::heap_resource bad(tiny, sizeof tiny);             /* too small to be a heap */
    CHECK(bad.status() == TARN_ETOOSMALL);
    threw = false;
    try {
        (void)bad.allocate(8);
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
}

static void test_block_resource()
{
    alignas(std::max_align_t) static unsigned char up_mem[256 * 1024];
    tarn::heap_resource up_heap(up_mem, sizeof up_mem);
    counting_resource counter;
    tarn::block_resource pool(pool_mem, sizeof pool_mem, 48, &counter);
    CHECK(pool.status() == TARN_OK);
    CHECK(pool.block_size() >= 48);
    tarn_block_stats bs0;
    CHECK(tarn_block_stats_get(pool.pool(), &bs0) == TARN_OK);
    {
        /* list nodes (two links and an int: 24 bytes on 64-bit, 12 on 32-bit) come
         * from the pool; nothing goes upstream */
        std::pmr::list<int> l(&pool);
        for (int i = 0; i < 200; i++) l.push_back(i);
        tarn_block_stats bs;
        CHECK(tarn_block_stats_get(pool.pool(), &bs) == TARN_OK);
        CHECK(bs0.free - bs.free == 200);
        CHECK(counter.allocs == 0);

        /* a vector's growing array is larger than a block: upstream */
        std::pmr::vector<long> v(&pool);
        for (int i = 0; i < 1000; i++) v.push_back(i);
        CHECK(counter.allocs > 0);
        CHECK(counter.live == 1);
        CHECK(tarn_block_stats_get(pool.pool(), &bs) == TARN_OK);
        CHECK(bs0.free - bs.free <= 201);                   /* at most v's first small array */
    }
    CHECK(counter.live == 0);
    CHECK(counter.deallocs == counter.allocs);
    tarn_block_stats bs;
    CHECK(tarn_block_stats_get(pool.pool(), &bs) == TARN_OK);
    CHECK(bs.free == bs0.free);
    CHECK(tarn_block_check(pool.pool()) == TARN_OK);

    /* 48-byte blocks in a max_align_t buffer: every block 16-aligned; a larger alignment
     * goes upstream even when small */
    CHECK(pool.block_alignment() >= TARN_ALIGN);
    CHECK((pool.block_alignment() & (pool.block_alignment() - 1)) == 0);
    CHECK(pool.serves(48, pool.block_alignment()) && !pool.serves(49, 8));
    std::size_t a0 = counter.allocs;
    void *p = pool.allocate(16, 64);
    CHECK(counter.allocs == a0 + 1);
    pool.deallocate(p, 16, 64);
    CHECK(counter.live == 0);

    /* an empty pool: pool-sized requests fail (no overflow) */
    std::vector<void *> got;
    void *b;
    bool aligned = true;
    while ((b = pool.try_allocate(40)) != nullptr) {
        got.push_back(b);
        aligned = aligned && reinterpret_cast<std::uintptr_t>(b) % pool.block_alignment() == 0;
    }
    CHECK(got.size() == bs0.free);
    CHECK(aligned);                                         /* as block_alignment() says */
    bool threw = false;
    try {
        (void)pool.allocate(40, alignof(long));
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
    CHECK(counter.allocs == a0 + 1);                        /* not sent upstream */
    /* a bad deallocate inside the pool's buffer is refused, never sent upstream */
    pool.deallocate(static_cast<unsigned char *>(got[0]) + 8, 40, 8);
    CHECK(pool.last_error() == TARN_EFOREIGN);
    CHECK(counter.deallocs == a0 + 1);
    for (void *x : got) pool.deallocate(x, 40, 8);
    pool.deallocate(got[0], 40, 8);                         /* double: refused */
    CHECK(pool.last_error() == TARN_EDOUBLE);
    CHECK(tarn_block_stats_get(pool.pool(), &bs) == TARN_OK);
    CHECK(bs.free == bs0.free);

    /* with overflow, an empty pool hands pool-sized requests upstream (here a tarn heap) */
    alignas(std::max_align_t) static unsigned char few[4 * 64];
    tarn::block_resource spill(few, sizeof few, 48, &up_heap, true);
    CHECK(spill.status() == TARN_OK);
    {
        std::pmr::list<int> l(&spill);
        for (int i = 0; i < 100; i++) l.push_back(i);
        CHECK(hstats(up_heap).live_blocks > 90);
        int i = 0;
        bool ok = true;
        for (int x : l) ok = ok && x == i++;
        CHECK(ok);
    }
    CHECK(hstats(up_heap).live_blocks == 0);
}

int main()
{
    test_heap_containers();
    test_heap_failure();
    test_block_resource();
    return check_done();
}
