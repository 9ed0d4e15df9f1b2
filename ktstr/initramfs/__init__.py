"""Deterministic initramfs images: newc cpio writer, ELF closure, guest Python runtime."""
