# sluice — build, test, bench, demo.
#   make          build build/sluice (optimised, -Werror)
#   make demo     install what is missing, build, run examples/users.yaml
#   make test     unit tests (plain and ASan+UBSan) and end-to-end tests
#   make test-load  the whole suite 3 times in a row with CPU hogs beside it
#   make bench    benchmarks that print figures beside reference figures
CC      ?= cc
PKGS    := yaml-0.1 sqlite3 rdkafka liblz4 libzstd zlib snappy openssl
WARN    := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers -Wshadow -Wstrict-prototypes
DEFS    := -D_GNU_SOURCE
CFLAGS_RELEASE := -O2 -g $(WARN) $(DEFS) -Isrc -pthread
CFLAGS_ASAN    := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined $(WARN) $(DEFS) -Isrc -pthread
LIBS    = $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lyaml -lsqlite3 -lrdkafka -llz4 -lzstd -lz -lsnappy -lssl -lcrypto) -lm -pthread

# EXCLUDE: sources to leave out of a build (e.g. a module being written).
SRC      := $(filter-out $(EXCLUDE),$(shell find src -name '*.c' ! -path 'src/cli/main.c' | sort))
MAIN_SRC := src/cli/main.c
UNIT_SRC := $(sort $(wildcard tests/unit/*_test.c))

OBJ       := $(SRC:%.c=build/obj/%.o)
ASAN_OBJ  := $(SRC:%.c=build/asan/%.o)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=build/test/%)
UNIT_ASAN := $(UNIT_SRC:tests/unit/%.c=build/test-asan/%)

.PHONY: all demo test test-load unit unit-asan e2e bench clean deps
all: build/sluice

deps:
	@bash scripts/deps.sh build

build/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_RELEASE) -MMD -MP -c $< -o $@

build/asan/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS_ASAN) -MMD -MP -c $< -o $@

build/libsluice.a: $(OBJ)
	@rm -f $@
	ar rcs $@ $^

build/libsluice-asan.a: $(ASAN_OBJ)
	@rm -f $@
	ar rcs $@ $^

build/sluice: build/obj/src/cli/main.o build/libsluice.a
	$(CC) -o $@ $^ $(LIBS)

build/sluice-asan: build/asan/src/cli/main.o build/libsluice-asan.a
	$(CC) -fsanitize=address,undefined -o $@ $^ $(LIBS)

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
	.venv/bin/pytest -q tests/e2e -p no:cacheprovider

demo:
	@bash scripts/deps.sh build
	@$(MAKE) --no-print-directory build/sluice
	./build/sluice run examples/users.yaml

test:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory build/sluice build/sluice-asan $(UNIT_BIN) $(UNIT_ASAN)
	@bash scripts/run-tests.sh

test-load:
	@bash scripts/load.sh 3

bench:
	@bash scripts/deps.sh test
	@$(MAKE) --no-print-directory build/sluice
	@bash bench/run.sh

clean:
	rm -rf build

-include $(shell find build -name '*.d' 2>/dev/null)
