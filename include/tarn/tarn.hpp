/*
 * tarn/tarn.hpp - tarn pools as C++17 std::pmr memory resources (header-only; the
 * library itself stays C99 and needs nothing from here).
 *
 *     #include "tarn/tarn.hpp"
 *     alignas(std::max_align_t) static unsigned char mem[64 * 1024];
 *     tarn::heap_resource heap(mem, sizeof mem);            // a tarn heap in mem
 *     std::pmr::vector<int> v(&heap);                        // every allocation from it
 *     std::pmr::map<int, std::pmr::string> m(&heap);
 *
 *     alignas(std::max_align_t) static unsigned char nodes[32 * 1024];
 *     tarn::block_resource pool(nodes, sizeof nodes, 48, &heap);  // 48-byte blocks;
 *     std::pmr::list<int> l(&pool);                          // other sizes go to `heap`
 *
 * heap_resource   any size and alignment from a tarn heap (include/tarn/heap.h): O(1)
 *                 allocate and deallocate, no per-block header.
 * block_resource  requests of at most block_size bytes (alignment up to what every block
 *                 has: TARN_ALIGN, or more - see block_alignment()) from
 *                 a tarn block pool (include/tarn/block.h), O(1); larger or more aligned
 *                 requests go to the upstream resource, as do pool requests when the
 *                 pool is empty if `overflow` is true (by default an empty pool is a
 *                 failure: a fixed budget).  deallocate finds the owner in O(1).
 *
 * Failure: allocate throws std::bad_alloc, as memory_resource requires.  Built without
 * exceptions (-fno-exceptions), it returns nullptr instead; standard containers do not
 * expect that (size the pool with tarn_heap_size_for, or use try_allocate, which returns
 * nullptr in both builds).  A deallocate of a pointer the resource does not own is
 * refused by tarn and changes nothing (see last_error()).
 *
 * Thread safety: that of the pool (a lock hook in the tarn_config given at
 * construction).  The resources are neither copyable nor movable (containers hold
 * pointers to them).
 */
#ifndef TARN_TARN_HPP
#define TARN_TARN_HPP

#if __cplusplus < 201703L && !(defined(_MSVC_LANG) && _MSVC_LANG >= 201703L)
#error "tarn/tarn.hpp needs C++17 (std::pmr)"
#endif

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory_resource>
#include <new>

#include "tarn/block.h"
#include "tarn/heap.h"

#if defined(__cpp_exceptions) || defined(__EXCEPTIONS)
#define TARN_HPP_EXCEPTIONS 1
#else
#define TARN_HPP_EXCEPTIONS 0
#endif

namespace tarn {

namespace detail {
/* What allocate does on failure: throw, or hand back nullptr without exceptions. */
inline void *alloc_failed()
{
#if TARN_HPP_EXCEPTIONS
    throw std::bad_alloc();
#else
    return nullptr;
#endif
}
} // namespace detail

/**
 * A std::pmr::memory_resource over a tarn heap: one it creates in a caller buffer (and
 * ends when destroyed), or an existing one (left alone).  allocate/deallocate are O(1);
 * alignments above TARN_HEAP_GRANULE use tarn_heap_aligned_alloc.  Not ISR-safe (it
 * throws); thread-safe if the heap has a lock hook.
 */
class heap_resource : public std::pmr::memory_resource {
public:
    /** Create a heap in mem[0..size) (tarn_heap_init); check status() before use: on
     *  failure every allocation fails. */
    heap_resource(void *mem, std::size_t size, const tarn_config *cfg = nullptr) noexcept
        : owned_(true)
    {
        status_ = tarn_heap_init(&heap_, mem, size, cfg);
    }

    /** Use an existing heap (not ended by the destructor). */
    explicit heap_resource(tarn_heap *h) noexcept
        : heap_(h), status_(h != nullptr ? TARN_OK : TARN_EINVAL), owned_(false)
    {
    }

    heap_resource(const heap_resource &) = delete;
    heap_resource &operator=(const heap_resource &) = delete;

    ~heap_resource() override
    {
        if (owned_ && heap_ != nullptr) {
            (void)tarn_heap_destroy(heap_);
        }
    }

    /** Result of creating the heap (TARN_OK, or why not). */
    tarn_status status() const noexcept { return status_; }
    /** The heap, for statistics and checks (tarn_heap_stats_get, tarn_heap_check). */
    tarn_heap *heap() const noexcept { return heap_; }
    /** Why the last failed call on the heap failed (tarn_heap_last_error). */
    tarn_status last_error() const noexcept { return tarn_heap_last_error(heap_); }

    /** Allocate without throwing: nullptr on failure, in every build.  O(1). */
    void *try_allocate(std::size_t bytes, std::size_t alignment = alignof(std::max_align_t)) noexcept
    {
        if (heap_ == nullptr) {
            return nullptr;
        }
        if (bytes == 0) {
            bytes = 1;   /* a unique block, as operator new gives */
        }
        return alignment <= TARN_HEAP_GRANULE ? tarn_heap_alloc(heap_, bytes)
                                              : tarn_heap_aligned_alloc(heap_, alignment, bytes);
    }

protected:
    void *do_allocate(std::size_t bytes, std::size_t alignment) override
    {
        void *p = try_allocate(bytes, alignment);
        return p != nullptr ? p : detail::alloc_failed();
    }

    void do_deallocate(void *p, std::size_t bytes, std::size_t alignment) override
    {
        (void)bytes;
        (void)alignment;
        if (p != nullptr) {
            (void)tarn_heap_free(heap_, p);   /* a foreign pointer is refused */
        }
    }

    bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override
    {
        return this == &other;
    }

private:
    tarn_heap *heap_ = nullptr;
    tarn_status status_;
    bool owned_;
};

/**
 * A std::pmr::memory_resource over a tarn block pool of one block size: requests of at
 * most block_size() bytes and alignment at most block_alignment() take a block (O(1)); the
 * others go to `upstream`.  When the pool is empty, a pool-sized request fails, or goes
 * upstream too if `overflow` is true.  deallocate gives a block back to the pool when the
 * pool owns it (tarn_block_owns, O(1)), and anything else to upstream.  Not ISR-safe (it
 * may throw or go upstream); thread-safe if the pool has a lock hook and upstream is.
 */
class block_resource : public std::pmr::memory_resource {
public:
    /** Create the pool in mem[0..size) with blocks of block_size bytes
     *  (tarn_block_init_ext, the pool's tarn_block_ext kept in this object, so cfg may
     *  give a lock hook and a name; mem aligned to TARN_ALIGN); check status() before
     *  use. */
    block_resource(void *mem, std::size_t size, std::size_t block_size,
                   std::pmr::memory_resource *upstream = std::pmr::get_default_resource(),
                   bool overflow = false, const tarn_config *cfg = nullptr) noexcept
        : mem_(static_cast<unsigned char *>(mem)), mem_size_(size), upstream_(upstream),
          overflow_(overflow)
    {
        status_ = tarn_block_init_ext(&pool_, &ext_, mem, size, block_size, cfg);
        block_size_ = status_ == TARN_OK ? tarn_block_size(&pool_) : 0;
        /* every block is aligned to the lowest set bit of both the first block's address
         * and the block stride (4 at least) */
        if (status_ == TARN_OK && tarn_block_owns(&pool_, mem)) {
            std::size_t bits = static_cast<std::size_t>(reinterpret_cast<std::uintptr_t>(mem)) |
                               TARN_BLOCK_SIZE(block_size) | std::size_t(4096);
            align_ = bits & (~bits + 1u);
        }
    }

    block_resource(const block_resource &) = delete;
    block_resource &operator=(const block_resource &) = delete;
    ~block_resource() override = default;

    /** Result of creating the pool (TARN_OK, or why not). */
    tarn_status status() const noexcept { return status_; }
    /** The pool, for statistics and checks (tarn_block_stats_get, tarn_block_check). */
    tarn_block_pool *pool() noexcept { return &pool_; }
    /** Usable bytes of each block (0 if the pool failed to initialise). */
    std::size_t block_size() const noexcept { return block_size_; }
    /** The resource that serves the other sizes. */
    std::pmr::memory_resource *upstream_resource() const noexcept { return upstream_; }
    /** Why the last failed call on the pool failed (tarn_block_last_error). */
    tarn_status last_error() const noexcept { return tarn_block_last_error(&pool_); }

    /** Alignment every block has: TARN_ALIGN at least, more when the buffer and the
     *  block stride allow (up to 4096). */
    std::size_t block_alignment() const noexcept { return align_; }

    /** True when a request of this size and alignment is served by the pool. */
    bool serves(std::size_t bytes, std::size_t alignment) const noexcept
    {
        return bytes <= block_size_ && alignment <= align_;
    }

    /** Take a block without throwing: nullptr if the request is not the pool's or the
     *  pool is empty.  O(1). */
    void *try_allocate(std::size_t bytes, std::size_t alignment = TARN_ALIGN) noexcept
    {
        return serves(bytes, alignment) ? tarn_block_get(&pool_) : nullptr;
    }

protected:
    void *do_allocate(std::size_t bytes, std::size_t alignment) override
    {
        if (serves(bytes, alignment)) {
            void *p = tarn_block_get(&pool_);
            if (p != nullptr) {
                return p;
            }
            if (!overflow_) {
                return detail::alloc_failed();
            }
        }
        return upstream_->allocate(bytes, alignment);
    }

    void do_deallocate(void *p, std::size_t bytes, std::size_t alignment) override
    {
        if (p == nullptr) {
            return;
        }
        if (owns_memory(p)) {
            (void)tarn_block_put(&pool_, p);   /* not a handed-out block: refused */
        } else {
            upstream_->deallocate(p, bytes, alignment);
        }
    }

    bool do_is_equal(const std::pmr::memory_resource &other) const noexcept override
    {
        return this == &other;
    }

private:
    /* p inside the pool's buffer: the pool's to accept or refuse, never upstream's. */
    bool owns_memory(const void *p) const noexcept
    {
        const unsigned char *b = static_cast<const unsigned char *>(p);
        return mem_ != nullptr && !std::less<const unsigned char *>()(b, mem_) &&
               std::less<const unsigned char *>()(b, mem_ + mem_size_);
    }

    tarn_block_pool pool_{};
    tarn_block_ext ext_{};
    unsigned char *mem_;
    std::size_t mem_size_;
    std::pmr::memory_resource *upstream_;
    std::size_t block_size_ = 0;
    std::size_t align_ = TARN_ALIGN;
    tarn_status status_;
    bool overflow_;
};

} // namespace tarn

#endif /* TARN_TARN_HPP */
