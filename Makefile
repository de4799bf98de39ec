# SPDX-License-Identifier: GPL-2.0
# toolwatch: eBPF monitor of tool executions. `make help` lists the targets.

VERSION     ?= 0.1.0
OUTPUT      := build
ARCH        := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VMLINUX     := vmlinux/$(ARCH)/vmlinux.h

CC          ?= cc
CLANG       ?= clang
# BPF objects: clang 16 emits the BTF type tags that mark a referenced kernel pointer (__kptr)
BPF_CLANG   ?= clang-16
BPFTOOL     ?= bpftool
PKG_CONFIG  ?= pkg-config

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS        := libbpf libmicrohttpd
CFLAGS      ?= -O2 -g
WARN        := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wstrict-prototypes \
               -Wno-unused-parameter
ALL_CFLAGS  := $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE -DTOOLWATCH_VERSION='"$(VERSION)"' \
               -I$(OUTPUT) -Ibpf -Iuser -Iexporter \
               $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null) $(EXTRA_CFLAGS)
LDLIBS      := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null || echo -lbpf -lmicrohttpd) \
               -lelf -lz -lyaml -lgnutls -lcrypt -lpcre2-8 -lcurl -ljansson -lpthread -lm
# Unit tests cover the pure modules: they link without libbpf, libmicrohttpd and libelf,
# so a pure module that starts calling into them fails to link its tests. protobuf-c:
# the tests decode the agent's protobuf pages with it (the agent writes them itself).
UNIT_LDLIBS := -lz -lyaml -lpcre2-8 -ljansson -lprotobuf-c -lpthread -lm
BPF_CFLAGS  := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) -Wall -Werror \
               -Ivmlinux/$(ARCH) -Ibpf -I$(OUTPUT)

# One object per probe family (bpf/*.bpf.c), linked into BPF_OBJ for one skeleton.
# state.bpf.c, which defines what the others declare extern, goes first: libbpf 1.1's
# linker gets a shared map's BTF offset wrong when an extern declaration precedes it.
BPF_SRCS    := bpf/state.bpf.c $(filter-out bpf/state.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_OBJS    := $(patsubst bpf/%.bpf.c,$(OUTPUT)/bpf/%.bpf.o,$(BPF_SRCS))
BPF_HDRS    := $(wildcard bpf/*.h bpf/lib/*.h)
BPF_OBJ     := $(OUTPUT)/toolwatch.bpf.o
SKEL        := $(OUTPUT)/toolwatch.skel.h
# The benchmark's floor (tests/bench/): empty programs, their own object and skeleton.
FLOOR_OBJ   := $(OUTPUT)/floor.bpf.o
SKELS       := $(SKEL) $(OUTPUT)/floor.skel.h

# user/ is one folder per concern (user/<concern>/*.c; includes name the folder:
# "lib/strbuf.h"). Every user-space source except main.c goes into one archive: unit tests
# link it and pull in only the (pure) objects they reference. ar keeps members by base
# name, so no two sources may share one (checked below).
LIB_SRCS    := $(wildcard user/*/*.c exporter/*.c)
ifneq ($(words $(notdir $(LIB_SRCS))),$(words $(sort $(notdir $(LIB_SRCS)))))
$(error two sources in user/ or exporter/ share a file name; ar would keep only one)
endif
# Protobuf schemas (exporter/*.proto): protoc-c generates $(OUTPUT)/<dir>/<name>.pb-c.[ch]
# at build time; their objects go into the archive, and the sources that include a
# generated header wait for it.
PROTOS      := $(wildcard exporter/*.proto)
PB_SRCS     := $(patsubst %.proto,$(OUTPUT)/%.pb-c.c,$(PROTOS))
PB_HDRS     := $(patsubst %.proto,$(OUTPUT)/%.pb-c.h,$(PROTOS))
PB_OBJS     := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(PB_SRCS))
PB_USERS    := $(patsubst %.c,$(OUTPUT)/obj/%.o,\
               $(shell grep -l '\.pb-c\.h"' $(LIB_SRCS) 2>/dev/null))
LIB_OBJS    := $(patsubst %.c,$(OUTPUT)/obj/%.o,$(LIB_SRCS)) $(PB_OBJS)
MAIN_OBJ    := $(OUTPUT)/obj/user/main.o
# Only the objects that include the agent's skeleton wait for it (and rebuild with it).
SKEL_OBJS   := $(patsubst %.c,$(OUTPUT)/obj/%.o,\
               $(shell grep -l '"toolwatch.skel.h"' $(LIB_SRCS) user/main.c 2>/dev/null))
LIB         := $(OUTPUT)/libtoolwatch.a
BIN         := $(OUTPUT)/toolwatch

UNIT_SRCS   := $(wildcard tests/unit/test_*.c)
UNIT_BINS   := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(UNIT_SRCS))
HELPER_SRCS := $(wildcard tests/integration/helpers/*.c)
HELPER_BINS := $(patsubst tests/integration/helpers/%.c,$(OUTPUT)/helpers/%,$(HELPER_SRCS))

# libFuzzer targets: each tests/fuzz/fuzz_NAME.c is one (seeds in tests/fuzz/corpus/NAME/).
FUZZ_SRCS   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BINS   := $(patsubst tests/fuzz/%.c,$(OUTPUT)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -O1 -g -fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all

FORMAT_SRCS := $(wildcard bpf/*.c bpf/*.h bpf/lib/*.h user/*.c user/*/*.c user/*/*.h \
                         exporter/*.c exporter/*.h \
                         tests/unit/*.c tests/unit/*.h tests/unit/data/*.c tests/fuzz/*.[ch] \
                         tests/integration/helpers/*.c tests/integration/*.c tests/bench/*.c)
FORMAT_SRCS += $(wildcard tests/integration/preload/*.c)

.DELETE_ON_ERROR:
.PHONY: all deps deps-test deps-bench deps-image run test test-unit test-integration test-asan bench vmlinux clean help format \
	format-check fuzz fuzz-build image prometheusrule deploy-check docs-check anomaly-eval

all: $(BIN)

help:
	@echo 'targets:'
	@echo '  deps              install what building and running need (apt-get, idempotent)'
	@echo '  deps-test         deps + what the tests need (make test runs it; deps-bench,'
	@echo '                    deps-image likewise for make bench and make image)'
	@echo '  all (default)     build build/toolwatch'
	@echo '  run               deps + build + run the agent on its defaults (root)'
	@echo '  test              deps-test + build + unit, deploy, docs and integration tests (root)'
	@echo '  test-unit         cmocka unit tests only (no root needed)'
	@echo '  test-integration  root integration tests against the real agent (RAW_TP=1: on the'
	@echo '                    raw-tracepoint fallback; INTEGRATION_ARGS="-k NAME ...")'
	@echo '  deploy-check      schema, promtool and static checks of deploy/ (npm, promtool)'
	@echo '  docs-check        flags, metrics, links and runbooks in the docs equal the code'
	@echo '  test-asan         unit and integration tests built with ASan/UBSan'
	@echo '  fuzz              libFuzzer targets, FUZZ_SECONDS (20) each, ASan/UBSan (clang)'
	@echo '  bench             overhead/capacity/freshness benchmark (QUICK=1: short run;'
	@echo '                    BASE=<git ref>: that commit built too, before/after in one table)'
	@echo '  anomaly-eval      detector quality on the NAB corpus (NAB_DIR=../shared/nab; not a gate)'
	@echo '  vmlinux           regenerate $(VMLINUX) from /sys/kernel/btf/vmlinux'
	@echo '  format            apply .clang-format'
	@echo '  format-check      fail if a file differs from .clang-format (no changes)'
	@echo '  image             build the image toolwatch:$(VERSION) (deploy/Dockerfile; no registry)'
	@echo '  prometheusrule    regenerate deploy/kubernetes/base/prometheusrule.yaml from alerts.yml'
	@echo '  clean             remove build/'
	@echo 'variables: V=1 (show commands), QUICK=1 BASE=<ref> BENCH_ARGS=... (bench), CI=true (skips fail)'

# Debian 12 packages, by what needs them; each deps target is quick when all are present.
# deps: building and running the agent (what `make run` installs).
RUN_PKGS   := clang-16 libbpf-dev bpftool libelf-dev zlib1g-dev libmicrohttpd-dev pkg-config \
              make gcc libc6-dev libyaml-dev libgnutls28-dev libcrypt-dev libpcre2-dev \
              libcurl4-gnutls-dev libjansson-dev libprotobuf-c-dev protobuf-c-compiler
# deps-test: unit, integration, deploy and fuzz tests (the integration suite builds and runs
# the image, scrapes with Prometheus and compares with process-exporter and execsnoop; protoc
# and python3-protobuf decode the protobuf exposition independently of the encoder), and
# npm for the deploy schema check (Debian's nodejs and npm where no npm is installed), and
# kubectl for rendering deploy/kubernetes' kustomizations (Debian's kubernetes-client where
# no kubectl is installed: a kubectl package of another origin owns the same file).
TEST_PKGS  := $(RUN_PKGS) libcmocka-dev python3 python3-yaml curl openssl clang clang-format \
              libclang-rt-14-dev prometheus prometheus-process-exporter libbpf-tools stress-ng \
              docker.io debootstrap protobuf-compiler python3-protobuf
# deps-bench: the benchmark's peers and load
BENCH_PKGS := $(RUN_PKGS) python3 prometheus prometheus-process-exporter libbpf-tools bpftrace \
              stress-ng
# deps-image: the DaemonSet's image (deploy/image.sh)
IMAGE_PKGS := docker.io debootstrap

# $(call apt_install,PACKAGES): apt-get installs those not installed yet (root only).
define apt_install
	$(Q)missing=$$(for p in $(1); do \
		dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; \
	done); \
	if [ -n "$$missing" ]; then \
		echo "deps: installing:" $$missing; \
		if [ "$$(id -u)" != 0 ]; then echo "deps: must run as root to apt-get install" >&2; exit 1; fi; \
		export DEBIAN_FRONTEND=noninteractive; \
		apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	else echo "deps: all present"; fi
endef

deps:
	$(call apt_install,$(sort $(RUN_PKGS)))
deps-test:
	$(call apt_install,$(sort $(TEST_PKGS)))
	$(Q)command -v npm >/dev/null || { echo "deps: installing: nodejs npm"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		nodejs npm >/dev/null; }
	$(Q)command -v kubectl >/dev/null || { echo "deps: installing: kubernetes-client"; \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
		kubernetes-client >/dev/null; }
deps-bench:
	$(call apt_install,$(sort $(BENCH_PKGS)))
deps-image:
	$(call apt_install,$(sort $(IMAGE_PKGS)))

$(OUTPUT) $(OUTPUT)/bpf $(OUTPUT)/tests $(OUTPUT)/helpers:
	$(Q)mkdir -p $@

# Static pattern rules: BPF objects and skeletons are real targets, never deleted as
# intermediates (a deleted skeleton would rebuild the loader on the next make).
$(BPF_OBJS): $(OUTPUT)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(VMLINUX) | $(OUTPUT)/bpf
	$(call msg,BPF,$@)
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

# libbpf's static linker: each extern resolves to its one definition, and the objects'
# .maps, .rodata, .bss and .data merge into one of each (the skeleton's fields).
$(BPF_OBJ): $(BPF_OBJS)
	$(call msg,BPF-LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(FLOOR_OBJ): $(OUTPUT)/%.bpf.o: tests/bench/%.bpf.c $(VMLINUX) | $(OUTPUT)
	$(call msg,BPF,$@)
	$(Q)$(BPF_CLANG) $(BPF_CFLAGS) -c $< -o $@

$(SKELS): $(OUTPUT)/%.skel.h: $(OUTPUT)/%.bpf.o
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

# Header dependencies come from the -MMD .d files after the first build; the skeleton is
# generated, so its users name it here to wait for it on a clean (parallel) build.
$(OUTPUT)/obj/%.o: %.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

$(SKEL_OBJS): $(SKEL)

# protoc-c writes both files of a schema at once (a grouped pattern rule)
$(OUTPUT)/%.pb-c.c $(OUTPUT)/%.pb-c.h: %.proto
	$(call msg,PROTOC,$@)
	$(Q)mkdir -p $(OUTPUT)
	$(Q)protoc-c --c_out=$(OUTPUT) $<

$(PB_USERS): $(PB_HDRS)
.SECONDARY: $(PB_SRCS) $(PB_HDRS)

# toolwatch_build_info's labels (only exposition_self.o sees them)
REVISION    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
BRANCH      ?= $(shell git rev-parse --abbrev-ref HEAD 2>/dev/null || echo unknown)
$(OUTPUT)/obj/exporter/exposition_self.o: ALL_CFLAGS += -DTOOLWATCH_REVISION='"$(REVISION)"' \
	-DTOOLWATCH_BRANCH='"$(BRANCH)"' \
	-DTOOLWATCH_LIBBPF='"$(shell $(PKG_CONFIG) --modversion libbpf 2>/dev/null || echo unknown)"'

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BIN): $(MAIN_OBJ) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The benchmark's floor: empty programs on the agent's tracepoints (tests/bench/).
$(OUTPUT)/floor: tests/bench/floor.c $(OUTPUT)/floor.skel.h
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(LDLIBS) -o $@

# The naming rules' cost per execution (tests/bench/).
$(OUTPUT)/bench_rules: tests/bench/bench_rules.c $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(LIB) $(UNIT_LDLIBS) -o $@

# The Kubernetes API client driven without the agent (tests/integration/test_kube.py).
$(OUTPUT)/kube_probe: tests/integration/kube_probe.c $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS) $< $(LIB) $(LDLIBS) -o $@

$(OUTPUT)/tests/test_%: tests/unit/test_%.c $(LIB) | $(OUTPUT)/tests
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -MMD -MP $(shell $(PKG_CONFIG) --cflags cmocka 2>/dev/null) $< $(LIB) \
		$(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null || echo -lcmocka) $(UNIT_LDLIBS) -o $@

$(OUTPUT)/helpers/%: tests/integration/helpers/%.c | $(OUTPUT)/helpers
	$(call msg,CC,$@)
	$(Q)$(CC) -O2 -Wall -Wextra -Werror -D_GNU_SOURCE $(if $(filter static_%,$*),-static) \
		$< -o $@ -lpthread

run: deps
	$(Q)$(MAKE) --no-print-directory all
	./$(BIN) agent $(ARGS)

test: deps-test
	$(Q)$(MAKE) --no-print-directory all
	$(Q)$(MAKE) --no-print-directory test-unit docs-check deploy-check test-integration

test-unit: $(UNIT_BINS)
	$(Q)tests/run_unit.sh $(UNIT_BINS)

test-integration: $(BIN) $(HELPER_BINS) $(OUTPUT)/kube_probe
	$(Q)python3 tests/integration/run.py --bin $(BIN) --helpers $(OUTPUT)/helpers \
		$(if $(RAW_TP),--raw-tp) $(INTEGRATION_ARGS)

# Separate output tree so sanitizer objects never mix with the normal build.
test-asan: deps-test
	$(Q)$(MAKE) --no-print-directory OUTPUT=build-asan \
		CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' all test-unit
	$(Q)ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		$(MAKE) --no-print-directory OUTPUT=build-asan \
		CFLAGS='-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all' \
		LDFLAGS='-fsanitize=address,undefined' test-integration

$(OUTPUT)/fuzz/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz.h $(LIB)
	$(call msg,FUZZ-LD,$@)
	$(Q)mkdir -p $(OUTPUT)/fuzz
	$(Q)$(CC) $(ALL_CFLAGS) -Itests/fuzz -fsanitize=fuzzer $< $(LIB) $(UNIT_LDLIBS) -o $@

fuzz-build: $(FUZZ_BINS)

# Its own output tree and compiler: clang's libFuzzer with ASan/UBSan over the pure modules.
fuzz: deps-test
	$(Q)$(MAKE) --no-print-directory OUTPUT=build-fuzz CC=$(CLANG) CFLAGS='$(FUZZ_CFLAGS)' \
		LDFLAGS='-fsanitize=address,undefined' fuzz-build
	$(Q)FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh $(patsubst $(OUTPUT)/%,build-fuzz/%,$(FUZZ_BINS))

# BASE=<git ref>: that commit's agent, built in a temporary git worktree into its own output
# tree, runs alternately with this one ("base" beside "agent": before and after in one table)
BENCH_BASE := $(OUTPUT)/bench-base
bench: deps-bench
	$(Q)$(MAKE) --no-print-directory all $(HELPER_BINS) $(OUTPUT)/floor $(OUTPUT)/bench_rules
	$(if $(BASE),$(Q)tests/bench/build_base.sh '$(BASE)' $(BENCH_BASE))
	$(Q)python3 tests/bench/bench.py --bin $(BIN) --helpers $(OUTPUT)/helpers \
		--out $(OUTPUT)/bench.json $(if $(QUICK),--quick) \
		$(if $(BASE),--base-bin $(BENCH_BASE)/toolwatch --base-name '$(BASE)') $(BENCH_ARGS)

# Detector quality on the Numenta Anomaly Benchmark: `toolwatch backtest` over every series,
# NAB's standard profile, NAB's results format under build/nab-results (docs/backtest.md).
# The detector settings the score is obtained with (not all the agent's defaults: see there);
# ANOMALY_EVAL_FLAGS= (empty) scores the agent's defaults; NAB_SCORER=<NAB checkout> runs NAB's
# own scorer on the results too.
NAB_DIR            ?= ../shared/nab
ANOMALY_EVAL_FLAGS ?= --anomaly.min-windows=288 --anomaly.seasonal \
	--anomaly.seasonal-min-windows=96 --anomaly.outlier-sigmas=6 --anomaly.outlier-spike-sigmas=6 \
	--anomaly.outlier-beyond-range --anomaly.keep-firing-for=12h --anomaly.relearn-after=6h \
	--anomaly.relearn-min-windows=48 --anomaly.outlier-log-offset=0.2
anomaly-eval: $(BIN)
	$(Q)python3 tests/anomaly/nab_eval.py --bin $(BIN) --nab $(NAB_DIR) --quiet \
		--out $(OUTPUT)/anomaly-eval.json --results $(OUTPUT)/nab-results \
		$(if $(NAB_SCORER),--nab-scorer $(NAB_SCORER)) -- $(ANOMALY_EVAL_FLAGS)

vmlinux:
	$(Q)mkdir -p vmlinux/$(ARCH)
	$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $(VMLINUX)

format:
	clang-format -i $(FORMAT_SRCS)

format-check:
	clang-format --dry-run --Werror $(FORMAT_SRCS)

clean:
	rm -rf $(OUTPUT) build-asan build-fuzz tests/deploy/node_modules

# The DaemonSet's image, built from source inside Debian 12 (DOCKER=..., BASE_IMAGE=...).
image: deps-image
	$(Q)deploy/image.sh toolwatch:$(VERSION) $(VERSION)

prometheusrule:
	$(Q)python3 deploy/gen-prometheusrule.py

# deploy/: every kustomization rendered by `kubectl kustomize` (Debian's kubernetes-client)
# as `kubectl apply -k` would apply it, strict schema validation of every Kubernetes object
# (npm kubernetes-models, installed into tests/deploy/node_modules, then offline), promtool's
# rule unit tests and the static checks (PrometheusRule drift, annotations, dashboard,
# least privilege).
KUSTOMIZATIONS := base overlays/kube-prometheus-stack overlays/exec-failed
DEPLOY_NPM := tests/deploy/node_modules/.installed
$(DEPLOY_NPM): tests/deploy/package.json
	$(call msg,NPM,tests/deploy)
	$(Q)cd tests/deploy && npm install --no-audit --no-fund --no-package-lock --loglevel=error
	$(Q)touch $@

deploy-check: $(DEPLOY_NPM)
	$(Q)mkdir -p $(OUTPUT)/deploy
	$(Q)for k in $(KUSTOMIZATIONS); do \
		kubectl kustomize deploy/kubernetes/$$k > $(OUTPUT)/deploy/$$(echo $$k | tr / -).yaml \
			|| { echo "kubectl kustomize deploy/kubernetes/$$k failed" >&2; exit 1; }; \
	done
	$(Q)node tests/deploy/validate.mjs \
		$(patsubst %,$(OUTPUT)/deploy/%.yaml,$(subst /,-,$(KUSTOMIZATIONS)))
	$(Q)node tests/deploy/selftest.mjs
	$(Q)promtool check rules deploy/prometheus/alerts.yml
	$(Q)promtool test rules deploy/prometheus/alerts_test.yml
	$(Q)promtool check rules deploy/prometheus/recording.yml
	$(Q)promtool test rules deploy/prometheus/recording_test.yml
	$(Q)python3 tests/deploy/check_deploy.py

# docs/: every flag of --help and every metric family the code can export is documented,
# and nothing documented is missing from the code; relative links, anchors and runbook URLs
# resolve; no project history in user docs.
docs-check: $(BIN)
	$(Q)python3 tests/docs/check_docs.py --bin $(BIN) --strict

-include $(wildcard $(OUTPUT)/obj/*/*.d $(OUTPUT)/obj/*/*/*.d $(OUTPUT)/tests/*.d)
