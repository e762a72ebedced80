"""papers-assistant's Streamlit app (`papers ui`): Chat, Explore and Evals pages."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # `streamlit run ui/app.py` from a checkout

st.set_page_config(page_title="papers-assistant", page_icon=":material/description:", layout="wide")
here = Path(__file__).parent
page = st.navigation([
    st.Page(here / "chat_page.py", title="Chat", icon=":material/chat:", default=True),
    st.Page(here / "explore_page.py", title="Explore", icon=":material/search:"),
    st.Page(here / "evals_page.py", title="Evals", icon=":material/bar_chart:"),
])
page.run()
