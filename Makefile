# tenant_guard: build, test, demo and benchmark the nginx module.
#
#   make deps    install the missing Debian packages (as root; idempotent)
#   make build   build/ngx_http_tenant_guard_module.so
#                (NGINX_SRC=tree-or-tar.gz: an nginx of that version and the
#                module against it, in build/nginx-VERSION/; see README.md,
#                "Other nginx versions")
#   make test    the whole suite (prove -r t/) against that module
#   make asan    the module with AddressSanitizer, and the suite run on it
#   make run     the demo on 127.0.0.1:8080 (DEMO_PORT, DEMO_ONESHOT=1)
#   make bench   wrk: plain proxy vs guarded proxy (BENCH_SECONDS, BENCH_WORKERS)
#   make bench-ir  callgrind: instructions per request, repeatable (bench/ir)
#   make unit    the engine's C unit tests (ASan, UBSan)
#   make fuzz    the engine's libFuzzer targets, FUZZ_SECONDS each
#   make install the module and its load_module file, Debian's paths (DESTDIR)
#   make deb     build/deb/libnginx-mod-http-tenant-guard_<version>_<arch>.deb
#   make package-test  the deb's contents, and nginx -t loading it (~20 s)
#   make clean

SHELL := /bin/bash

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
BUILD := $(TOP)/build
MODULE := $(BUILD)/ngx_http_tenant_guard_module.so
ASAN_MODULE := $(BUILD)/asan/ngx_http_tenant_guard_module.so

PROVE ?= prove
PROVE_JOBS ?= 2
TESTS ?= t/

# Another nginx: NGINX_SRC names its source (a tree or a .tar.gz of one);
# "make build" then builds that nginx and the module against it in
# build/nginx-VERSION/ (tools/build-nginx), and test, run and bench use that
# pair unless TG_NGINX / TG_MODULE say otherwise.
NGINX_SRC ?=
ifneq ($(NGINX_SRC),)
NGINX_SRC_VERSION := $(shell $(TOP)/tools/build-nginx --version $(NGINX_SRC))
ifeq ($(NGINX_SRC_VERSION),)
$(error NGINX_SRC=$(NGINX_SRC): no nginx version found there)
endif
NGINX_BUILD := $(BUILD)/nginx-$(NGINX_SRC_VERSION)
MODULE := $(NGINX_BUILD)/ngx_http_tenant_guard_module.so
TG_NGINX ?= $(NGINX_BUILD)/sbin/nginx
DEB_PACKAGES_NGINX_SRC := libpcre2-dev zlib1g-dev
endif

# The nginx binary the suite, the demo and the bench run (default: the
# distro's /usr/sbin/nginx).
ifneq ($(TG_NGINX),)
override TG_NGINX := $(abspath $(TG_NGINX))
export TG_NGINX
endif

# The harness loads the module named by TG_MODULE; an absolute path, since
# the tests run nginx with their own prefix.
TG_MODULE ?= $(MODULE)
override TG_MODULE := $(abspath $(TG_MODULE))
export TG_MODULE

# Debian 12 packages the build, the suite, the demo and the bench need.
# libjson-pp-perl is only a newer JSON::PP (perl has one in core): it is
# installed when the archive has it and skipped otherwise.  gcc ships its
# own libasan, so "make asan" needs nothing more.  libyaml-libyaml-perl
# and yamllint: t/096-kubernetes.t reads and lints deploy/kubernetes/.
DEB_PACKAGES := nginx nginx-dev libjansson-dev libhiredis-dev libssl-dev \
                libutf8proc-dev \
                redis-server wrk libcrypt-jwt-perl libtest-base-perl \
                libyaml-libyaml-perl yamllint libio-socket-ssl-perl openssl \
                curl gcc make $(DEB_PACKAGES_NGINX_SRC)
DEB_OPTIONAL := libjson-pp-perl

.PHONY: all deps build test asan run bench bench-ir unit fuzz install deb \
        package-test clean

all: build

deps:
	@set -euo pipefail; \
	installed() { \
	    [ "$$(dpkg-query -W -f='$${db:Status-Status}' "$$1" 2>/dev/null)" \
	        = installed ]; \
	}; \
	missing=""; \
	for p in $(DEB_PACKAGES); do \
	    installed "$$p" || missing="$$missing $$p"; \
	done; \
	optional=""; \
	for p in $(DEB_OPTIONAL); do \
	    installed "$$p" || optional="$$optional $$p"; \
	done; \
	if [ -n "$$missing$$optional" ]; then \
	    if [ "$$(id -u)" != 0 ]; then \
	        echo "deps: missing:$$missing$$optional; run \"make deps\" as root" >&2; \
	        [ -z "$$missing" ] || exit 1; \
	    else \
	        export DEBIAN_FRONTEND=noninteractive; \
	        apt-get update -q; \
	        for p in $$optional; do \
	            if apt-cache show "$$p" >/dev/null 2>&1; then \
	                missing="$$missing $$p"; \
	            else \
	                echo "deps: $$p is not in the archive, skipped"; \
	            fi; \
	        done; \
	        if [ -n "$$missing" ]; then \
	            echo "deps: installing$$missing"; \
	            apt-get install -y -q --no-install-recommends $$missing; \
	        fi; \
	    fi; \
	fi

# tools/build-module is incremental (it reconfigures only when config or the
# flags change, and nginx's make rebuilds only what changed), so it is always
# called.
build: deps
ifneq ($(NGINX_SRC),)
	$(TOP)/tools/build-nginx $(NGINX_SRC) $(NGINX_BUILD)
else
	$(TOP)/tools/build-module $(BUILD)
endif

test: build
	cd $(TOP) && $(PROVE) -r -j$(PROVE_JOBS) $(TESTS)

# The suite against the module built with AddressSanitizer: nginx itself is
# not instrumented, so the harness preloads gcc's libasan into it
# (TG_MODULE_PRELOAD; the harness also sets ASAN_OPTIONS unless it is set).
asan: deps
	@[ -z "$(NGINX_SRC)" ] || { \
	    echo "asan: runs on the distro's nginx only; drop NGINX_SRC" >&2; \
	    exit 1; }
	$(TOP)/tools/build-module $(BUILD)/asan \
	    "-fsanitize=address -fno-omit-frame-pointer" "-fsanitize=address"
	cd $(TOP) && \
	    TG_MODULE=$(ASAN_MODULE) \
	    TG_MODULE_PRELOAD="$$(gcc -print-file-name=libasan.so)" \
	    $(PROVE) -r -j$(PROVE_JOBS) $(TESTS)

run: build
	$(TOP)/conf/demo/run-demo

bench: build
	$(TOP)/bench/run

# Instructions per request under callgrind (valgrind is on the machine;
# about 30 s): what to steer cost by, where wrk's requests/s drift.
bench-ir: build
	$(TOP)/bench/ir

# The engine's C unit tests alone, under ASan and UBSan ("make test" runs
# them too).
unit: deps
	cd $(TOP) && $(PROVE) -v t/200-unit.t

# The engine's libFuzzer targets, each for FUZZ_SECONDS (fuzz/README.md).
# They need clang and its runtime, installed here rather than for everyone.
FUZZ_SECONDS ?= 30

fuzz: deps
	@missing=""; \
	for p in clang libclang-rt-14-dev; do \
	    [ "$$(dpkg-query -W -f='$${db:Status-Status}' "$$p" 2>/dev/null)" \
	        = installed ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "fuzz: installing$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	        --no-install-recommends $$missing; \
	fi
	FUZZ_SECONDS=$(FUZZ_SECONDS) $(TOP)/fuzz/run

# Where Debian's libnginx-mod-* packages put a module and its load_module
# file; the package's postinst links the latter into /etc/nginx/modules-enabled.
# The line's "modules/" is relative to Debian's prefix, /usr/share/nginx,
# where "modules" links to /usr/lib/nginx/modules.
NGX_MODULES_DIR := /usr/lib/nginx/modules
NGX_MODULES_AVAILABLE := /usr/share/nginx/modules-available
MODULE_CONF := mod-http-tenant-guard.conf

# The build without "deps": a packager runs "make install DESTDIR=..."
# unprivileged, with the build's packages but not the suite's.
install:
	$(TOP)/tools/build-module $(BUILD)
	install -d $(DESTDIR)$(NGX_MODULES_DIR) $(DESTDIR)$(NGX_MODULES_AVAILABLE)
	install -m 0644 $(MODULE) $(DESTDIR)$(NGX_MODULES_DIR)/
	echo "load_module modules/$(notdir $(MODULE));" \
	    > $(DESTDIR)$(NGX_MODULES_AVAILABLE)/$(MODULE_CONF)
	chmod 0644 $(DESTDIR)$(NGX_MODULES_AVAILABLE)/$(MODULE_CONF)

# The Debian package (debian/, dh-sequence-nginx from nginx-dev), built on a
# copy of the tree in build/deb/src so that nothing lands beside the repo.
# dpkg-dev and debhelper are installed here rather than for everyone;
# openssl makes package-test's key.
deb: deps
	@missing=""; \
	for p in dpkg-dev debhelper openssl; do \
	    [ "$$(dpkg-query -W -f='$${db:Status-Status}' "$$p" 2>/dev/null)" \
	        = installed ] || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	    echo "deb: installing$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -q \
	        --no-install-recommends $$missing; \
	fi
	$(TOP)/tools/build-deb $(BUILD)/deb

package-test: deb
	$(TOP)/tools/package-test $(BUILD)/deb/libnginx-mod-http-tenant-guard_$$(\
	    dpkg-parsechangelog -l $(TOP)/debian/changelog -S Version)_$$(\
	    dpkg --print-architecture).deb

clean:
	rm -rf $(BUILD)
