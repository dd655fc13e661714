"""Log in or create an account; the JWT stays in this browser session only."""

from __future__ import annotations

import streamlit as st

from dashboard import session
from dashboard.client import ApiError


def _login_error(exc: ApiError) -> str:
    if exc.status == 429:
        wait = f" in {exc.retry_after} s" if exc.retry_after else " in a minute"
        return f"Too many attempts. Try again{wait}."
    if exc.status == 401:
        return "Incorrect email or password."
    return exc.message


def _log_in_form() -> None:
    with st.form("login"):
        email = st.text_input("Email", key="login_email", autocomplete="username")
        password = st.text_input(
            "Password", type="password", key="login_password", autocomplete="current-password"
        )
        submitted = st.form_submit_button("Log in", type="primary")
    if not submitted:
        return
    if not email or not password:
        st.error("Enter your email and password.")
        return
    try:
        token = session.client().login(email.strip(), password)
    except ApiError as exc:
        st.error(_login_error(exc), icon=":material/error:")
        return
    session.sign_in(token, email.strip())
    st.rerun()


def _sign_up_form() -> None:
    errors: dict[str, str] = st.session_state.get("signup_errors", {})
    with st.form("signup"):
        email = st.text_input("Email", key="signup_email", autocomplete="email")
        if "email" in errors:
            st.error(errors["email"])
        password = st.text_input(
            "Password",
            type="password",
            key="signup_password",
            autocomplete="new-password",
            help="At least 10 characters; a sentence you will remember works well.",
        )
        if "password" in errors:
            st.error(errors["password"])
        submitted = st.form_submit_button("Create account", type="primary")
    if not submitted:
        return
    api = session.client()
    try:
        api.signup(email.strip(), password)
        token = api.login(email.strip(), password)
    except ApiError as exc:
        # Field messages go next to their field on the rerun; anything else shows here.
        st.session_state["signup_errors"] = exc.fields
        if not exc.fields:
            st.error(_login_error(exc), icon=":material/error:")
            return
        st.rerun()
    st.session_state.pop("signup_errors", None)
    session.sign_in(token, email.strip())
    session.flash("success", "Welcome to Vigil! Start by adding a camera.")
    st.rerun()


def render() -> None:
    _, middle, _ = st.columns([1, 2, 1])
    with middle:
        st.title("Vigil")
        st.caption("Self-hosted video surveillance")
        session.show_flash()
        log_in, sign_up = st.tabs(["Log in", "Create an account"])
        with log_in:
            _log_in_form()
        with sign_up:
            _sign_up_form()
