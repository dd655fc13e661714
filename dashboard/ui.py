"""Small pieces shared by the dashboard's pages, kept apart from navigation.py (which imports
every page) so that no page imports navigation."""

from __future__ import annotations

import streamlit as st


def _registered_elsewhere() -> None:
    """Never run: st.navigation registers the real Cameras page under the same URL path."""


def cameras_link(label: str = "Add a camera", icon: str = ":material/add:") -> None:
    """A link to the Cameras page. Streamlit keys pages by URL path, so a page object with the
    Cameras path links to the page st.navigation registered."""
    cameras = st.Page(_registered_elsewhere, url_path="cameras", title="Cameras")
    st.page_link(cameras, label=label, icon=icon)


def no_cameras(message: str, icon: str | None = None) -> None:
    """The empty state of a page that needs a camera: why it is empty and a link to add one."""
    st.info(message, icon=icon)
    cameras_link()
