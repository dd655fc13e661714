"""The Streamlit dashboard: screens per page, a typed API client, bundled hls.js."""
