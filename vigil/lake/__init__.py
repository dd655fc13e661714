"""The Parquet lake: `lake/<table>/camera_id=…/date=…/hour=…/part-….parquet`."""
