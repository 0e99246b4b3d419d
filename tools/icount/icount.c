/*
 * tools/icount/icount.c - "icount", a minimal Valgrind tool: it counts every guest
 * instruction the program executes and answers one client request (ICOUNT_READ() in
 * icount.h) with the running count, so a program can read the exact number of
 * instructions a single call took: read, call, read, subtract.
 *
 * Method: each instruction of the guest code starts with an IMark statement in VEX's IR.
 * The instrumenter counts the IMarks of a superblock and adds the count to one 64-bit
 * counter, in inline IR (load, add, store: no helper call), at each side exit (before the
 * exit, counting the instructions up to and including the one that exits) and at the end
 * of the superblock.  So every executed instruction is added exactly once, and an
 * instruction executed repeatedly by the CPU (each iteration of a rep-prefixed string
 * instruction) is counted once per iteration, as callgrind counts it.  A client request
 * ends its superblock, so the count it returns includes every instruction before it.
 *
 * Built against the headers and static libraries of Debian's valgrind package (see
 * README.md and mk/worst.mk); not part of the library.
 */
#include "pub_tool_basics.h"
#include "pub_tool_libcassert.h"
#include "pub_tool_libcprint.h"
#include "pub_tool_options.h"
#include "pub_tool_tooliface.h"
#define ICOUNT_TOOL 1
#include "icount.h"

static ULong ic_count;   /* guest instructions executed so far */

/* Add n to ic_count in IR appended to sb. */
static void ic_add(IRSB *sb, ULong n)
{
    IRTemp t1, t2;
    IRExpr *at;
    if (n == 0) return;
    t1 = newIRTemp(sb->tyenv, Ity_I64);
    t2 = newIRTemp(sb->tyenv, Ity_I64);
    at = mkIRExpr_HWord((HWord)&ic_count);
    addStmtToIRSB(sb, IRStmt_WrTmp(t1, IRExpr_Load(Iend_LE, Ity_I64, at)));
    addStmtToIRSB(sb, IRStmt_WrTmp(t2, IRExpr_Binop(Iop_Add64, IRExpr_RdTmp(t1),
                                                     IRExpr_Const(IRConst_U64(n)))));
    addStmtToIRSB(sb, IRStmt_Store(Iend_LE, mkIRExpr_HWord((HWord)&ic_count),
                                   IRExpr_RdTmp(t2)));
}

static IRSB *ic_instrument(VgCallbackClosure *closure, IRSB *in, const VexGuestLayout *layout,
                           const VexGuestExtents *vge, const VexArchInfo *arch,
                           IRType gwt, IRType hwt)
{
    IRSB *out;
    ULong pending = 0;   /* instructions seen since the last add */
    Int i;
    (void)closure; (void)layout; (void)vge; (void)arch;
    if (gwt != hwt) VG_(tool_panic)("icount: host and guest word sizes differ");
    out = deepCopyIRSBExceptStmts(in);
    for (i = 0; i < in->stmts_used; i++) {
        IRStmt *st = in->stmts[i];
        if (st == NULL) continue;
        if (st->tag == Ist_IMark) pending++;
        if (st->tag == Ist_Exit) {
            ic_add(out, pending);
            pending = 0;
        }
        addStmtToIRSB(out, st);
    }
    ic_add(out, pending);   /* the fall-through end of the superblock */
    return out;
}

static Bool ic_client_request(ThreadId tid, UWord *arg, UWord *ret)
{
    (void)tid;
    if (arg[0] != ICOUNT_REQ_READ) return False;
    *ret = (UWord)ic_count;
    return True;
}

static void ic_post_clo_init(void)
{
    /* Superblocks must not chase across branches: with chasing on, VEX 3.19 may merge
     * both arms of a short conditional branch into one superblock, and then an IMark no
     * longer means that its instruction ran (a two-instruction loop run twice counted 2
     * instead of 4).  Callgrind turns chasing off for the same reason. */
    VG_(clo_vex_control).guest_chase = False;
}

static void ic_fini(Int exitcode)
{
    (void)exitcode;
    VG_(umsg)("icount: %llu guest instructions\n", ic_count);
}

static void ic_pre_clo_init(void)
{
    VG_(details_name)("icount");
    VG_(details_version)(NULL);
    VG_(details_description)("counts guest instructions; ICOUNT_READ() returns the count");
    VG_(details_copyright_author)("part of the tarn benchmarks");
    VG_(details_bug_reports_to)("the tarn project");
    VG_(basic_tool_funcs)(ic_post_clo_init, ic_instrument, ic_fini);
    VG_(needs_client_requests)(ic_client_request);
}

VG_DETERMINE_INTERFACE_VERSION(ic_pre_clo_init)
