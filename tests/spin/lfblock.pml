/*
 * tests/spin/lfblock.pml - Promela model of the lock-free block pool's get and put
 * (src/lfblock.c), checked with spin by tests/spin/run.sh.
 *
 * One Promela statement per shared-memory access of the C code, in the same order:
 *   get:  load carve; CAS carve (loop while blocks remain uncarved);
 *         load head word (index + tag together); loop { empty? fail; load state[top];
 *         CAS head (top, tag) -> (state[top] masked, tag + 1) }; store state[i] = USED;
 *         decrement the free counter.
 *   put:  load head word; CAS state[i] USED -> top (the double-free claim);
 *         increment the free counter; loop { CAS head (top, tag) -> (i, tag + 1);
 *         on failure store state[i] = the new top }.
 * Everything between two shared accesses is local, so spin explores every interleaving
 * of P processes that matters.  Sequentially consistent: the C memory orders are argued
 * in src/lfblock.c; this model checks the algorithm (ABA, lost or duplicated blocks).
 *
 * Ghost state: holding[p] = the block process p holds, from the CAS that takes it (carve or
 * pop) to the CAS that publishes it back (N = none).  After every step that changes shared
 * state, inv() checks:
 *   - the free list is a chain of distinct, carved blocks not marked USED;
 *   - no block is both listed and held, and no block is held by two processes;
 *   - listed + never carved + held == N (no block lost or created);
 *   - the free counter is never below the true number of free blocks, nor above N.
 * When every process has finished, the counter must equal N exactly.
 *
 * Parameters (spin -D...): N blocks (<= 3: MASK), P processes, ROUNDS get/put cycles per
 * process, TAGMOD = 2^(tag bits).  TAGMOD=1 is the broken variant without a tag: spin must
 * find the ABA there.  A small TAGMOD (4) shows the wrap bound is real: enough operations
 * while one process is stopped in its window, and ABA strikes.
 */
#ifndef N
#define N 2
#endif
#ifndef P
#define P 3
#endif
#ifndef ROUNDS
#define ROUNDS 2
#endif
#ifndef TAGMOD
#define TAGMOD 64
#endif
#define MASK 3      /* index bits for N <= 3: floor(log2(N)) + 1 = 2 */
#define USED 255    /* state word of a handed-out block (all ones, as in C) */

byte top = N;       /* head word, index part: N = empty list */
byte tag = 0;       /* head word, tag part */
byte carve = 0;     /* blocks [carve, N) were never handed out */
byte state[N];      /* next index while free, USED while handed out */
byte nfree = N;     /* the free counter (stats.free) */
byte holding[P] = N; /* ghost: block held by each process, N = none */
byte done = 0;

hidden byte w, L, H, k, seen;   /* scratch of inv(), reset after use */

inline inv()
{
    w = top; L = 0; seen = 0;
    do
    :: w < N ->
        assert(w < carve);                  /* only carved blocks are ever listed */
        assert((seen & (1 << w)) == 0);     /* no cycle: each block listed once */
        seen = seen | (1 << w);
        assert(state[w] != USED);           /* a listed block is not marked handed out */
        L++;
        w = state[w] & MASK
    :: else -> break
    od;
    k = 0; H = 0;
    do
    :: k < P ->
        if
        :: holding[k] < N ->
            assert((seen & (1 << holding[k])) == 0); /* held twice, or held and listed */
            seen = seen | (1 << holding[k]);
            H++
        :: else -> skip
        fi;
        k++
    :: else -> break
    od;
    assert(L + (N - carve) + H == N);       /* conserved: none lost, none created */
    assert(nfree >= L + (N - carve) && nfree <= N);
    w = 0; L = 0; H = 0; k = 0; seen = 0
}

active [P] proctype worker()
{
    byte r = 0, c, i, ht, hg, nx;
    bool ok, published;

    do
    :: r < ROUNDS ->
        /* ---- get, step 1: a never-used block while any remain ---- */
        ok = false;
        c = carve;
        do
        :: c < N ->
            atomic {
                if
                :: carve == c -> carve = c + 1; i = c; ok = true; holding[_pid] = i; inv()
                :: else -> c = carve
                fi
            };
            if
            :: ok -> break
            :: else -> skip
            fi
        :: else -> break
        od;
        /* ---- get, step 2: pop the top of the free list ---- */
        if
        :: !ok ->
            atomic { ht = top; hg = tag };
            do
            :: ht >= N -> break             /* empty: the get fails */
            :: else ->
                nx = state[ht];
                atomic {
                    if
                    :: top == ht && tag == hg ->
                        top = nx & MASK; tag = (hg + 1) % TAGMOD;
                        i = ht; ok = true; holding[_pid] = i; inv()
                    :: else -> ht = top; hg = tag
                    fi
                };
                if
                :: ok -> break
                :: else -> skip
                fi
            od
        :: else -> skip
        fi;
        if
        :: ok ->
            /* ---- get, step 3, and the counter ---- */
            atomic { state[i] = USED; inv() };
            atomic { nfree = nfree - 1; inv() };
            /* ---- put ---- */
            atomic { ht = top; hg = tag };
            atomic {
                if
                :: state[i] == USED -> state[i] = ht; inv()
                :: else -> assert(false)    /* the owner's own put is never refused */
                fi
            };
            atomic { nfree = nfree + 1; inv() };
            published = false;
            do
            :: atomic {
                   if
                   :: top == ht && tag == hg ->
                       top = i; tag = (hg + 1) % TAGMOD;
                       holding[_pid] = N; published = true; inv()
                   :: else -> ht = top; hg = tag
                   fi
               };
               if
               :: published -> break
               :: else -> atomic { state[i] = ht; inv() }
               fi
            od
        :: else -> skip
        fi;
        r++
    :: else -> break
    od;
    done++
}

/* When every process is done, the pool is whole again and the counter exact. */
active proctype final()
{
    done == P;
    atomic {
        inv();
        assert(nfree == N);
        assert(holding[0] == N)
    }
}
