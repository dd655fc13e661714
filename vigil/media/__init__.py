"""Media ingest: one FFmpeg process per camera turns its RTSP stream into an HLS live playlist,
10 s recorded segments and a periodic snapshot, all by stream copy.

Modules:
    ffmpeg       locate the binary, build ingest / clip commands, probe files
    paths        where each camera's media lives; guards against path traversal
    recordings   the recorded-segment index (from file names) and the clip cutter
    diagnostics  FFmpeg progress parsing and failure classification
    supervisor   CameraProcess (one camera's FFmpeg, babysat) and IngestSupervisor (sync)
"""
