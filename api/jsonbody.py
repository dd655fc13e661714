"""Strict JSON request bodies for every route.

Python's json module accepts `NaN`, `Infinity`, numbers that overflow to infinity (`1e400`) and
lone surrogates (`"\\ud800"`, or their raw bytes), none of which is JSON (RFC 8259) and each of
which used to reach a validator, a database driver or a response encoder and end in a 500.
Here they are a JSON decode error, which FastAPI answers with a 422 at `["body", position]`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.routing import APIRoute

_SURROGATE = re.compile("[\ud800-\udfff]")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError("number out of range")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _check_strings(value: Any) -> None:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                raise ValueError("string contains a lone surrogate (not valid Unicode)")
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)


def loads_strict(body: bytes | str) -> Any:
    """Parse RFC 8259 JSON: finite numbers and valid Unicode only."""
    try:
        value = json.loads(body, parse_float=_finite, parse_constant=_no_constant)
        _check_strings(value)
    except json.JSONDecodeError:
        raise
    except (ValueError, RecursionError) as exc:  # also int digit limits, deep nesting
        message = str(exc) if not isinstance(exc, RecursionError) else "nested too deeply"
        raise json.JSONDecodeError(message, "", 0) from None
    return value


class StrictJSONRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = loads_strict(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """Pass as `APIRouter(route_class=StrictJSONRoute)`."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
