# Installing thinvisor on a BIOS machine that boots with GRUB 2 (included by the top-level
# Makefile). docs/install.md says how to boot it once and what to expect.
#
#   make && sudo make install     /boot/thinvisor.elf, /etc/grub.d/42_thinvisor, PREFIX/sbin/thinctl,
#                                 the man pages and docs, and /etc/default/thinvisor unless one
#                                 exists; then update-grub
#   sudo make uninstall           removes them (/etc/default/thinvisor only while unchanged)
#   make deb                      build/deb/thinvisor_VERSION_amd64.deb: the same files as a
#                                 Debian package (debian/), checked by lintian
#
# DESTDIR= stages everything under another root (packaging, tests/install). PREFIX (default
# /usr/local) is where thinctl (PREFIX/sbin) and the documentation (PREFIX/share/doc/thinvisor) go. The kernel image
# and the GRUB files ignore PREFIX: GRUB's grub-mkconfig only reads /etc/grub.d and
# /etc/default, and 42_thinvisor looks for /boot/thinvisor.elf.

PREFIX  ?= /usr/local
DESTDIR ?=
INSTALL_BOOT    := $(DESTDIR)/boot
INSTALL_GRUBD   := $(DESTDIR)/etc/grub.d
INSTALL_DEFAULT := $(DESTDIR)/etc/default
INSTALL_DOC     := $(DESTDIR)$(PREFIX)/share/doc/thinvisor
INSTALL_MAN     := $(DESTDIR)$(PREFIX)/share/man
# The version, from the one place it is written (kernel/version.h): MAJOR, MINOR, PATCH.
VERSION := $(shell sed -n 's/^\#define THINVISOR_VERSION_[A-Z]* \([0-9]*\)$$/\1/p' kernel/version.h | paste -sd.)
MAN_PAGES := man/thinctl.8 man/thinvisor.7
DOCS      := README.md $(wildcard docs/*.md)

.PHONY: install uninstall install-check-root deb

# Writing /boot and /etc needs root; say so instead of failing halfway through.
install-check-root:
	@if [ -z "$(DESTDIR)" ] && [ "$$(id -u)" != 0 ]; then \
	    echo "error: installing into /boot and /etc needs root: run 'make' first, then" \
	         "'sudo make $(filter install uninstall,$(MAKECMDGOALS))' (or set DESTDIR=)" >&2; exit 1; fi

install: install-check-root $(BUILD)/thinvisor.elf $(BUILD)/tools/thinctl
	install -D -m 0644 $(BUILD)/thinvisor.elf $(INSTALL_BOOT)/thinvisor.elf
	install -D -m 0755 $(BUILD)/tools/thinctl $(DESTDIR)$(PREFIX)/sbin/thinctl
	install -D -m 0755 install/grub.d/42_thinvisor $(INSTALL_GRUBD)/42_thinvisor
	@if [ -e $(INSTALL_DEFAULT)/thinvisor ] || [ -L $(INSTALL_DEFAULT)/thinvisor ]; then \
	    echo "kept $(INSTALL_DEFAULT)/thinvisor (the shipped one is $(INSTALL_DOC)/default-thinvisor)"; \
	else \
	    echo "install -D -m 0644 install/default/thinvisor $(INSTALL_DEFAULT)/thinvisor"; \
	    install -D -m 0644 install/default/thinvisor $(INSTALL_DEFAULT)/thinvisor; \
	fi
	install -D -m 0644 install/default/thinvisor $(INSTALL_DOC)/default-thinvisor
	@for f in $(DOCS); do echo "install -D -m 0644 $$f $(INSTALL_DOC)/$$f"; \
	    install -D -m 0644 $$f $(INSTALL_DOC)/$$f || exit 1; done
	@for m in $(MAN_PAGES); do d=$(INSTALL_MAN)/man$${m##*.}; \
	    echo "install $$m $$d/ (version $(VERSION))"; mkdir -p $$d && \
	    sed 's/@VERSION@/$(VERSION)/g' $$m >$$d/$${m#man/} && chmod 0644 $$d/$${m#man/} || exit 1; done
	@if [ -z "$(DESTDIR)" ]; then \
	    echo "next: 'sudo update-grub' (or grub-mkconfig -o /boot/grub/grub.cfg), then" \
	         "'sudo grub-reboot thinvisor' to boot it once (docs/install.md, \"Once, or every time\")"; \
	fi

# The defaults file is the administrator's once edited: removed only while it still is the
# one shipped (the copy in the doc folder, else this tree's), as dpkg does with a conffile.
uninstall: install-check-root
	rm -f $(INSTALL_BOOT)/thinvisor.elf $(INSTALL_GRUBD)/42_thinvisor $(DESTDIR)$(PREFIX)/sbin/thinctl
	@f=$(INSTALL_DEFAULT)/thinvisor ref=$(INSTALL_DOC)/default-thinvisor; \
	[ -f $$ref ] || ref=install/default/thinvisor; \
	if [ -f $$f ] && cmp -s $$f $$ref; then echo "rm -f $$f"; rm -f $$f; \
	elif [ -e $$f ]; then echo "kept $$f: it was changed (remove it by hand if you want)"; fi
	rm -f $(INSTALL_DOC)/README.md $(INSTALL_DOC)/default-thinvisor $(INSTALL_DOC)/docs/*.md
	@for m in $(MAN_PAGES); do echo "rm -f $(INSTALL_MAN)/man$${m##*.}/$${m#man/}"; \
	    rm -f $(INSTALL_MAN)/man$${m##*.}/$${m#man/}; done
	@rmdir $(INSTALL_DOC)/docs $(INSTALL_DOC) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ]; then \
	    echo "next: 'sudo update-grub', so that GRUB's menu loses the thinvisor entry"; fi

# ---- make deb ------------------------------------------------------------------------------
# The Debian package, built the Debian way: dpkg-buildpackage on debian/ (whose rules call
# `make install DESTDIR=... PREFIX=/usr`), in a copy of this tree under build/deb/ so that its
# clean step cannot touch this build/. Then lintian, which must report no error. The Zydis
# source is fetched first (third_party/zydis.sh), so the package build needs no network.
DEB_DIR  := $(BUILD)/deb
DEB_TREE := $(DEB_DIR)/thinvisor-$(VERSION)
DEB      := $(DEB_DIR)/thinvisor_$(VERSION)_amd64.deb
DEB_BUILD_PACKAGES := gcc libc6-dev binutils make nasm grub-common libzycore-dev xz-utils patch \
                      debian-archive-keyring dpkg-dev debhelper lintian

$(BUILD)/.deb-deps-ok: install/install.mk
	$(call install_missing,$(DEB_BUILD_PACKAGES), for make deb)

# What the package holds comes from these; the kernel image stands for all of its sources.
DEB_INPUTS := $(BUILD)/thinvisor.elf $(THINCTL_DEPS) $(wildcard debian/* debian/source/*) \
              install/install.mk $(wildcard install/*/*) $(MAN_PAGES) $(DOCS) Makefile

deb: $(DEB)
$(DEB): $(BUILD)/.deb-deps-ok $(DEB_INPUTS)
	@third_party/zydis.sh >/dev/null
	@v=$$(dpkg-parsechangelog -l debian/changelog -S Version); [ "$$v" = "$(VERSION)" ] || \
	    { echo "error: debian/changelog says $$v, kernel/version.h $(VERSION): add a changelog entry (dch -v $(VERSION))" >&2; exit 1; }
	rm -rf $(DEB_DIR) && mkdir -p $(DEB_TREE)
	tar -cf - --exclude=./build --exclude=./.git . | tar -C $(DEB_TREE) -xf -
	@echo "dpkg-buildpackage -b -us -uc in $(DEB_TREE) (log: $(DEB_DIR)/build.log)"
	@cd $(DEB_TREE) && env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL dpkg-buildpackage -b -us -uc \
	    >../build.log 2>&1 || { tail -n 20 $(DEB_DIR)/build.log >&2; \
	    echo "error: dpkg-buildpackage failed (log: $(DEB_DIR)/build.log)" >&2; exit 1; }
	lintian --fail-on error $(DEB)
	@echo "built $(DEB): sudo apt install ./$(DEB)"
