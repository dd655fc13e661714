"""Per-browser-session state: who is signed in, the API client, and how API errors surface."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import httpx
import streamlit as st

from dashboard.client import ApiError, VigilClient
from dashboard.models import Token
from vigil.settings import get_settings

T = TypeVar("T")
_TOKEN = "vigil_token"  # noqa: S105 (a session_state key)
_EMAIL = "vigil_email"
_EXPIRES = "vigil_expires_at"
_FLASH = "vigil_flash"
EXPIRED = "Your session has expired. Please log in again."


@st.cache_resource
def _http() -> httpx.Client:
    """One connection pool for every browser session; each request carries its own token."""
    return httpx.Client(base_url=get_settings().resolved_api_url, timeout=15.0)


def client() -> VigilClient:
    return VigilClient(_http(), st.session_state.get(_TOKEN))


def token() -> str:
    return str(st.session_state.get(_TOKEN, ""))


def email() -> str:
    return str(st.session_state.get(_EMAIL, ""))


def signed_in() -> bool:
    if not st.session_state.get(_TOKEN):
        return False
    if time.time() >= float(st.session_state.get(_EXPIRES, 0)):
        sign_out(EXPIRED)
        return False
    return True


def sign_in(new_token: Token, user_email: str) -> None:
    st.session_state[_TOKEN] = new_token.access_token
    st.session_state[_EMAIL] = user_email
    # A minute early, so a page never starts with a token that dies while it loads.
    st.session_state[_EXPIRES] = time.time() + max(0, new_token.expires_in - 60)


def sign_out(notice: str | None = None) -> None:
    for key in list(st.session_state):
        del st.session_state[key]  # forget filters, drafts and loaded events too
    if notice:
        flash("warning", notice)


def flash(kind: str, text: str) -> None:
    """A message shown once at the top of the next run (after an action and `st.rerun()`)."""
    st.session_state[_FLASH] = (kind, text)


def show_flash() -> None:
    kind, text = st.session_state.pop(_FLASH, (None, None))
    if kind == "success":
        st.success(text, icon=":material/check_circle:")
    elif kind == "warning":
        st.warning(text, icon=":material/warning:")
    elif kind == "error":
        st.error(text, icon=":material/error:")


def handle(exc: ApiError, action: str) -> None:
    """Show an API error; an expired token signs the user out (the next run shows Log in)."""
    if exc.status == 401:
        sign_out(EXPIRED)
        st.rerun()
    st.error(f"{action}: {exc.message}", icon=":material/error:")


def load(action: str, call: Callable[[], T]) -> T:
    """The result of an API call a page cannot do without; on failure explain and stop."""
    try:
        return call()
    except ApiError as exc:
        handle(exc, action)
        st.stop()
        raise  # unreachable: st.stop() raises; keeps the type checker honest
