# mk/package.mk - packaging and API documentation.
#   make test-consumers   build and run one tiny consumer project per way of using tarn
#                         (copied files, add_subdirectory, find_package after install,
#                         pkg-config, Zephyr module, ESP-IDF component, PlatformIO) and
#                         check the manifests and version numbers (tests/consumers/run.sh,
#                         tools/check_manifests.py); part of `make test`
#   make check-manifests  only the manifest and version checks (needs python3)
#   make test-docs-gate   prove that docs/Doxyfile fails on an undocumented symbol (fails
#                         without doxygen); part of `make test`
#   make docs             API reference in $(BUILD)/docs/html with Doxygen; any warning (an
#                         undocumented public symbol, a broken doc comment) fails, and
#                         every problem is then listed as file:line (docs/api-docs.md)
# Each uses its own directory under $(BUILD).

# Defining rules here must not change the Makefile's default goal.
package_mk_goal_ := $(.DEFAULT_GOAL)

DOXYGEN ?= doxygen
PYTHON3 ?= python3
TARN_DOCS_HEADERS = $(sort $(wildcard include/tarn/*.h compat/*/*.h))
TARN_PKG_VERSION = $(shell sed -n 's/^\#define TARN_VERSION_\(MAJOR\|MINOR\|PATCH\) \([0-9]*\).*/\2/p' include/tarn/tarn.h | paste -sd. -)
TARN_DOCS_ENV = TARN_DOCS_OUT=$(BUILD)/docs TARN_DOCS_INPUT="$(TARN_DOCS_HEADERS)" TARN_VERSION=$(TARN_PKG_VERSION)

.PHONY: test-consumers check-manifests test-docs-gate docs

test-consumers:
	JOBS=$(JOBS) CMAKE=$(CMAKE) PYTHON=$(PYTHON3) tests/consumers/run.sh $(BUILD)/consumers

check-manifests:
	$(PYTHON3) tools/check_manifests.py

test-docs-gate:
	DOXYGEN=$(DOXYGEN) docs/test-doxygen-gate.sh $(BUILD)/docs-gate

docs:
	@command -v $(DOXYGEN) >/dev/null 2>&1 || \
	  { echo "docs: $(DOXYGEN) is not installed (Debian: apt-get install doxygen)" >&2; exit 1; }
	@rm -rf $(BUILD)/docs && mkdir -p $(BUILD)/docs
	@if $(TARN_DOCS_ENV) $(DOXYGEN) docs/Doxyfile 2>$(BUILD)/docs/first-error.txt; then \
	  echo "docs: $(BUILD)/docs/html/index.html (tarn $(TARN_PKG_VERSION), no warnings)"; \
	else \
	  ( cat docs/Doxyfile; echo "WARN_AS_ERROR = FAIL_ON_WARNINGS" ) | \
	    $(TARN_DOCS_ENV) $(DOXYGEN) - >/dev/null 2>$(BUILD)/docs/warnings.txt || true; \
	  sed 's|^$(CURDIR)/||' $(BUILD)/docs/warnings.txt | sort -t: -k1,1 -k2,2n -s >&2; \
	  echo "docs: FAILED: $$(grep -c ': error: ' $(BUILD)/docs/warnings.txt) problem(s), listed above" \
	       "(also in $(BUILD)/docs/warnings.txt; see docs/api-docs.md)" >&2; \
	  exit 1; \
	fi

.DEFAULT_GOAL := $(package_mk_goal_)

TEST_EXTRA += test-consumers test-docs-gate docs
