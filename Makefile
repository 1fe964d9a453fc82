# Yubin build. `make` builds build/yubind and build/yubinctl.
# `make SAN=1` builds the ASan+UBSan variant into build-san/.
CC      ?= cc
PKGS    := libevent libevent_openssl libevent_pthreads openssl sqlite3 libpq libsodium libcares libmaxminddb libpsl zlib
SAN     ?= 0
ifeq ($(SAN),1)
BUILD   ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT     := -O1 -g
else
BUILD   ?= build
SANFLAGS :=
OPT     := -O2 -g
endif

WARN    := -Wall -Wextra -Wshadow -Wformat=2 -Wmissing-prototypes -Wstrict-prototypes \
           -Wno-unused-parameter -Wno-format-truncation -Werror
CFLAGS  += -std=gnu17 $(OPT) $(WARN) $(SANFLAGS) -D_GNU_SOURCE -Isrc -MMD -MP \
           $(shell pkg-config --cflags $(PKGS))
LDLIBS  += $(shell pkg-config --libs $(PKGS)) -lcrypt -lpthread -lm
LDFLAGS += $(SANFLAGS)

LIB_DIRS := src/lib src/mail src/spam src/sieve src/proto src/store src/directory src/policy src/settings src/ops src/http
LIB_SRC  := $(foreach d,$(LIB_DIRS),$(wildcard $(d)/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
SRV_SRC  := $(wildcard src/server/*.c)
SRV_OBJ  := $(SRV_SRC:%.c=$(BUILD)/%.o)
CTL_SRC  := $(wildcard src/ctl/*.c)
CTL_OBJ  := $(CTL_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)

.PHONY: all clean test unit-test integration-test san-test deps run check-layers bench fuzz fuzz-replay web
all: $(BUILD)/yubind $(BUILD)/yubinctl web

# The panels' and the webmail's static files (scripts/build-web.sh) always
# go to build/web, whichever build directory the binaries use; esbuild is
# Debian's (deps.sh build). npm's packages (package-lock.json: DOMPurify,
# bundled into the webmail, and playwright-core for the browser tests) come
# with `make node-modules` (npm ci), which the web build depends on.
WEB_SRC := web/index.html web/app.css web/favicon.svg $(wildcard web/src/*.js web/src/*/*.js) \
	web/mail/index.html web/mail/app.css $(wildcard web/mail/src/*.js web/mail/src/*/*.js)
web: build/web/index.html

build/web/index.html: $(WEB_SRC) scripts/build-web.sh node_modules/.package-lock.json
	@sh scripts/build-web.sh build/web

.PHONY: node-modules
node-modules: node_modules/.package-lock.json

node_modules/.package-lock.json: package.json package-lock.json
	@command -v npm >/dev/null || { echo "make: npm is missing (scripts/deps.sh test installs it)" >&2; exit 1; }
	npm ci --loglevel=error

$(BUILD)/libyubin.a: $(LIB_OBJ)
	@mkdir -p $(@D)
	ar rcs $@ $^

$(BUILD)/yubind: $(SRV_OBJ) $(BUILD)/libyubin.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/yubinctl: $(CTL_OBJ) $(BUILD)/libyubin.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# the API's description is assembled into the daemon (.incbin)
$(BUILD)/src/http/api_openapi.o: src/http/openapi.json

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libyubin.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libyubin.a $(LDLIBS) -lcmocka

.PHONY: unit-bins
unit-bins: $(UNIT_BIN) $(BUILD)/tests/sieve_run

# the Sieve engine's driver for the differential tests (tests/sieve/)
$(BUILD)/tests/sieve_run: tests/sieve/sieve_run.c $(BUILD)/libyubin.a
	@mkdir -p $(@D)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(BUILD)/libyubin.a $(LDLIBS)

# Runs every test: dependencies, layer check, unit tests, integration tests,
# then the whole suite again under ASan+UBSan.
test:
	@sh scripts/deps.sh test
	@sh scripts/test.sh

unit-test: $(UNIT_BIN)
	@sh scripts/run-unit.sh $(BUILD)

check-layers:
	@sh scripts/check-layers.sh

# make test replays every committed fuzz input once (fuzz-replay); make fuzz
# fuzzes each target (tests/fuzz/run.sh lists them) for FUZZ_SECONDS (build-fuzz/).
FUZZ_SECONDS ?= 60
fuzz:
	@sh tests/fuzz/run.sh $(FUZZ_SECONDS)

fuzz-replay:
	@sh tests/fuzz/run.sh --replay

deps:
	@sh scripts/deps.sh build

run:
	@sh scripts/deps.sh build
	@$(MAKE) --no-print-directory all
	@sh scripts/run.sh

clean:
	rm -rf build build-san build-fuzz

-include $(LIB_OBJ:.o=.d) $(SRV_OBJ:.o=.d) $(CTL_OBJ:.o=.d) $(UNIT_BIN:=.d)
