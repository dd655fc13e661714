"""HTTP range requests over the object store (RFC 9110 §14), so browsers can seek in clips.

A single `bytes=a-b`, `bytes=a-` or `bytes=-n` range gets a 206 with Content-Range; an
unsatisfiable one a 416; anything else (no header, several ranges, malformed) the whole object
with a 200, as the RFC allows. Bodies are streamed in chunks, never loaded whole.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from fastapi import HTTPException, status
from fastapi.responses import StreamingResponse

from vigil.storage.objectstore import ObjectNotFoundError, ObjectStore

CHUNK = 1024 * 1024
_SINGLE_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) of a satisfiable single range; None to send everything.
    Raises 416 when the range cannot be satisfied."""
    if not header:
        return None
    match = _SINGLE_RANGE.match(header.strip())
    if match is None or (not match[1] and not match[2]):
        return None
    if not match[1]:  # suffix: the last n bytes
        length = int(match[2])
        if length == 0:
            raise _unsatisfiable(size)
        return max(0, size - length), size - 1
    start = int(match[1])
    end = int(match[2]) if match[2] else size - 1
    if start >= size or end < start:
        raise _unsatisfiable(size)
    return start, min(end, size - 1)


def _unsatisfiable(size: int) -> HTTPException:
    return HTTPException(
        status.HTTP_416_RANGE_NOT_SATISFIABLE,
        detail="requested range not satisfiable",
        headers={"Content-Range": f"bytes */{size}"},
    )


def object_response(
    store: ObjectStore, key: str, range_header: str | None, media_type: str
) -> StreamingResponse:
    try:
        size = store.size(key)
    except ObjectNotFoundError:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="media not found") from None
    selected = parse_range(range_header, size) if size else None
    start, end = selected if selected is not None else (0, size - 1)
    headers = {
        "Accept-Ranges": "bytes",
        "Content-Length": str(max(0, end - start + 1)),
        "Cache-Control": "private, max-age=3600",
    }
    if selected is not None:
        headers["Content-Range"] = f"bytes {start}-{end}/{size}"

    def chunks() -> Iterator[bytes]:
        position = start
        while position <= end:
            last = min(end, position + CHUNK - 1)
            yield store.get_range(key, position, last)
            position = last + 1

    return StreamingResponse(
        chunks(),
        status_code=status.HTTP_206_PARTIAL_CONTENT if selected else status.HTTP_200_OK,
        media_type=media_type,
        headers=headers,
    )
