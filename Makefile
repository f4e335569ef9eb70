# corridor: one Makefile for the library, the binary, tests, benchmarks and fuzzers.
#
#   make                          build build/corridor (release, assertions on)
#   make test                     install missing Debian packages, build, run every test
#   make test T=ledger_create     run one test suite (Criterion --filter 'T/*')
#   make SANITIZE=address,undefined test   the same tests under ASan and UBSan
#   make bench                    build the benchmarks (they are corridor subcommands)
#   make bench-xborder            two real nodes on loopback: cross-border throughput, latency
#   make demo                     build and run the two-country demo until Ctrl-C
#   make fuzz                     build the libFuzzer harnesses with clang
#   make fuzz-ci                  build them and run each one for a short time
#   make check                    house rules (line length, banned functions, FIXME)
#   make format                   clang-format every C file

comma := ,
SANITIZE ?=
ifeq ($(SANITIZE),)
BUILD := build
SAN_FLAGS :=
else
BUILD := build/san-$(subst $(comma),-,$(SANITIZE))
SAN_FLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all -DCOR_DEBUG
endif

CC ?= cc
PKGS := libsodium jansson libxml-2.0 libmicrohttpd libcurl libpq inih libcrypto
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN := -std=c17 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes \
        -Wmissing-prototypes -Wvla -Wformat=2
OPT ?= -O2 -g
ifeq ($(DEBUG),1)
OPT += -DCOR_DEBUG
endif
CPPFLAGS_ALL := -D_GNU_SOURCE -Iinclude -Isrc
CFLAGS_ALL = $(WARN) $(OPT) $(SAN_FLAGS) $(CPPFLAGS_ALL) $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
LDLIBS_ALL = $(SAN_FLAGS) $(PKG_LIBS) -lpthread -lm $(LDFLAGS)

LIB_SRC := $(sort $(wildcard src/common/*.c src/ledger/*.c src/journal/*.c src/iso20022/*.c \
                              src/http/*.c src/node/*.c src/corridor/*.c src/bench/*.c))
CLI_SRC := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*/*.c tests/sim/*.c))
TEST_HELPER_SRC := $(sort $(wildcard tests/support/*.c))

LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/obj/%.o) $(TEST_HELPER_SRC:%.c=$(BUILD)/obj/%.o)

LIB := $(BUILD)/libcorridor.a
BIN := $(BUILD)/corridor
TEST_BIN := $(BUILD)/tests/corridor_tests

.PHONY: all deps test bench bench-ledger bench-xborder fuzz fuzz-ci check format clean demo

all: $(BIN)

deps:
	@sh scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@echo "  CC $<"
	@$(CC) $(CFLAGS_ALL) -c $< -o $@

$(LIB): $(LIB_OBJ)
	@mkdir -p $(dir $@)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJ) $(LIB)
	$(CC) $(CLI_OBJ) $(LIB) $(LDLIBS_ALL) -o $@

$(TEST_BIN): $(TEST_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(TEST_OBJ) $(LIB) $(LDLIBS_ALL) -lcriterion -o $@

# Tests run from the repository root so fixtures resolve as tests/data/... and ../shared/...
T ?=
TEST_FILTER := $(if $(T),--filter '$(T)/*',)
test: deps
	@$(MAKE) --no-print-directory $(BIN) $(TEST_BIN)
	COR_BIN=$(abspath $(BIN)) $(TEST_BIN) --jobs 2 $(TEST_FILTER)

bench: $(BIN)

FUZZ_SRC := $(sort $(wildcard fuzz/*.c))
FUZZ_BIN := $(FUZZ_SRC:fuzz/%.c=build/fuzz/%)
FUZZ_LIB_SRC := $(filter-out src/bench/%,$(LIB_SRC))
FUZZ_FLAGS := -std=c17 -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DCOR_DEBUG \
              -Iinclude -Isrc

fuzz: deps $(FUZZ_BIN)

build/fuzz/%: fuzz/%.c $(FUZZ_LIB_SRC)
	@mkdir -p $(dir $@)
	clang $(FUZZ_FLAGS) $(PKG_CFLAGS) $< $(FUZZ_LIB_SRC) $(PKG_LIBS) -lpthread -lm -o $@

FUZZ_SECONDS ?= 20
fuzz-ci: fuzz
	@for f in $(FUZZ_BIN); do \
	    name=$$(basename $$f); \
	    mkdir -p build/fuzz/corpus-$$name; \
	    seeds=fuzz/seeds/$$name; [ -d $$seeds ] || seeds=; \
	    echo "fuzz: $$name for $(FUZZ_SECONDS)s"; \
	    $$f -max_total_time=$(FUZZ_SECONDS) -max_len=65536 -print_final_stats=0 \
	        build/fuzz/corpus-$$name $$seeds 2>build/fuzz/$$name.log || \
	        { tail -n 40 build/fuzz/$$name.log; exit 1; }; \
	done

check:
	@sh scripts/check.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# The README's main command: installs missing packages, builds, runs the two-country demo
# until Ctrl-C (DEMO_FLAGS passes options, e.g. DEMO_FLAGS='--duration 30 --rate 200').
DEMO_FLAGS ?=
demo: deps
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) demo $(DEMO_FLAGS)

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

BENCH_ACCOUNTS ?= 1000000
BENCH_TRANSFERS ?= 10000000
bench-ledger: deps
	@$(MAKE) --no-print-directory $(BIN)
	$(BIN) bench ledger --accounts $(BENCH_ACCOUNTS) --transfers $(BENCH_TRANSFERS) \
	    --batch 8189 --distribution uniform

# Two real nodes (RU, IR) on loopback; knobs are COR_XB_* variables (bench/xborder_bench.sh).
bench-xborder: deps
	@$(MAKE) --no-print-directory $(BIN)
	sh bench/xborder_bench.sh $(BIN)
