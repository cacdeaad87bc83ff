"""Content-Encoding decoded by the egress transport, a bounded piece at a time.

httpx decodes after the transport hands it the body, so a cap on the transport's bytes counts
the wire: 200 KiB of gzip grew into 200 MiB past it. The transport decodes instead, with every
decompressor asked for at most `PIECE` bytes per call, so the cap counts what a caller would
hold and a bomb never expands in one go. The response handed to httpx carries no
Content-Encoding, so nothing is decoded twice.
"""

import zlib
from collections.abc import Iterator

try:
    import brotli
except ImportError:  # brotli is a dependency; without it, br is simply not asked for
    brotli = None

PIECE = 64 * 1024


class DecodingFailed(Exception):
    """The body is not valid in the encoding its server named."""


class _Identity:
    def feed(self, data: bytes) -> Iterator[bytes]:
        if data:
            yield data

    def flush(self) -> Iterator[bytes]:
        return iter(())


class _Zlib:
    def __init__(self, wbits: int, *, raw_fallback: bool = False) -> None:
        self._obj = zlib.decompressobj(wbits)
        # "deflate" is meant to be zlib-wrapped, but some servers send raw deflate.
        self._raw_fallback = raw_fallback
        self._started = False

    def feed(self, data: bytes) -> Iterator[bytes]:
        first, self._started = not self._started, True
        try:
            yield from self._pieces(data)
        except zlib.error as exc:
            if not (first and self._raw_fallback):
                raise DecodingFailed(str(exc)) from exc
            self._obj, self._raw_fallback = zlib.decompressobj(-zlib.MAX_WBITS), False
            yield from self.feed(data)

    def _pieces(self, data: bytes) -> Iterator[bytes]:
        while True:
            piece = self._obj.decompress(data, PIECE)
            data = self._obj.unconsumed_tail
            if piece:
                yield piece
            # A full piece may leave output pending inside zlib even with no input left.
            if not data and len(piece) < PIECE:
                return

    def flush(self) -> Iterator[bytes]:
        yield from self._pieces(b"")


class _Brotli:
    def __init__(self) -> None:
        self._obj = brotli.Decompressor()

    def feed(self, data: bytes) -> Iterator[bytes]:
        try:
            piece = self._obj.process(data, output_buffer_limit=PIECE)
            if piece:
                yield piece
            while not self._obj.can_accept_more_data():
                piece = self._obj.process(b"", output_buffer_limit=PIECE)
                if piece:
                    yield piece
        except brotli.error as exc:
            raise DecodingFailed(str(exc)) from exc

    def flush(self) -> Iterator[bytes]:
        return iter(())


_DECODERS = {
    "identity": _Identity,
    "gzip": lambda: _Zlib(zlib.MAX_WBITS | 16),
    "x-gzip": lambda: _Zlib(zlib.MAX_WBITS | 16),
    "deflate": lambda: _Zlib(zlib.MAX_WBITS, raw_fallback=True),
}
if brotli is not None:
    _DECODERS["br"] = _Brotli

# What the guarded clients ask for: exactly what this module can decode in bounded pieces.
ACCEPT_ENCODING = ", ".join(name for name in ("gzip", "deflate", "br") if name in _DECODERS)


class _Chain:
    """Encodings applied in turn ("gzip, br"), undone last one first."""

    def __init__(self, decoders: list) -> None:
        self._decoders = decoders

    def _through(self, pieces: Iterator[bytes], decoders: list) -> Iterator[bytes]:
        if not decoders:
            yield from pieces
            return
        for piece in pieces:
            yield from self._through(decoders[0].feed(piece), decoders[1:])

    def feed(self, data: bytes) -> Iterator[bytes]:
        return self._through(iter((data,)), self._decoders)

    def flush(self) -> Iterator[bytes]:
        # Each decoder flushes once, in order, what it flushes going through the later ones.
        for index, decoder in enumerate(self._decoders):
            yield from self._through(decoder.flush(), self._decoders[index + 1 :])


def decoder_for(content_encoding: str) -> "_Chain | None":
    """A decoder for a Content-Encoding header value; None when one of its encodings is not
    known (the body is then handed on as it came, and counted as such)."""
    names = [name.strip().lower() for name in content_encoding.split(",") if name.strip()]
    if not names or any(name not in _DECODERS for name in names):
        return None
    return _Chain([_DECODERS[name]() for name in reversed(names)])
