"""The dashboard's entry script, run by Streamlit for every interaction.

Every screen is registered even when nobody is signed in, so a bookmarked page (say /events)
shows the login form first and then that page, instead of "page not found".
"""

from __future__ import annotations

import streamlit as st

from dashboard import navigation, session
from dashboard.formatting import md
from dashboard.pages import login

st.set_page_config(page_title="Vigil", page_icon="📹", layout="wide")

if session.signed_in():
    page = st.navigation(list(navigation.pages().values()))
    with st.sidebar:
        st.caption(f"Signed in as **{md(session.email())}**")
        if st.button("Log out", icon=":material/logout:"):
            session.sign_out()
            st.rerun()
    page.run()
else:
    st.navigation(list(navigation.pages().values()), position="hidden")
    login.render()
