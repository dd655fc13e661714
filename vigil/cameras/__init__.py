"""Camera domain rules shared by the API, ingest and dataflows."""
