# Installing thinvisor on a BIOS machine that boots with GRUB 2 (included by the top-level
# Makefile). README, "Use it on your machine", says how to boot it once and what to expect.
#
#   make && sudo make install     /boot/thinvisor.elf, /etc/grub.d/42_thinvisor, PREFIX/sbin/thinctl
#                                 and /etc/default/thinvisor unless one exists; then update-grub
#   sudo make uninstall           removes them (/etc/default/thinvisor only while unchanged)
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

.PHONY: install uninstall install-check-root

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
	install -D -m 0644 README.md $(INSTALL_DOC)/README.md
	@if [ -z "$(DESTDIR)" ]; then \
	    echo "next: 'sudo update-grub' (or grub-mkconfig -o /boot/grub/grub.cfg), then" \
	         "'sudo grub-reboot thinvisor' to boot it once (README, \"Use it on your machine\")"; \
	fi

# The defaults file is the administrator's once edited: removed only while it still is the
# one shipped (the copy in the doc folder, else this tree's), as dpkg does with a conffile.
uninstall: install-check-root
	rm -f $(INSTALL_BOOT)/thinvisor.elf $(INSTALL_GRUBD)/42_thinvisor $(DESTDIR)$(PREFIX)/sbin/thinctl
	@f=$(INSTALL_DEFAULT)/thinvisor ref=$(INSTALL_DOC)/default-thinvisor; \
	[ -f $$ref ] || ref=install/default/thinvisor; \
	if [ -f $$f ] && cmp -s $$f $$ref; then echo "rm -f $$f"; rm -f $$f; \
	elif [ -e $$f ]; then echo "kept $$f: it was changed (remove it by hand if you want)"; fi
	rm -f $(INSTALL_DOC)/README.md $(INSTALL_DOC)/default-thinvisor
	@rmdir $(INSTALL_DOC) 2>/dev/null || true
	@if [ -z "$(DESTDIR)" ]; then \
	    echo "next: 'sudo update-grub', so that GRUB's menu loses the thinvisor entry"; fi
