"""The one place where outside text (guest console, guest frames, user input) is made safe to
become a file name or XML. Both are total functions: any str in, a usable str out, and the
original stays recognisable (a reader can tell which test a file belongs to).
"""

from __future__ import annotations

import hashlib
import re

# Characters kept in a file name as they are; everything else becomes "_".
_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9._+=-]")
# Longest name part kept (ext4 and most others allow 255 bytes; prefixes and suffixes such as
# "sched_ext_dump-" and ".txt" must still fit).
MAX_NAME_CHARS = 120


def file_name(text: str) -> str:
    """`text` as one path component: no "/", no NUL or control characters, never "", "." or
    "..", never hidden (leading "."), at most MAX_NAME_CHARS characters. A changed name gets
    a short digest of the original, so two names that differ only in unsafe characters
    ("a/b", "a_b") never share a file."""
    safe = _UNSAFE_NAME.sub("_", text).lstrip(".")
    if safe == text and 0 < len(safe) <= MAX_NAME_CHARS:
        return safe
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{safe[:MAX_NAME_CHARS - 11] or 'unnamed'}-{digest}"


# XML 1.0's Char production: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF]
_XML_BAD = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(text: str) -> str:
    """`text` with every character XML 1.0 cannot carry (controls, lone surrogates, U+FFFE,
    U+FFFF) written as a visible escape, e.g. "\\x01" or "\\uffff", so the report still shows
    that it was there."""
    return _XML_BAD.sub(lambda m: _escape(ord(m.group())), text)


def _escape(c: int) -> str:
    return f"\\x{c:02x}" if c < 0x100 else f"\\u{c:04x}"


__all__ = ["MAX_NAME_CHARS", "file_name", "xml_text"]
