# sluice — build, test, bench, demo.
#   make          build build/sluice (optimised, -Werror)
#   make demo     install what is missing, build, run examples/users.yaml
#   make test     unit tests (plain and ASan+UBSan) and end-to-end tests
#   make test-load  the whole suite 3 times in a row with CPU hogs beside it
#   make bench    benchmarks that print figures beside reference figures
#   make fuzz     each libFuzzer target in tests/fuzz for FUZZ_SECONDS (clang)
#   make tsan     the threaded unit tests and one pipeline under ThreadSanitizer
#   make docs     regenerate docs/connectors.md from the settings tables
CC      ?= cc
PKGS    := yaml-0.1 sqlite3 rdkafka liblz4 libzstd zlib snappy openssl
WARN    := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wstrict-prototypes
DEFS    := -D_GNU_SOURCE
CFLAGS_RELEASE := -O2 -g $(WARN) $(DEFS) -Isrc -pthread
CFLAGS_ASAN    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined $(WARN) $(DEFS) -Isrc -pthread
# The fuzz build is clang's (libFuzzer), in its own dir so it never mixes
# with gcc objects; the TSan build is gcc's, in build/tsan/.
FUZZ_CC ?= clang
CFLAGS_FUZZ := -O1 -g -fno-omit-frame-pointer -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined $(WARN) $(DEFS) -Isrc -pthread
CFLAGS_TSAN := -O1 -g -fno-omit-frame-pointer -fsanitize=thread $(WARN) $(DEFS) -Isrc -pthread
FUZZ_SECONDS ?= 60
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lyaml -lsqlite3 -lrdkafka -llz4 -lzstd -lz -lsnappy -lssl -lcrypto) -lm -pthread

# EXCLUDE: sources to leave out of a build (e.g. a module being written).
SRC      := $(filter-out $(EXCLUDE),$(shell find src -name '*.c' ! -path 'src/cli/main.c' | sort))
MAIN_SRC := src/cli/main.c
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))
# Unit tests that start threads: the ones run under ThreadSanitizer.
TSAN_UNIT := runtime_test sql_test log_test plan_test generator_test

OBJ       := $(SRC:%.c=build/obj/%.o)
ASAN_OBJ  := $(SRC:%.c=build/asan/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/test/%)
UNIT_ASAN := $(UNIT_SRC:tests/unit/%.c=build/test-asan/%)
FUZZ_OBJ  := $(SRC:%.c=build/fuzz/obj/%.o)
FUZZ_BIN  := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
TSAN_OBJ  := $(SRC:%.c=build/tsan/obj/%.o)
TSAN_BIN  := $(TSAN_UNIT:%=build/tsan/test/%)

.PHONY: all demo test test-load unit unit-asan e2e bench clean deps fuzz fuzz-build tsan tsan-build docs
all: build/sluice

deps:
	@bash scripts/deps.sh build

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_RELEASE) -MMD -MP -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ASAN) -MMD -MP -c $< -o $@

build/fuzz/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CFLAGS_FUZZ) -MMD -MP -c $< -o $@

build/tsan/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TSAN) -MMD -MP -c $< -o $@

build/libsluice.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

build/libsluice-asan.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/fuzz/libsluice.a: $(FUZZ_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/tsan/libsluice.a: $(TSAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/sluice: build/obj/src/cli/main.o build/libsluice.a
	$(CC) -o $@ $^ $(LIBS)

build/sluice-asan: build/asan/src/cli/main.o build/libsluice-asan.a
	$(CC) -fsanitize=address,undefined -o $@ $^ $(LIBS)

build/sluice-tsan: build/tsan/obj/src/cli/main.o build/tsan/libsluice.a
	$(CC) -fsanitize=thread -o $@ $^ $(LIBS)

build/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h build/fuzz/libsluice.a
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(subst fuzzer-no-link,fuzzer,$(CFLAGS_FUZZ)) -Itests/fuzz -o $@ $< build/fuzz/libsluice.a $(LIBS)

build/tsan/test/%: tests/unit/%.c tests/tsan/criterion_arena.c build/tsan/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_TSAN) -Itests/unit -o $@ $< tests/tsan/criterion_arena.c build/tsan/libsluice.a -lcriterion $(LIBS)

build/test/%: tests/unit/%.c build/libsluice.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_RELEASE) -Itests/unit -o $@ $< build/libsluice.a -lcriterion $(LIBS)

build/test-asan/%: tests/unit/%.c build/libsluice-asan.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ASAN) -Itests/unit -o $@ $< build/libsluice-asan.a -lcriterion $(LIBS)

unit: $(UNIT_BIN)
	@bash scripts/run-unit.sh build/test $(UNIT_BIN)

unit-asan: $(UNIT_ASAN)
	@bash scripts/run-unit.sh build/test-asan $(UNIT_ASAN)

e2e: build/sluice build/sluice-asan
	@bash scripts/deps.sh test
	.venv/bin/pytest -q tests/e2e -p no:cacheprovider --ignore=tests/e2e/test_tsan.py

demo:
	@bash scripts/deps.sh build
	@$(MAKE) --no-print-directory build/sluice
	./build/sluice run examples/users.yaml

test:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory build/sluice build/sluice-asan $(UNIT_BIN) $(UNIT_ASAN) $(FUZZ_BIN) \
	    build/sluice-tsan $(TSAN_BIN)
	@bash scripts/run-tests.sh

test-load:
	@bash scripts/load.sh 3

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
	@bash scripts/run-tsan.sh

bench:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory build/sluice
	@bash bench/run.sh

# The reference of every setting, from the tables the config is checked
# against (tests/e2e/test_connectors.py fails when the file is stale).
docs: build/sluice
	./build/sluice connectors --format markdown > docs/connectors.md

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
