# sluice — build, test, bench, demo. `make help` prints the lines below.
#   make             build build/sluice (optimised, -Werror)
#   make demo        install what is missing, build, run examples/users.yaml
#   make test        unit tests (plain and ASan+UBSan) and end-to-end tests
#   make unit        the unit tests only (make unit-asan: under ASan+UBSan)
#   make e2e         the end-to-end tests only, against build/sluice
#   make test-load   the whole suite 3 times in a row with CPU hogs beside it
#   make bench       benchmarks that print figures beside reference figures
#   make fuzz        each libFuzzer target in tests/fuzz for FUZZ_SECONDS (clang)
#   make tsan        the threaded unit tests and one pipeline under ThreadSanitizer
#   make fuzz-build  build the fuzz targets only (make tsan-build: the TSan ones)
#   make docs        regenerate docs/connectors.md from the settings tables
#   make deps        install the build dependencies that are missing
#   make clean       remove build/
#   make help        this list
#   make V=1 ...     print each command in full, not one short line per step
#   make -jN ...     N jobs at once (default: one per core)
CC      ?= cc

# One job per core by default, as if -j$(nproc) were given: only in the
# top-level make (sub-makes share its job slots) and not when the command
# line says -j itself, or asks for clean, which must not race a build.
ifeq ($(MAKELEVEL),0)
ifeq ($(filter -j%,$(MAKEFLAGS))$(filter clean,$(MAKECMDGOALS)),)
MAKEFLAGS += -j$(shell nproc 2>/dev/null || echo 1)
endif
endif

# Kbuild's convention: a short line per step ("  CC       src/core/json.c"),
# the full commands with V=1, neither with -s.
ifeq ($(V),1)
Q   :=
SAY := @true
else ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
Q   := @
SAY := @true
else
Q   := @
SAY := @printf '  %-8s %s\n'
endif

PKGS    := yaml-0.1 sqlite3 rdkafka liblz4 libzstd zlib snappy openssl libmicrohttpd libpq libcurl libpcre2-8 libmurmurhash libxxhash
WARN    := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wstrict-prototypes
DEFS    := -D_GNU_SOURCE $(shell pkg-config --cflags libpq 2>/dev/null || echo -I/usr/include/postgresql)
CFLAGS_RELEASE := -O2 -g $(WARN) $(DEFS) -Isrc -pthread
CFLAGS_ASAN    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined $(WARN) $(DEFS) -Isrc -pthread
# The fuzz build is clang's (libFuzzer), in its own dir so it never mixes
# with gcc objects; the TSan build is gcc's, in build/tsan/.
FUZZ_CC ?= clang
CFLAGS_FUZZ := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined $(WARN) $(DEFS) -Isrc -pthread
CFLAGS_TSAN := -O1 -g -fno-omit-frame-pointer -fsanitize=thread $(WARN) $(DEFS) -Isrc -pthread
FUZZ_SECONDS ?= 60
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lyaml -lsqlite3 -lrdkafka -llz4 -lzstd -lz -lsnappy -lssl -lcrypto -lmicrohttpd -lpq -lcurl -lpcre2-8 -lmurmurhash -lxxhash) -lm -pthread

# EXCLUDE: sources to leave out of a build (e.g. a module being written).
SRC      := $(filter-out $(EXCLUDE),$(shell find src -name '*.c' ! -path 'src/cli/main.c' | sort))
MAIN_SRC := src/cli/main.c
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# Unit tests that start threads: the ones run under ThreadSanitizer.
TSAN_UNIT := runtime_test sql_test log_test plan_test generator_test scheduler_test supervisor_test histogram_test pipeline_metrics_test alerts_sender_test auth_test

# The web UI (ui/*) compiled into the binary: scripts/ui_embed.c turns the
# files into a table in a generated C file, rebuilt when a file of ui/
# changes (or one is added or removed: the folder itself is a prerequisite).
UI_FILES := $(sort $(wildcard ui/*))
UI_GEN   := build/gen/ui_assets.c
SRC      += $(UI_GEN)

OBJ       := $(SRC:%.c=build/obj/%.o)
ASAN_OBJ  := $(SRC:%.c=build/asan/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/test/%)
UNIT_ASAN := $(UNIT_SRC:tests/unit/%.c=build/test-asan/%)
FUZZ_OBJ  := $(SRC:%.c=build/fuzz/obj/%.o)
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
TSAN_OBJ  := $(SRC:%.c=build/tsan/obj/%.o)
TSAN_BIN  := $(TSAN_UNIT:%=build/tsan/test/%)
# The helpers every unit test links (tests/unit/test_util.h), per build.
TEST_UTIL      := build/obj/tests/unit/test_util.o
TEST_UTIL_ASAN := build/asan/tests/unit/test_util.o
TEST_UTIL_TSAN := build/tsan/obj/tests/unit/test_util.o
# Kept between builds (make deletes what only pattern rules ask for).
.SECONDARY: $(TEST_UTIL) $(TEST_UTIL_ASAN) $(TEST_UTIL_TSAN)

# What `make demo` prints last: how to look at what it stored (the README
# shows the same query; tests/e2e/test_make.py checks that they agree).
DEMO_CONFIG := examples/users.yaml
DEMO_QUERY  := sqlite3 data/users.db 'SELECT first_name, last_name, city FROM created_users LIMIT 5'
DEMO_TOPIC  := build/sluice topic describe user_data

.PHONY: all help demo test test-load unit unit-asan e2e bench clean deps fuzz fuzz-build tsan tsan-build docs
all: build/sluice
	@echo "build/sluice is built; make demo runs an example, make help lists the targets"

help:
	@sed -n 's/^#   //p' Makefile

deps:
	@bash scripts/deps.sh build

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(SAY) CC $<
	$(Q)$(CC) $(CFLAGS_RELEASE) -MMD -MP -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(SAY) CC-ASAN $<
	$(Q)$(CC) $(CFLAGS_ASAN) -MMD -MP -c $< -o $@

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(SAY) CC-FUZZ $<
	$(Q)$(FUZZ_CC) $(CFLAGS_FUZZ) -MMD -MP -c $< -o $@

build/tsan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(SAY) CC-TSAN $<
	$(Q)$(CC) $(CFLAGS_TSAN) -MMD -MP -c $< -o $@

build/ui_embed: scripts/ui_embed.c
	@mkdir -p $(dir $@)
	$(SAY) CCLD $@
	$(Q)$(CC) -O2 $(WARN) -o $@ $<

$(UI_GEN): build/ui_embed $(UI_FILES) ui
	@mkdir -p $(dir $@)
	$(SAY) GEN $@
	$(Q)build/ui_embed $@ $(UI_FILES)

build/libsluice.a: $(OBJ)
	$(SAY) AR $@
	@rm -f $@
	$(Q)ar rcs $@ $^

build/libsluice-asan.a: $(ASAN_OBJ)
	$(SAY) AR $@
	@rm -f $@
	$(Q)ar rcs $@ $^

build/fuzz/libsluice.a: $(FUZZ_OBJ)
	$(SAY) AR $@
	@rm -f $@
	$(Q)ar rcs $@ $^

build/tsan/libsluice.a: $(TSAN_OBJ)
	$(SAY) AR $@
	@rm -f $@
	$(Q)ar rcs $@ $^

build/sluice: build/obj/src/cli/main.o build/libsluice.a
	$(SAY) LD $@
	$(Q)$(CC) -o $@ $^ $(LIBS)

build/sluice-asan: build/asan/src/cli/main.o build/libsluice-asan.a
	$(SAY) LD $@
	$(Q)$(CC) -fsanitize=address,undefined -o $@ $^ $(LIBS)

build/sluice-tsan: build/tsan/obj/src/cli/main.o build/tsan/libsluice.a
	$(SAY) LD $@
	$(Q)$(CC) -fsanitize=thread -o $@ $^ $(LIBS)

build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h build/fuzz/libsluice.a
	@mkdir -p $(dir $@)
	$(SAY) CCLD $@
	$(Q)$(FUZZ_CC) $(subst fuzzer-no-link,fuzzer,$(CFLAGS_FUZZ)) -Itests/fuzz -o $@ $< build/fuzz/libsluice.a $(LIBS)

build/tsan/test/%: tests/unit/%.c tests/tsan/criterion_arena.c $(TEST_UTIL_TSAN) build/tsan/libsluice.a
	@mkdir -p $(dir $@)
	$(SAY) CCLD $@
	$(Q)$(CC) $(CFLAGS_TSAN) -Itests/unit -o $@ $< tests/tsan/criterion_arena.c $(TEST_UTIL_TSAN) build/tsan/libsluice.a -lcriterion $(LIBS)

build/test/%: tests/unit/%.c $(TEST_UTIL) build/libsluice.a
	@mkdir -p $(dir $@)
	$(SAY) CCLD $@
	$(Q)$(CC) $(CFLAGS_RELEASE) -Itests/unit -o $@ $< $(TEST_UTIL) build/libsluice.a -lcriterion $(LIBS)

build/test-asan/%: tests/unit/%.c $(TEST_UTIL_ASAN) build/libsluice-asan.a
	@mkdir -p $(dir $@)
	$(SAY) CCLD $@
	$(Q)$(CC) $(CFLAGS_ASAN) -Itests/unit -o $@ $< $(TEST_UTIL_ASAN) build/libsluice-asan.a -lcriterion $(LIBS)

# The recipes below run scripts, which may run make themselves (load.sh
# runs `make test`, a test builds build/libsluice.a): MAKEFLAGS= MAKELEVEL=
# hands them a plain environment, so such a make is a top-level one
# again instead of one cut off from this make's job slots.
unit: $(UNIT_BIN)
	@bash scripts/run-unit.sh build/test $(UNIT_BIN)

unit-asan: $(UNIT_ASAN)
	@bash scripts/run-unit.sh build/test-asan $(UNIT_ASAN)

e2e: build/sluice build/sluice-asan
	@bash scripts/deps.sh test
	@MAKEFLAGS= MAKELEVEL= .venv/bin/pytest -q tests/e2e -p no:cacheprovider --ignore=tests/e2e/test_tsan.py

# The summary `sluice run` prints, then how to look at the result. The
# summary goes to the terminal whichever stream sluice writes it on.
demo:
	@bash scripts/deps.sh build
	@$(MAKE) --no-print-directory build/sluice
	$(SAY) RUN "build/sluice run $(DEMO_CONFIG)"
	$(Q)./build/sluice run $(DEMO_CONFIG)
	@printf '\nLook at the result:\n  %s\n  %s\n' "$(DEMO_QUERY)" "$(DEMO_TOPIC)"

test:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory build/sluice build/sluice-asan $(UNIT_BIN) $(UNIT_ASAN) $(FUZZ_BIN) \
	    build/sluice-tsan $(TSAN_BIN)
	@MAKEFLAGS= MAKELEVEL= bash scripts/run-tests.sh

test-load:
	@MAKEFLAGS= MAKELEVEL= bash scripts/load.sh 3

fuzz-build: $(FUZZ_BIN)

# FUZZ_SECONDS per target; FUZZ_TARGETS="fuzz_json fuzz_sql" picks some.
fuzz:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory fuzz-build
	@bash scripts/run-fuzz.sh $(FUZZ_SECONDS) $(FUZZ_TARGETS)

tsan-build: build/sluice-tsan $(TSAN_BIN)

tsan:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory tsan-build
	@MAKEFLAGS= MAKELEVEL= bash scripts/run-tsan.sh

bench:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory build/sluice build/scheduler_bench build/api_bench build/nexmark_bench
	@bash bench/run.sh

build/scheduler_bench: bench/scheduler_bench.c build/libsluice.a
	$(SAY) LD $@
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $< build/libsluice.a $(LIBS)

build/nexmark_bench: bench/nexmark_bench.c build/libsluice.a
	$(SAY) LD $@
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $< build/libsluice.a $(LIBS)

build/api_bench: bench/api_bench.c
	@mkdir -p build
	$(SAY) LD $@
	$(Q)$(CC) $(CFLAGS_RELEASE) -o $@ $< $(LIBS)

# The reference of every setting, from the tables the config is checked
# against (tests/e2e/test_connectors.py fails when the file is stale).
docs: build/sluice
	$(SAY) GEN docs/connectors.md
	$(Q)./build/sluice connectors --format markdown > docs/connectors.md

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
