"""Small pieces shared by the dashboard's pages, kept apart from navigation.py (which imports
every page) so that no page imports navigation."""

from __future__ import annotations

import streamlit as st


def _registered_elsewhere() -> None:
    """Never run: st.navigation registers the real Cameras page under the same URL path."""


def no_cameras(message: str, icon: str | None = None) -> None:
    """The empty state of a page that needs a camera: why it is empty and a link to add one.
    Streamlit keys pages by URL path, so a page object with the Cameras path links to it."""
    st.info(message, icon=icon)
    cameras = st.Page(_registered_elsewhere, url_path="cameras", title="Cameras")
    st.page_link(cameras, label="Add a camera", icon=":material/add:")
