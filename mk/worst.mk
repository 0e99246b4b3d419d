# mk/worst.mk - exact per-call instruction counts (tools/icount/README.md):
#   make icount            the icount Valgrind tool, built against Debian's valgrind package
#                          (its headers and static libraries), into $(BUILD)/icount/, which
#                          is also the VALGRIND_LIB folder to run it from (links to
#                          valgrind's own libexec files sit beside the tool)
#   make icount-check      the tool's self-test under the tool (a loop of known length), and
#                          one call counted by the tool and by callgrind, compared
#   make bench-heap-worst  bench/heap_worst.c (gcc -O3, as bench/heap) run under the tool:
#                          the most instructions one heap call takes, per arena size, for
#                          tarn's heap and the TLSF-style reference; BENCH_ARGS are passed
# None of these is part of `make test`.  amd64 Linux only.

worst_mk_goal_ := $(.DEFAULT_GOAL)

.PHONY: icount icount-check bench-heap-worst

# Where Debian's valgrind package keeps the tool headers, the static libraries and the
# files the launcher loads (override for another layout).
VG_INCDIR  ?= /usr/include/valgrind
VG_LIBDIR  ?= $(firstword $(wildcard /usr/lib/x86_64-linux-gnu/valgrind /usr/lib64/valgrind /usr/lib/valgrind))
VG_EXECDIR ?= $(firstword $(wildcard /usr/libexec/valgrind /usr/lib/x86_64-linux-gnu/valgrind /usr/lib/valgrind))

icount_dir_   := $(BUILD)/icount
icount_tool_  := $(icount_dir_)/icount-amd64-linux
icount_run_    = VALGRIND_LIB=$(icount_dir_) valgrind -q --tool=icount
icount_cflags_ = -O2 -g -std=gnu99 -Wall -Wextra -Werror -fno-stack-protector -fno-builtin \
                 -fno-strict-aliasing -fno-pie -isystem $(VG_INCDIR) -DVGA_amd64=1 -DVGO_linux=1 \
                 -DVGP_amd64_linux=1 -DVGPV_amd64_linux_vanilla=1

icount: $(icount_tool_)

$(icount_tool_): tools/icount/icount.c tools/icount/icount.h mk/worst.mk
	@test -f $(VG_LIBDIR)/libcoregrind-amd64-linux.a || { echo "icount: no libcoregrind-amd64-linux.a in '$(VG_LIBDIR)' (Debian: apt-get install valgrind; or set VG_LIBDIR)"; exit 1; }
	@test -f $(VG_INCDIR)/pub_tool_tooliface.h || { echo "icount: no Valgrind tool headers in '$(VG_INCDIR)' (set VG_INCDIR)"; exit 1; }
	@mkdir -p $(icount_dir_)
	@for f in $(VG_EXECDIR)/*; do case $$f in *-amd64-linux|*-x86-linux) ;; *) ln -sf $$f $(icount_dir_)/ ;; esac; done
	gcc $(icount_cflags_) -c tools/icount/icount.c -o $(icount_dir_)/icount.o
	gcc -o $@ $(icount_dir_)/icount.o -static -nodefaultlibs -nostartfiles -u _start \
	  -Wl,-Ttext-segment=0x58000000 -Wl,--build-id=none \
	  $(VG_LIBDIR)/libcoregrind-amd64-linux.a $(VG_LIBDIR)/libvex-amd64-linux.a \
	  $(VG_LIBDIR)/libgcc-sup-amd64-linux.a -lgcc

$(icount_dir_)/selftest: tools/icount/selftest.c tools/icount/icount.h
	@mkdir -p $(icount_dir_)
	gcc -O2 -g -std=gnu11 -Wall -Wextra -Wpedantic -Werror tools/icount/selftest.c -o $@

# The self-test must pass under the tool; then probe() is counted by callgrind too: the
# tool's figure is callgrind's inclusive count plus the call site (argument move, call,
# result store: 1 to 4 instructions), which callgrind gives to the caller.
icount-check: $(icount_tool_) $(icount_dir_)/selftest
	@$(icount_run_) $(icount_dir_)/selftest > $(icount_dir_)/selftest.out; s=$$?; \
	 cat $(icount_dir_)/selftest.out; test $$s -eq 0
	@valgrind -q --tool=callgrind --callgrind-out-file=$(icount_dir_)/selftest.cg \
	  $(icount_dir_)/selftest >/dev/null 2>&1; \
	 ic=$$(awk '/^probe:/{print $$2}' $(icount_dir_)/selftest.out); \
	 cg=$$(callgrind_annotate --inclusive=yes $(icount_dir_)/selftest.cg | \
	   awk '/:probe \[/{gsub(",","",$$1); print $$1; exit}'); \
	 echo "probe(): icount $$ic, callgrind inclusive $$cg"; \
	 test -n "$$ic" && test -n "$$cg" && test $$((ic - cg)) -ge 1 && test $$((ic - cg)) -le 4 || \
	   { echo "icount-check: the two counts differ by more than the call site"; exit 1; }
	@echo "icount-check: ok"

bench-heap-worst: icount-check
	$(CMAKE) -S . -B $(BUILD)/bench -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_COMPILER=gcc -DTARN_BUILD_BENCH=ON \
	  "-DCMAKE_C_FLAGS=-DTARN_SANITIZE=0" >/dev/null
	$(CMAKE) --build $(BUILD)/bench -j$(JOBS) --target bench_heap_worst
	$(icount_run_) $(BUILD)/bench/bench_heap_worst $(BENCH_ARGS)

.DEFAULT_GOAL := $(worst_mk_goal_)
