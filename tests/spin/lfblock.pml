/*
 * tests/spin/lfblock.pml - Promela model of the lock-free block pool's get and put
 * (src/lfblock.c), checked with spin by tests/spin/run.sh.
 *
 * One Promela statement per shared-memory access of the C code, in the same order:
 *   get:  load carve; load head word (index + tag together); loop { empty? leave the
 *         loop; load state[top]; load state[link] (the link check: a link naming no free
 *         block while the head word is unchanged would be reported TARN_ECORRUPT; the
 *         model asserts that this never happens on a sound pool, else the head is
 *         reloaded and the loop retries); CAS head (top, tag) -> (state[top] masked,
 *         tag + 1) }; on an empty list, while carve < N: CAS carve (a failure reloads
 *         it; when others took the last blocks, the list is read once more); then the
 *         quarantine; store state[i] = USED.  A get that fails must have seen the list
 *         empty while carve was N (asserted: an empty result is exact).
 *         -DEMPTYBROKEN fails instead of reading the list again, which spin must find.
 *   put:  load head word; CAS state[i] USED -> top (the double-free claim);
 *         loop { CAS head (top, tag) -> (i, tag + 1); on failure store state[i] = the
 *         new top }.
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
 * When every process has finished, every block is free again and at most P were carved
 * (a get carves only after it found the list empty, so N - carve is the watermark).
 *
 * With Q > 0 the debug quarantine is on (TARN_F_QUARANTINE, a ring of Q slots):
 *   put:  CAS state[i] USED -> HELD (the claim); fetch-and-add the ring cursor; exchange
 *         i + 1 into that slot; if the exchange returned a block, that block is freed by
 *         the steps of an ordinary put (load head, store its link, counter, push loop).
 *   get:  on an empty list, exchange 0 into each slot from the cursor on; the first block
 *         found is handed out (state USED; the free counter is not touched: a held block
 *         was never counted free).
 *   Ghost: a block in a slot is held by the ring; inv() also checks that the slots hold
 *   distinct blocks, marked HELD, neither listed nor held by a process, and counts them in
 *   the conservation law.  -DQBROKEN splits put's exchange into a load and a store: two
 *   puts can then push out (and free) the same block, which spin must find.
 *
 * With -DLLSC the head is changed as on LL/SC machines (src/lfblock.c, TARN_LFBLOCK_LLSC):
 *   get:  loop { LL head; empty? fail; load state[top]; load state[link]; a bad link:
 *         SC head unchanged (success = false TARN_ECORRUPT, asserted never to happen),
 *         else SC head (top, tag) -> (state[top] masked, tag + 1); failure: retry }.
 *   put:  loop { LL head; top != the link state[i] holds: store state[i] = top, retry;
 *         else SC head -> (i, tag + 1); failure: retry }.
 *   An SC succeeds only if no process stored to the head since this process's LL, and
 *   may fail spuriously at any time.  Run with TAGMOD=1 (no tag at all): LL/SC alone must
 *   rule out ABA.  -DLLSC_BROKEN turns the SC into a plain store, which spin must catch.
 *
 * Parameters (spin -D...): N blocks (<= 3: MASK), P processes, ROUNDS get/put cycles per
 * process, TAGMOD = 2^(tag bits), Q quarantine slots (0 = off).  TAGMOD=1 is the broken variant without a tag: spin must
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
#ifndef Q
#define Q 0
#endif
#if Q > 0
#define QS Q
#else
#define QS 1
#endif
/* LL/SC (-DLLSC): `resv` has bit p set while process p holds a reservation on the head
 * word (from its LL); every store to the head clears every reservation, so an SC succeeds
 * only if nothing stored to the head since that process's LL.  An SC may also fail
 * spuriously (an exception, or a reservation lost for any other reason). */
#ifdef LLSC
#define LL atomic { ht = top; hg = tag; resv = resv | (1 << _pid) }
/* get's LL also notes C at that instant (ghost cv, for the exact-empty assertion) */
#define LLG atomic { ht = top; hg = tag; cv = carve; resv = resv | (1 << _pid) }
#ifdef LLSC_BROKEN
#define SCOK (1)    /* broken: the SC always stores (a plain store after a plain load) */
#else
#define SCOK ((resv & (1 << _pid)) != 0)
#endif
#define RELOAD skip
#define RELINK LLG
#define SPUR :: true -> skip
#else
#define LL atomic { ht = top; hg = tag }
#define LLG atomic { ht = top; hg = tag; cv = carve }
#define SCOK (top == ht && tag == hg)
#define RELOAD ht = top; hg = tag; cv = carve
#define RELINK skip
#define SPUR
#endif
#define MASK 3      /* index bits for N <= 3: floor(log2(N)) + 1 = 2 */
#define USED 255    /* state word of a handed-out block (all ones, as in C) */
#define HELD 254    /* state word of a block held in the quarantine */

byte top = N;       /* head word, index part: N = empty list */
byte tag = 0;       /* head word, tag part */
byte carve = 0;     /* blocks [carve, N) were never handed out */
byte state[N];      /* next index while free, USED while handed out */
byte holding[P] = N; /* ghost: block held by each process, N = none */
byte qslot[QS];     /* quarantine ring: index + 1 of a held block, 0 = empty */
byte qnext = 0;     /* ring cursor (kept modulo Q) */
byte done = 0;
byte resv = 0;      /* LLSC: reservations on the head word, one bit per process */

hidden byte w, L, H, k, seen;   /* scratch of inv(), reset after use */

inline inv()
{
    w = top; L = 0; seen = 0;
    do
    :: w < N ->
        assert(w < carve);                  /* only carved blocks are ever listed */
        assert((seen & (1 << w)) == 0);     /* no cycle: each block listed once */
        seen = seen | (1 << w);
        assert(state[w] != USED && state[w] != HELD); /* a listed block is free */
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
    k = 0;
    do
    :: k < QS && Q > 0 ->
        if
        :: qslot[k] > 0 ->
            assert(qslot[k] <= carve);      /* a carved block */
            assert(state[qslot[k] - 1] == HELD);
            assert((seen & (1 << (qslot[k] - 1))) == 0); /* in two places at once */
            seen = seen | (1 << (qslot[k] - 1));
            H++
        :: else -> skip
        fi;
        k++
    :: else -> break
    od;
    assert(L + (N - carve) + H == N);       /* conserved: none lost, none created */
    w = 0; L = 0; H = 0; k = 0; seen = 0
}

active [P] proctype worker()
{
    byte r = 0, c, cv, i, ht, hg, nx, sn, qs, out, qk;
    bool ok, published, fromq;

    do
    :: r < ROUNDS ->
        /* ---- get, step 0: the carve index, read before the list ---- */
        ok = false;
        fromq = false;
        c = carve;
pop:
        /* ---- get, step 1: pop the top of the free list ---- */
        LLG;                                /* (cv: ghost, C when the head was read) */
        do
        :: ht >= N -> break                 /* empty list: step 2 */
        :: else ->
            nx = state[ht];
            /* the link check (checking level >= 1): a link naming neither the end of
             * the list nor a free block is damage only if the head is unchanged;
             * on a sound pool that must never happen (else: reload and retry) */
            if
            :: nx < N -> sn = state[nx]
            :: else -> sn = 0
            fi;
            if
            :: nx > N || (nx < N && sn >= HELD) ->
                /* C11: reload the head and compare; LL/SC: store the head back
                 * unchanged, which succeeds only if nobody stored to it since the LL */
                atomic {
                    if
                    :: SCOK -> assert(false) /* false TARN_ECORRUPT */
                    SPUR
                    :: else -> RELOAD
                    fi
                };
                RELINK
            :: else ->
                atomic {
                    if
                    :: SCOK ->
                        top = nx & MASK; tag = (hg + 1) % TAGMOD; resv = 0;
                        i = ht; ok = true; holding[_pid] = i; inv()
                    SPUR
                    :: else -> RELOAD
                    fi
                };
                if
                :: ok -> break
                :: else -> RELINK
                fi
            fi
        od;
        /* ---- get, step 2: the list was empty: a never-used block while any remain ---- */
        if
        :: !ok && c < N ->
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
#ifndef EMPTYBROKEN
            if
            :: !ok -> goto pop              /* the last blocks went to others: C == N now */
            :: else -> skip
            fi
#else
            skip                            /* broken: fail without a second look */
#endif
        :: else -> skip
        fi;
        /* the list empty and nothing to carve: take a held block, oldest first */
        if
        :: !ok && Q > 0 ->
            qs = qnext; qk = 0;
            do
            :: qk < QS ->
                atomic {
                    out = qslot[(qs + qk) % QS]; qslot[(qs + qk) % QS] = 0;
                    if
                    :: out > 0 -> i = out - 1; ok = true; fromq = true; holding[_pid] = i
                    :: else -> skip
                    fi;
                    inv()
                };
                if
                :: ok -> break
                :: else -> qk++
                fi
            :: else -> break
            od
        :: else -> skip
        fi;
        /* a get that fails saw the list empty while nothing was left to carve */
        assert(ok || cv == N);
        cv = 0; c = 0;                      /* (scratch: not part of the state any more) */
        if
        :: ok ->
            /* ---- get, step 3 ---- */
            atomic { state[i] = USED; inv() };
            /* ---- put ---- */
            atomic { ht = top; hg = tag };
            if
            :: Q > 0 ->
                atomic {
                    if
                    :: state[i] == USED -> state[i] = HELD; inv()
                    :: else -> assert(false) /* the owner's own put is never refused */
                    fi
                };
                atomic { qs = qnext; qnext = (qnext + 1) % QS };
#ifdef QBROKEN
                out = qslot[qs];            /* broken: load and store, not one exchange */
#endif
                atomic {
#ifndef QBROKEN
                    out = qslot[qs];
#endif
                    qslot[qs] = i + 1;
                    if
                    :: out > 0 -> holding[_pid] = out - 1   /* pushed out: ours to free */
                    :: else -> holding[_pid] = N
                    fi;
                    inv()
                };
                if
                :: out > 0 ->
                    i = out - 1;
                    atomic { ht = top; hg = tag };
                    atomic { state[i] = ht; inv() }
                :: else -> goto next_round
                fi
            :: else ->
                atomic {
                    if
                    :: state[i] == USED -> state[i] = ht; inv()
                    :: else -> assert(false) /* the owner's own put is never refused */
                    fi
                }
            fi;
            published = false;
#ifdef LLSC
            /* LL; a top other than the link: relink outside the pair and retry; else SC */
            nx = ht;                        /* the link state[i] holds */
            do
            :: LL;
               if
               :: ht != nx -> nx = ht; atomic { state[i] = ht; inv() }
               :: else ->
                   atomic {
                       if
                       :: SCOK ->
                           top = i; tag = (hg + 1) % TAGMOD; resv = 0;
                           holding[_pid] = N; published = true; inv()
                       SPUR
                       :: else -> skip
                       fi
                   };
                   if
                   :: published -> break
                   :: else -> skip
                   fi
               fi
            od
#else
            do
            :: atomic {
                   if
                   :: top == ht && tag == hg ->
                       top = i; tag = (hg + 1) % TAGMOD; resv = 0;
                       holding[_pid] = N; published = true; inv()
                   :: else -> ht = top; hg = tag
                   fi
               };
               if
               :: published -> break
               :: else -> atomic { state[i] = ht; inv() }
               fi
            od
#endif
        :: else -> skip
        fi;
next_round:
        r++
    :: else -> break
    od;
    done++
}

/* When every process is done, the pool is whole again: every block is listed, never
 * carved or held in the ring (what the statistics count as free is exact), and the
 * watermark N - carve is at most the blocks ever out at once (P, one per process). */
active proctype final()
{
    byte c, f;
    done == P;
    atomic {
        inv();
        c = 0; k = 0;
        do
        :: k < QS && Q > 0 -> c = c + (qslot[k] > 0 -> 1 : 0); k++
        :: else -> break
        od;
        f = 0; w = top;
        do
        :: w < N -> f++; w = state[w] & MASK
        :: else -> break
        od;
        assert(f + (N - carve) + c == N);   /* held blocks are the only ones not free */
        assert(carve <= P);                 /* carved only when the list was empty */
        assert(holding[0] == N)
    }
}
