"""A small reader of BPF Type Format (BTF): the struct layouts of a kernel, from vmlinux's
.BTF section or /sys/kernel/btf/vmlinux.

Only what the monitor needs: find a struct or enum by name, resolve a dotted field path
(`scx.local_dsq.nr`, through anonymous members) to its byte offset and size. Format: the
kernel's Documentation/bpf/btf.rst (header, type section of variable-length records, string
section); type id 0 is void, the first record is id 1.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Optional

from ktstr.errors import KtstrError

BTF_MAGIC = 0xEB9F

# Kinds (btf.rst "BTF kind encoding").
INT, PTR, ARRAY, STRUCT, UNION, ENUM, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT = range(1, 12)
FUNC, FUNC_PROTO, VAR, DATASEC, FLOAT, DECL_TAG, TYPE_TAG, ENUM64 = range(12, 20)

_MODIFIERS = (TYPEDEF, VOLATILE, CONST, RESTRICT, TYPE_TAG)
# Bytes that follow the 12-byte common record: fixed part, and per-vlen entry size.
_EXTRA_FIXED = {INT: 4, ARRAY: 12, VAR: 4, DECL_TAG: 4}
_EXTRA_PER_VLEN = {STRUCT: 12, UNION: 12, ENUM: 8, FUNC_PROTO: 8, DATASEC: 12, ENUM64: 12}


class BtfError(KtstrError, ValueError):
    """The BTF data is malformed, or lacks the type or field asked for (named in the text)."""


@dataclass(frozen=True)
class Member:
    name: str
    type_id: int
    bit_offset: int
    bitfield_size: int = 0


@dataclass
class BtfType:
    id: int
    kind: int
    name: str
    size_or_type: int  # size for INT/STRUCT/UNION/ENUM/DATASEC/FLOAT, else the referenced type
    vlen: int
    members: list[Member] = field(default_factory=list)  # STRUCT/UNION
    enumerators: dict[str, int] = field(default_factory=dict)  # ENUM/ENUM64
    array: Optional[tuple[int, int]] = None  # ARRAY: (element type id, nelems)


@dataclass(frozen=True)
class FieldLayout:
    """Where a field sits in its struct: byte offset and size (both in bytes)."""

    offset: int
    size: int


class Btf:
    def __init__(self, data: bytes) -> None:
        if len(data) < 24:
            raise BtfError(f"BTF data too short ({len(data)} bytes)")
        magic, version, _flags, hdr_len = struct.unpack_from("<HBBI", data, 0)
        if magic != BTF_MAGIC:
            raise BtfError(f"not BTF: magic {magic:#x}, expected {BTF_MAGIC:#x} (big-endian BTF is not supported)")
        if version != 1:
            raise BtfError(f"unsupported BTF version {version}")
        type_off, type_len, str_off, str_len = struct.unpack_from("<IIII", data, 8)
        base = hdr_len
        self._strings = data[base + str_off: base + str_off + str_len]
        self.types: list[Optional[BtfType]] = [None]  # id 0 = void
        self._by_name: dict[tuple[int, str], list[int]] = {}
        self._parse(data[base + type_off: base + type_off + type_len])

    def _str(self, off: int) -> str:
        end = self._strings.find(b"\0", off)
        if end < 0:
            raise BtfError(f"string offset {off} runs past the string section")
        return self._strings[off:end].decode("utf-8", "replace")

    def _parse(self, blob: bytes) -> None:
        pos = 0
        while pos < len(blob):
            if pos + 12 > len(blob):
                raise BtfError(f"truncated type record at byte {pos} of the type section")
            name_off, info, size_or_type = struct.unpack_from("<III", blob, pos)
            pos += 12
            kind = (info >> 24) & 0x1F
            vlen = info & 0xFFFF
            kflag = bool(info >> 31)
            t = BtfType(len(self.types), kind, self._str(name_off), size_or_type, vlen)
            if kind in (STRUCT, UNION):
                for i in range(vlen):
                    m_name, m_type, m_off = struct.unpack_from("<III", blob, pos + 12 * i)
                    bits, size = (m_off & 0xFFFFFF, m_off >> 24) if kflag else (m_off, 0)
                    t.members.append(Member(self._str(m_name), m_type, bits, size))
            elif kind == ENUM:
                for i in range(vlen):
                    e_name, val = struct.unpack_from("<Ii", blob, pos + 8 * i)
                    t.enumerators[self._str(e_name)] = val
            elif kind == ENUM64:
                for i in range(vlen):
                    e_name, lo, hi = struct.unpack_from("<III", blob, pos + 12 * i)
                    t.enumerators[self._str(e_name)] = lo | (hi << 32)
            elif kind == ARRAY:
                elem, _index, nelems = struct.unpack_from("<III", blob, pos)
                t.array = (elem, nelems)
            elif kind not in _EXTRA_FIXED and kind not in _EXTRA_PER_VLEN and kind not in (
                    PTR, FWD, TYPEDEF, VOLATILE, CONST, RESTRICT, FUNC, FLOAT, TYPE_TAG):
                raise BtfError(f"unknown BTF kind {kind} (type id {t.id}): newer BTF than this reader")
            pos += _EXTRA_FIXED.get(kind, 0) + _EXTRA_PER_VLEN.get(kind, 0) * vlen
            self.types.append(t)
            if t.name:
                self._by_name.setdefault((kind, t.name), []).append(t.id)

    # --- lookups ---------------------------------------------------------------------------

    def find(self, kind: int, name: str) -> BtfType:
        ids = self._by_name.get((kind, name))
        if not ids:
            raise BtfError(f"no {_KIND_NAMES.get(kind, kind)} named {name!r} in the BTF")
        # Deduplicated vmlinux BTF has one complete definition; prefer the one with members.
        best = max(ids, key=lambda i: len(self.types[i].members) + len(self.types[i].enumerators))
        return self.types[best]

    def has(self, kind: int, name: str) -> bool:
        return (kind, name) in self._by_name

    def enum(self, name: str) -> dict[str, int]:
        for kind in (ENUM, ENUM64):
            if self.has(kind, name):
                return dict(self.find(kind, name).enumerators)
        raise BtfError(f"no enum named {name!r} in the BTF")

    def strip(self, type_id: int) -> BtfType:
        """The type behind typedefs and qualifiers."""
        seen = 0
        t = self.types[type_id]
        while t is not None and t.kind in _MODIFIERS:
            seen += 1
            if seen > 64:
                raise BtfError(f"typedef/qualifier loop at type id {type_id}")
            t = self.types[t.size_or_type]
        if t is None:
            raise BtfError(f"type id {type_id} resolves to void")
        return t

    def sizeof(self, type_id: int) -> int:
        t = self.strip(type_id)
        if t.kind in (INT, STRUCT, UNION, ENUM, ENUM64, FLOAT, DATASEC):
            return t.size_or_type
        if t.kind == PTR:
            return 8
        if t.kind == ARRAY:
            elem, n = t.array  # type: ignore[misc]
            return self.sizeof(elem) * n
        raise BtfError(f"type id {type_id} ({_KIND_NAMES.get(t.kind, t.kind)}) has no size")

    def field(self, struct_name: str, path: str) -> FieldLayout:
        """Byte offset and size of `path` (dotted, e.g. "scx.local_dsq.nr") in struct
        `struct_name`; anonymous struct/union members are searched through."""
        t = self.find(STRUCT, struct_name)
        offset_bits = 0
        type_id = t.id
        for part in path.split("."):
            holder = self.strip(type_id)
            if holder.kind not in (STRUCT, UNION):
                raise BtfError(f"{struct_name}.{path}: {part!r} is not inside a struct or union")
            found = self._member(holder, part)
            if found is None:
                raise BtfError(f"struct {struct_name} has no field {path!r} (no {part!r} in "
                               f"{_KIND_NAMES[holder.kind]} {holder.name or '<anonymous>'})")
            bits, type_id, bitfield = found
            if bitfield:
                raise BtfError(f"{struct_name}.{path} is a bitfield; the monitor reads whole bytes")
            offset_bits += bits
        if offset_bits % 8:
            raise BtfError(f"{struct_name}.{path} is not byte aligned")
        return FieldLayout(offset_bits // 8, self.sizeof(type_id))

    def _member(self, holder: BtfType, name: str) -> Optional[tuple[int, int, int]]:
        for m in holder.members:
            if m.name == name:
                return m.bit_offset, m.type_id, m.bitfield_size
        for m in holder.members:  # anonymous struct/union members
            if not m.name:
                inner = self.strip(m.type_id)
                if inner.kind in (STRUCT, UNION):
                    hit = self._member(inner, name)
                    if hit is not None:
                        return m.bit_offset + hit[0], hit[1], hit[2]
        return None


_KIND_NAMES = {INT: "int", PTR: "pointer", ARRAY: "array", STRUCT: "struct", UNION: "union",
               ENUM: "enum", FWD: "forward", TYPEDEF: "typedef", VOLATILE: "volatile",
               CONST: "const", RESTRICT: "restrict", FUNC: "func", FUNC_PROTO: "func_proto",
               VAR: "var", DATASEC: "datasec", FLOAT: "float", DECL_TAG: "decl_tag",
               TYPE_TAG: "type_tag", ENUM64: "enum64"}
