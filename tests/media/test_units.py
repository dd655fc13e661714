"""Pure pieces: progress parsing, failure classification, masking, backoff, segment index."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from vigil.cameras.urls import mask_credentials_in_text, mask_url
from vigil.media.diagnostics import COARSE, ProgressParser, classify_failure, mask_secrets
from vigil.media.ffmpeg import IngestOptions, build_ingest_command, probe_video
from vigil.media.paths import MediaPaths
from vigil.media.recordings import find_gaps, list_segments
from vigil.processes import backoff_delay

URL = "rtsp://admin:hunter22@cam.local:554/stream"


def test_progress_blocks_are_parsed() -> None:
    parser = ProgressParser()
    lines = ["frame=N/A", "out_time_us=N/A", "progress=continue", "frame=42", "speed=1.01x"]
    reports = [parser.feed(line) for line in [*lines, "progress=end"]]
    assert reports[2] is not None
    assert reports[2].frame == 0
    last = reports[-1]
    assert last is not None
    assert (last.frame, last.speed, last.ended) == (42, "1.01x", True)


FFMPEG_LINES = [
    ("[in#0 @ 0x55] Error opening input: Server returned 401 Unauthorized", "error", "auth"),
    ("Error opening input files: Server returned 404 Not Found", "offline", "not_found"),
    (
        "[tcp @ 0x5] Connection to tcp://cam:554?timeout=5 failed: Connection refused",
        "offline",
        "refused",
    ),
    ("[tcp @ 0x5] Connection to tcp://cam:554 failed: Connection timed out", "offline", "timeout"),
    (
        "[tcp @ 0x5] Connection to tcp://cam:554?timeout=5 failed: No route to host",
        "offline",
        "unreachable",
    ),
    ("Failed to resolve hostname cam.invalid: Name or service not known", "offline", "unreachable"),
    (
        "Error opening input files: Invalid data found when processing input",
        "error",
        "invalid_data",
    ),
    ("Could not find tag for codec pcm_alaw in stream #0", "error", "unsupported"),
    ("[in#0 @ 0x55] Failed reading RTSP data: End of file", "offline", "eof"),
    (
        "[segment @ 0x5] Failed to open segment '/m/x.mp4': No space left on device",
        "error",
        "storage",
    ),
    ("something nobody expected", "offline", "exited"),
]


@pytest.mark.parametrize(("line", "status", "reason"), FFMPEG_LINES)
def test_failures_are_classified(line: str, status: str, reason: str) -> None:
    failure = classify_failure(["noise", line], 1, URL)
    assert (failure.status, failure.reason) == (status, reason)
    assert failure.codec_unsupported == (reason == "unsupported")
    assert failure.detail  # the operator's log keeps FFmpeg's own words


@pytest.mark.parametrize(
    ("line", "reason"), [(line, reason) for line, _, reason in FFMPEG_LINES if reason in COARSE]
)
def test_connection_failures_are_shown_coarsely(line: str, reason: str) -> None:
    """What the owner sees says what went wrong, not which address and port answered how."""
    failure = classify_failure(["noise", line], 1, URL)
    assert failure.message == COARSE[reason]
    assert not any(part in failure.message for part in ("cam:", "cam.", "554", "tcp:", "0x5"))


def test_passwords_are_masked_in_urls_and_on_their_own() -> None:
    text = f"Error opening input file {URL}. password hunter22 and h%75nter22"
    masked = mask_secrets(text, URL.replace("hunter22", "h%75nter22"))
    assert "hunter22" not in masked
    assert "h%75nter22" not in masked
    assert "rtsp://admin:***@cam.local:554/stream" in masked


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "rtsp://cam.local/s?user=admin&password=hunter22",
            "rtsp://cam.local/s?user=admin&password=***",
        ),
        (
            "rtsp://a:hunter22@cam.local/s?usr=admin&PWD=hunter%32%32&channel=1",
            "rtsp://a:***@cam.local/s?usr=admin&PWD=***&channel=1",
        ),
        ("rtsp://cam.local/s?pw=hunter22;token=hunter22", "rtsp://cam.local/s?pw=***;token=***"),
        (
            "rtsp://cam.local/s?api_key=hunter22&keyframe=1",
            "rtsp://cam.local/s?api_key=***&keyframe=1",
        ),
        ("rtsp://cam.local/s?password=&channel=1", "rtsp://cam.local/s?password=&channel=1"),
    ],
)
def test_query_string_credentials_are_masked_like_userinfo(url: str, shown: str) -> None:
    assert mask_url(url) == shown
    assert mask_credentials_in_text(f"Error opening {url} (401 Unauthorized)") == (
        f"Error opening {shown} (401 Unauthorized)"
    )
    # FFmpeg may also print the secret on its own, decoded.
    if "password=&" not in url:
        assert "hunter22" not in mask_secrets(f"{url} failed; password hunter22", url)


def test_backoff_grows_is_jittered_and_capped() -> None:
    delays = [backoff_delay(n, 1.0, 30.0) for n in range(12)]
    assert 0.5 <= delays[0] <= 1.0
    assert 4.0 <= delays[3] <= 8.0
    assert all(15.0 <= d <= 30.0 for d in delays[6:])
    assert len({backoff_delay(5, 1.0, 30.0) for _ in range(20)}) > 1


def test_copy_command_never_reencodes_and_transcode_uses_one_encode(tmp_path: Path) -> None:
    paths = MediaPaths(tmp_path)
    copy = build_ingest_command("ffmpeg", URL, paths, 3, IngestOptions())
    assert copy.count("copy") == 2
    assert "libx264" not in copy
    assert copy[copy.index("-rtsp_transport") + 1] == "tcp"
    assert str(paths.record_template(3)) in copy
    assert copy[-1] == str(paths.snapshot(3))
    enc = build_ingest_command("ffmpeg", URL, paths, 3, IngestOptions(transcode=True))
    assert enc.count("libx264") == 1
    assert enc[enc.index("-f") + 1] == "tee"
    with pytest.raises(ValueError, match="tee"):
        build_ingest_command(
            "ffmpeg", URL, MediaPaths(Path("/tmp/a:b")), 3, IngestOptions(transcode=True)
        )


def test_probe_reads_the_footage(footage: Path, ffmpeg_exe: str) -> None:
    info = probe_video(footage, ffmpeg_exe)
    assert (info.width, info.height, info.fps) == (768, 576, 10.0)
    assert info.duration_seconds is not None
    assert 70 < info.duration_seconds < 90


def _touch_segment(paths: MediaPaths, start: datetime, written: float) -> None:
    day = paths.record_day_dir(1, start.date())
    day.mkdir(parents=True, exist_ok=True)
    path = day / start.strftime("%Y%m%dT%H%M%SZ.mp4")
    path.write_bytes(b"x")
    mtime = (start + timedelta(seconds=written)).timestamp()
    os.utime(path, (mtime, mtime))


def test_segment_index_from_names_handles_midnight_gaps_and_the_growing_tail(
    tmp_path: Path,
) -> None:
    paths = MediaPaths(tmp_path)
    t0 = datetime(2026, 11, 25, 23, 59, 40, tzinfo=UTC)
    for offset in (0, 10, 20, 30):  # crosses midnight into the next day dir
        _touch_segment(paths, t0 + timedelta(seconds=offset), written=10)
    _touch_segment(paths, t0 + timedelta(seconds=70), written=10)  # after a 30 s outage
    _touch_segment(paths, t0 + timedelta(seconds=80), written=4)  # still being written
    (paths.record_day_dir(1, t0.date()) / "notes.txt").write_text("ignored")
    now = t0 + timedelta(seconds=84.5)
    segs = list_segments(paths, 1, t0 + timedelta(seconds=5), now, now=now)
    assert [int((s.start - t0).total_seconds()) for s in segs] == [0, 10, 20, 30, 70, 80]
    assert segs[0].end == t0 + timedelta(seconds=10)
    assert segs[3].end == t0 + timedelta(seconds=40)  # mtime: the outage starts here
    assert [s.complete for s in segs] == [True] * 5 + [False]
    gaps = find_gaps(segs, t0, now)
    assert [
        (int((g.start - t0).total_seconds()), int((g.end - t0).total_seconds())) for g in gaps
    ] == [(40, 70)]
    assert list_segments(paths, 1, t0 + timedelta(seconds=41), t0 + timedelta(seconds=69)) == []
    with pytest.raises(ValueError, match="timezone"):
        list_segments(paths, 1, datetime(2026, 1, 1), now)
