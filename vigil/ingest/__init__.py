"""The ingest service: one FFmpeg per enabled camera, in step with the cameras table."""
