# `make package`: the Lambda zips dist/audit_producer-x86_64.zip and -arm64.zip (README,
# "Packaging"; README says what they hold and why). `make package-test` checks them.
# Each architecture builds the same source in its own folder (build-x86_64/, build-arm64/)
# with Debian's gcc for that triplet and the :arch multiarch libraries;
# tests/package/make-zip.sh then strips the bootstrap and zips it.
#
# The zip holds one file, bootstrap, which needs nothing but glibc: whatever Lambda's
# /lib64 holds (Amazon Linux's own libcurl and OpenSSL come before /var/task/lib in its
# LD_LIBRARY_PATH) cannot change what runs. jansson and OpenSSL are Debian's static
# libraries; libcurl is Debian's source built for HTTP(S) over OpenSSL alone by
# tests/package/build-curl.sh, since Debian's libcurl.a needs 25 more libraries.
# -z now, so that a missing glibc symbol fails at start and not at its first call.

PACKAGE_ARCHS := x86_64 arm64
PACKAGE_TRIPLET_x86_64 := x86_64-linux-gnu
PACKAGE_TRIPLET_arm64 := aarch64-linux-gnu
PACKAGE_ZIPS := $(PACKAGE_ARCHS:%=dist/audit_producer-%.zip)

.PHONY: package package-test package-clean package-x86_64 package-arm64 package-zip

package: deps
	$(Q)$(MAKE) --no-print-directory package-x86_64
	$(Q)$(MAKE) --no-print-directory package-arm64

# One sub-make per architecture, so that BUILD and CC hold for every rule it runs.
package-x86_64 package-arm64: package-%:
	$(Q)$(MAKE) --no-print-directory BUILD=build-$* CC=$(PACKAGE_TRIPLET_$*)-gcc \
		PACKAGE_ARCH=$* package-zip

package-test: package
	@sh tests/package/test_package.sh $(PACKAGE_ZIPS)

package-clean:
	rm -rf $(PACKAGE_ARCHS:%=build-%) build-src dist

clean: package-clean

ifdef PACKAGE_ARCH
PACKAGE_TRIPLET := $(PACKAGE_TRIPLET_$(PACKAGE_ARCH))
ifeq ($(PACKAGE_TRIPLET),)
$(error PACKAGE_ARCH must be one of $(PACKAGE_ARCHS), not $(PACKAGE_ARCH))
endif
# The target's multiarch archives (libjansson-dev:ARCH, libssl-dev:ARCH).
PACKAGE_LIBDIR := /usr/lib/$(PACKAGE_TRIPLET)
PACKAGE_STATIC := $(PACKAGE_LIBDIR)/libjansson.a $(PACKAGE_LIBDIR)/libssl.a \
                  $(PACKAGE_LIBDIR)/libcrypto.a
# The curl source is fetched once for both architectures.
PACKAGE_CURL_SRC := build-src
PACKAGE_CURL := $(BUILD)/curl
PACKAGE_CURL_A := $(PACKAGE_CURL)/lib/libcurl.a
PACKAGE_LDFLAGS := -pthread -Wl,-z,now -Wl,-z,relro
PACKAGE_BOOTSTRAP := $(BUILD)/bootstrap-lambda
PACKAGE_HANDLER_SRC := $(wildcard handler/*.c)
# Our curl's headers, ahead of the system's.
override CFLAGS += -I$(PACKAGE_CURL)/include

$(PACKAGE_CURL_A): tests/package/build-curl.sh
	$(Q)sh tests/package/build-curl.sh $(PACKAGE_TRIPLET) $(PACKAGE_CURL_SRC) \
		$(BUILD)/curl-build $(PACKAGE_CURL)

# Every object that includes <curl/curl.h> must see the headers of the curl it links.
$(LIB_OBJ): $(PACKAGE_CURL_A)

package-zip: $(PACKAGE_BOOTSTRAP) tests/package/make-zip.sh tests/package/elf.sh
	$(say) ZIP dist/audit_producer-$(PACKAGE_ARCH).zip
	$(Q)sh tests/package/make-zip.sh $(PACKAGE_TRIPLET) $(PACKAGE_BOOTSTRAP) $(BUILD)/zip \
		dist/audit_producer-$(PACKAGE_ARCH).zip

$(PACKAGE_BOOTSTRAP): $(PACKAGE_HANDLER_SRC) $(STATIC_LIB) $(PACKAGE_CURL_A) $(HEADERS) mk/package.mk
	$(Q)for a in $(PACKAGE_STATIC); do \
		test -f $$a || { echo "package: no $$a: make deps" >&2; exit 1; }; done
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $(PACKAGE_HANDLER_SRC) $(STATIC_LIB) \
		$(PACKAGE_CURL_A) $(PACKAGE_STATIC) $(PACKAGE_LDFLAGS)
endif
