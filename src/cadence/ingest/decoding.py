"""Which text encoding an export is in, decided by rules rather than guesses, and its text.

Spreadsheets and CRMs write CSV in a handful of encodings: UTF-8 (Excel adds a byte-order mark),
UTF-16 (Excel's "Unicode text", tab-separated) and Windows' cp1252 (European and Latin-American
Salesforce orgs). The rules, in order:

1. a byte-order mark says UTF-8 or UTF-16;
2. UTF-16 without a mark shows as a NUL in every other byte;
3. bytes that are valid UTF-8 are UTF-8 (a cp1252 file with any accent almost never is);
4. anything else is cp1252; the five bytes cp1252 leaves undefined (0x81, 0x8D, 0x8F, 0x90, 0x9D)
   read as latin-1 reads them, and a file whose only bytes in 0x80–0x9F are those is called latin-1.

Every byte sequence decodes under rule 4, so what is refused is what is not text at all: a
known binary signature (an image, a zip or Excel workbook, a PDF…) or control characters.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass
from pathlib import Path

from cadence.errors import InputError, Location

UTF8, UTF8_BOM, UTF16, CP1252, LATIN1 = "utf-8", "utf-8-sig", "utf-16", "cp1252", "latin-1"
SAMPLE = 65_536

_BOMS = ((codecs.BOM_UTF8, "utf-8-sig", UTF8_BOM), (codecs.BOM_UTF16_LE, "utf-16", UTF16),
         (codecs.BOM_UTF16_BE, "utf-16", UTF16))
_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": ("a PNG image", "export the data itself as CSV"),
    b"\xff\xd8\xff": ("a JPEG image", "export the data itself as CSV"),
    b"GIF8": ("a GIF image", "export the data itself as CSV"),
    b"%PDF": ("a PDF document", "export the data itself as CSV"),
    b"PK\x03\x04": ("a zip archive (an Excel workbook?)", "if it is an Excel workbook, name it .xlsx; "
                    "if a zip of exports, unzip it first"),
    b"\xd0\xcf\x11\xe0": ("an old Office file (.xls?)", "save it as .xlsx or CSV"),
    b"\x1f\x8b": ("a gzip archive", "decompress it first"),
    b"PAR1": ("a Parquet file", "name it .parquet"),
}
_CANONICAL = {"utf-8": UTF8, "utf-8-sig": UTF8_BOM, "utf-16": UTF16, "utf-16-le": UTF16, "utf-16-be": UTF16,
              "cp1252": CP1252, "iso8859-1": LATIN1, "latin-1": LATIN1}
_UNDEFINED_IN_CP1252 = re.compile("[\udc81\udc8d\udc8f\udc90\udc9d]")  # as surrogateescape leaves them
_DEFINED_C1_IN_CP1252 = re.compile(rb"[\x80\x82-\x8c\x8e\x91-\x9c\x9e\x9f]")
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass(frozen=True)
class Decoded:
    """A file's text and the canonical name of the encoding it was read in."""

    text: str
    encoding: str


def decode(raw: bytes, path: Path, encoding: str | None = None) -> Decoded:
    """The text of `raw`, in `encoding` if given, else in the encoding the rules above detect."""
    _refuse_signature(raw, path)
    decoded = _decode_as(raw, path, encoding) if encoding else _detect(raw, path)
    _refuse_control_characters(decoded, path)
    return decoded


def canonical_name(encoding: str) -> str:
    """'utf-8', 'utf-8-sig', 'utf-16', 'cp1252', 'latin-1' for those encodings, else Python's name."""
    name = codecs.lookup(encoding).name
    return _CANONICAL.get(name, name)


def _detect(raw: bytes, path: Path) -> Decoded:
    for bom, codec, name in _BOMS:
        if raw.startswith(bom) and not raw.startswith(codecs.BOM_UTF32_LE):
            return _strict(raw, path, codec, name)
    wide = _utf16_without_bom(raw[:4096])
    if wide:
        return _strict(raw, path, wide, UTF16)
    try:
        return Decoded(raw.decode("utf-8"), UTF8)
    except UnicodeDecodeError:
        return _windows(raw)


def _utf16_without_bom(sample: bytes) -> str | None:
    """'utf-16-le'/'-be' when NULs fill the high bytes of most characters (Latin text in UTF-16)."""
    if len(sample) < 4:
        return None
    even, odd = sample[0::2], sample[1::2]
    nul_even, nul_odd = even.count(0) / len(even), odd.count(0) / len(odd)
    if nul_odd > 0.3 and nul_even < 0.05:
        return "utf-16-le"
    if nul_even > 0.3 and nul_odd < 0.05:
        return "utf-16-be"
    return None


def _windows(raw: bytes) -> Decoded:
    """cp1252, with its five undefined bytes read as latin-1 reads them."""
    try:
        return Decoded(raw.decode("cp1252"), CP1252)
    except UnicodeDecodeError:
        pass
    text = _UNDEFINED_IN_CP1252.sub(lambda m: chr(ord(m.group()) - 0xDC00),
                                    raw.decode("cp1252", errors="surrogateescape"))
    return Decoded(text, CP1252 if _DEFINED_C1_IN_CP1252.search(raw) else LATIN1)


def _decode_as(raw: bytes, path: Path, encoding: str) -> Decoded:
    try:
        name = canonical_name(encoding)
    except LookupError:
        raise InputError(f"unknown encoding {encoding!r}", location=Location(str(path)),
                         hint="use one of utf-8, utf-16, cp1252, latin-1, or leave out --encoding to detect it"
                         ) from None
    if name == UTF8 and raw.startswith(codecs.BOM_UTF8):
        encoding, name = "utf-8-sig", UTF8_BOM
    return _strict(raw, path, encoding, name)


def _strict(raw: bytes, path: Path, codec: str, name: str) -> Decoded:
    try:
        return Decoded(raw.decode(codec), name)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].decode(codec, errors="replace").count("\n") + 1
        raise InputError(
            f"not {name} text (byte 0x{exc.object[exc.start]:02x} on line {line})",
            location=Location(str(path), line),
            hint="leave out --encoding to have the encoding detected, or pass the file's own encoding",
        ) from None


def _refuse_signature(raw: bytes, path: Path) -> None:
    for signature, (what, hint) in _SIGNATURES.items():
        if raw.startswith(signature):
            raise InputError(f"not a CSV file: this is {what}", location=Location(str(path)), hint=hint)


def _refuse_control_characters(decoded: Decoded, path: Path) -> None:
    sample = decoded.text[:SAMPLE]
    found = len(_CONTROL.findall(sample))
    if found > max(8, len(sample) // 100):
        raise InputError(
            f"not a text file: {found:,} control characters in its first {len(sample):,} characters "
            f"(read as {decoded.encoding})", location=Location(str(path)),
            hint="export the data as CSV, or give an Excel or Parquet file its own extension (.xlsx, .parquet)",
        )
