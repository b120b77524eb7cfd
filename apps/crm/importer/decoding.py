"""What is in the bytes: the encoding, or a clear reason why it is not a CSV file at all.

One pass over the file (while it is being stored): a BOM decides (UTF-8, UTF-16); otherwise the
whole file is checked as UTF-8 with an incremental decoder, and if that fails charset-normalizer
names the legacy encoding (cp1252/Latin-1 in practice), falling back to Latin-1, which decodes
any byte. NUL bytes without UTF-16, or known signatures (ZIP/XLSX, XLS, PDF, images), mean a
binary file.
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

SAMPLE_BYTES = 64 * 1024

SIGNATURES = [
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or a ZIP archive"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
]


class ImportFileError(ValueError):
    """The file as a whole cannot be imported; the message tells the user what to do."""

    def __init__(self, message: str, code: str = "import_file_invalid"):
        super().__init__(message)
        self.code = code


@dataclass
class FileInfo:
    encoding: str
    size: int
    sample: bytes
    lines: int = 0  # newline count: an estimate of the rows, exact unless cells hold newlines
    quotes: int = 0  # quote characters: an odd count may mean a quote that never closes


def _normal_codec(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ImportFileError(f"Unknown encoding {name!r}. Use e.g. utf-8, utf-16, latin-1 or cp1252.") from None


class Inspector:
    """Feed the file's chunks in order; ``finish()`` returns a ``FileInfo`` or raises."""

    def __init__(self, declared: str = ""):
        self.declared = _normal_codec(declared) if declared else ""
        self.size = 0
        self.lines = 0
        self.quotes = 0
        self._last = b""
        self.sample = bytearray()
        self._utf8 = codecs.getincrementaldecoder("utf-8")()
        self._utf8_ok = True
        # A declared UTF encoding is checked over the whole file, so a wrong declaration is
        # refused at upload rather than half-way through an import.
        self._declared = codecs.getincrementaldecoder(self.declared)() if self.declared.startswith("utf") else None
        self._declared_error = ""
        self._checked_start = False
        self._bom: str | None = None

    def feed(self, chunk: bytes) -> None:
        self.size += len(chunk)
        self.lines += chunk.count(b"\n")
        self.quotes += chunk.count(b'"')
        if chunk:
            self._last = chunk[-1:]
        if len(self.sample) < SAMPLE_BYTES:
            self.sample += chunk[:SAMPLE_BYTES - len(self.sample)]
        if not self._checked_start and len(self.sample) >= min(SAMPLE_BYTES, 4096):
            self._check_start()
        if self._declared is not None and not self._declared_error:
            try:
                self._declared.decode(chunk)
            except UnicodeDecodeError as exc:
                self._declared_error = (f"The file is not valid {self.declared}: byte {exc.object[exc.start:exc.start + 1]!r}"
                                        f" near byte {self.size - len(chunk) + exc.start} cannot be decoded. Give the "
                                        "right encoding (e.g. latin-1, cp1252) or leave it empty to detect it.")
        if self._utf8_ok and not self.declared and self._bom in (None, "utf-8-sig"):
            try:
                self._utf8.decode(chunk)
            except UnicodeDecodeError:
                self._utf8_ok = False

    def _check_start(self) -> None:
        self._checked_start = True
        head = bytes(self.sample)
        if head.startswith(codecs.BOM_UTF8):
            self._bom = "utf-8-sig"
        elif head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
            self._bom = "utf-16"
        if self._bom is None and not self.declared:
            for magic, what in SIGNATURES:
                if head.startswith(magic):
                    raise ImportFileError(f"This is {what}, not a CSV file. Save or export it as CSV first.",
                                          code="import_file_invalid")

    def finish(self) -> FileInfo:
        if not self._checked_start:
            self._check_start()
        sample = bytes(self.sample)
        body = sample
        for bom in (codecs.BOM_UTF8, codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
            if body.startswith(bom):
                body = body[len(bom):]
        if not body.strip(b" \t\r\n\x00"):
            raise ImportFileError("The file is empty.", code="import_file_invalid")
        if self._declared_error:
            raise ImportFileError(self._declared_error)
        if self.declared:
            encoding = self.declared
        elif self._bom:
            encoding = self._bom
        else:
            encoding = self._guess(sample)
        if not encoding.startswith("utf-16") and not encoding.startswith("utf_16"):
            nul = sample.count(b"\x00")
            controls = sum(sample.count(bytes([c])) for c in range(1, 32) if c not in (9, 10, 13))
            if nul or controls > max(8, len(sample) // 100):
                raise ImportFileError("This looks like a binary file, not CSV text. Export the data as CSV "
                                      "(comma, semicolon or tab separated) and upload that.", code="import_file_invalid")
        return FileInfo(encoding=encoding, size=self.size, sample=sample,
                        lines=self.lines + (0 if self._last in (b"\n", b"\x00") else 1), quotes=self.quotes)

    def _guess(self, sample: bytes) -> str:
        # UTF-16 without a BOM: every other byte of ASCII text is NUL.
        if len(sample) >= 4:
            even, odd = sample[0::2], sample[1::2]
            if odd.count(0) > len(odd) * 0.4 and even.count(0) < len(even) * 0.05:
                return "utf-16-le"
            if even.count(0) > len(even) * 0.4 and odd.count(0) < len(odd) * 0.05:
                return "utf-16-be"
        if self._utf8_ok:
            try:
                self._utf8.decode(b"", final=True)
                return "utf-8"
            except UnicodeDecodeError:
                pass
        # Not UTF-8. CRM exports that are not UTF-8 are, overwhelmingly, Windows/ISO Western
        # (what users call "Latin-1"); cp1252 is its superset (curly quotes, the euro sign).
        # Detectors guess badly on short Western samples (cp775, say), so they are only asked
        # when the text does not look Western: in Western text an accented letter sits between
        # ASCII letters ("Müller"), in Cyrillic or Greek text high bytes come in whole words.
        guess = "cp1252"
        if _high_byte_runs(sample) > 0.6:
            try:
                from charset_normalizer import from_bytes

                best = from_bytes(sample).best()
                if best is not None and not best.encoding.startswith(("utf", "mac")):
                    guess = _normal_codec(best.encoding)
            except Exception:  # a detector failure must not fail the import
                pass
        try:
            sample.decode(guess)
        except (UnicodeDecodeError, LookupError):
            guess = "latin-1"
        return guess


def _high_byte_runs(sample: bytes) -> float:
    """The share of bytes >= 0x80 that have a neighbour >= 0x80."""
    high = [i for i, b in enumerate(sample) if b >= 0x80]
    if not high:
        return 0.0
    positions = set(high)
    joined = sum(1 for i in high if i - 1 in positions or i + 1 in positions)
    return joined / len(high)
