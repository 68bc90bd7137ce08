# `make package`: the Lambda zips dist/audit_producer-x86_64.zip and -arm64.zip (DESIGN.md
# "Packaging"; README says what they hold and why). `make package-test` checks them.
# Each architecture builds the same source in its own folder (build-x86_64/, build-arm64/)
# with Debian's gcc for that triplet and the :arch multiarch libraries (pkg-config reads
# their .pc files); tests/package/make-zip.sh then bundles the libraries and zips.
#
# The zip's bootstrap differs from build/bootstrap only in how it links: jansson static;
# libcurl, libcrypto and their dependencies from the zip's lib/, found through
# DT_RPATH=$ORIGIN/lib (--disable-new-dtags: searched before Lambda's LD_LIBRARY_PATH,
# whose /lib64 holds Amazon Linux's own libcurl and OpenSSL); -z now, so a wrong library
# fails at start and not at its first call.

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
	rm -rf $(PACKAGE_ARCHS:%=build-%) dist

clean: package-clean

ifdef PACKAGE_ARCH
PACKAGE_TRIPLET := $(PACKAGE_TRIPLET_$(PACKAGE_ARCH))
ifeq ($(PACKAGE_TRIPLET),)
$(error PACKAGE_ARCH must be one of $(PACKAGE_ARCHS), not $(PACKAGE_ARCH))
endif
# Only the target's .pc files: never the build machine's.
PACKAGE_PKG_CONFIG := PKG_CONFIG_LIBDIR=/usr/lib/$(PACKAGE_TRIPLET)/pkgconfig:/usr/share/pkgconfig \
                      PKG_CONFIG_PATH= pkg-config
PACKAGE_PC := libcurl libcrypto jansson
PACKAGE_PC_CFLAGS := $(shell $(PACKAGE_PKG_CONFIG) --cflags $(PACKAGE_PC) 2>/dev/null)
PACKAGE_JANSSON_A := $(shell $(PACKAGE_PKG_CONFIG) --variable=libdir jansson 2>/dev/null)/libjansson.a
PACKAGE_LIBS := $(shell $(PACKAGE_PKG_CONFIG) --libs libcurl libcrypto 2>/dev/null)
PACKAGE_LDFLAGS := -Wl,--disable-new-dtags -Wl,-rpath,'$$ORIGIN/lib' -Wl,-z,now -Wl,-z,relro
PACKAGE_BOOTSTRAP := $(BUILD)/bootstrap-lambda
PACKAGE_HANDLER_SRC := $(wildcard handler/*.c)
override CFLAGS += $(PACKAGE_PC_CFLAGS)

package-zip: $(PACKAGE_BOOTSTRAP) tests/package/make-zip.sh tests/package/elf.sh
	$(say) ZIP dist/audit_producer-$(PACKAGE_ARCH).zip
	$(Q)sh tests/package/make-zip.sh $(PACKAGE_TRIPLET) $(PACKAGE_BOOTSTRAP) $(BUILD)/zip \
		dist/audit_producer-$(PACKAGE_ARCH).zip

$(PACKAGE_BOOTSTRAP): $(PACKAGE_HANDLER_SRC) $(STATIC_LIB) $(HEADERS) mk/package.mk
	$(Q)$(PACKAGE_PKG_CONFIG) --exists $(PACKAGE_PC) || { \
		echo "package: the $(PACKAGE_TRIPLET) libraries ($(PACKAGE_PC)) are missing: make deps" >&2; \
		exit 1; }
	$(Q)test -f $(PACKAGE_JANSSON_A) || { echo "package: no $(PACKAGE_JANSSON_A)" >&2; exit 1; }
	$(say) LINK $@
	$(Q)$(CC) $(BASE_CFLAGS) $(CFLAGS) -o $@ $(PACKAGE_HANDLER_SRC) $(STATIC_LIB) \
		$(PACKAGE_LDFLAGS) $(PACKAGE_JANSSON_A) $(PACKAGE_LIBS)
endif
