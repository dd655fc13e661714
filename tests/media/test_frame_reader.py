"""The detect-stream decoder: real ffmpeg on real footage, a real RTSP simulator."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fixtures.waiting import wait_for
from vigil.media.frame_reader import (
    DecodeOptions,
    FileFrameReader,
    LiveFrameReader,
    TimedFrame,
    build_decode_command,
    parse_output_size,
)
from vigil.simulator import RtspSimulator

T0 = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def read_all(reader: FileFrameReader, timeout: float = 60.0) -> list[TimedFrame]:
    frames: list[TimedFrame] = []
    deadline = time.monotonic() + timeout
    while not reader.finished and time.monotonic() < deadline:
        frame = reader.poll()
        if frame is None:
            time.sleep(0.01)
        else:
            frames.append(frame)
    assert reader.finished, "the reader did not reach the end of the file"
    return frames


def test_output_size_is_read_from_ffmpegs_description() -> None:
    line = (
        "  Stream #0:0: Video: rawvideo (BGR[24] / 0x18524742), bgr24(pc, gbr/unknown/unknown, "
        "progressive), 640x480, q=2-31, 36864 kb/s, 5 fps, 5 tbn"
    )
    assert parse_output_size(line) == (640, 480)
    input_line = "  Stream #0:0: Video: msmpeg4v3 (div3 / 0x33766964), yuv420p, 768x576, 10 fps"
    assert parse_output_size(input_line) is None


def test_commands_scale_down_only_and_bound_live_io() -> None:
    live = build_decode_command(
        "ffmpeg", "rtsp://cam/s", DecodeOptions(fps=5, width=640), live=True
    )
    assert live[live.index("-vf") + 1] == "fps=5,scale='min(640,iw)':-2"
    assert live[live.index("-rtsp_transport") + 1] == "tcp"
    assert live[live.index("-timeout") + 1] == "5000000"
    replay = DecodeOptions(fps=2.5, width=320, offset_seconds=30, duration_seconds=4)
    file = build_decode_command("ffmpeg", "/v.mp4", replay, live=False)
    assert file[file.index("-ss") + 1] == "30" and file[file.index("-t") + 1] == "4"
    assert "-rtsp_transport" not in file


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fps": 0}, "fps"),
        ({"fps": 60}, "fps"),
        ({"width": 10}, "width"),
        ({"offset_seconds": -1}, "offset"),
        ({"duration_seconds": 0}, "duration"),
    ],
)
def test_bad_decode_options_are_refused(options: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        DecodeOptions(**options)


def test_file_frames_come_at_fixed_timestamps_and_resume_at_an_index(
    footage: Path, ffmpeg_exe: str
) -> None:
    options = DecodeOptions(fps=5, width=320, duration_seconds=2)
    frames = read_all(FileFrameReader(footage, options, ffmpeg_exe, T0).start())
    assert [f.index for f in frames] == list(range(10))
    assert [f.ts for f in frames] == [T0 + timedelta(seconds=i / 5) for i in range(10)]
    assert {f.frame.shape for f in frames} == {(240, 320, 3)}  # 768x576 scaled, aspect kept

    resumed = read_all(FileFrameReader(footage, options, ffmpeg_exe, T0, start_index=6).start())
    assert [f.index for f in resumed] == [6, 7, 8, 9]
    for a, b in zip(frames[6:], resumed, strict=True):
        assert a.ts == b.ts and (a.frame == b.frame).all()  # the same frames, bit for bit


def test_a_small_source_is_not_enlarged(footage: Path, ffmpeg_exe: str) -> None:
    options = DecodeOptions(fps=5, width=1920, duration_seconds=0.4)
    frames = read_all(FileFrameReader(footage, options, ffmpeg_exe, T0).start())
    assert frames[0].frame.shape == (576, 768, 3)


def test_an_unreadable_file_ends_with_an_error(tmp_path: Path, ffmpeg_exe: str) -> None:
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 100)
    reader = FileFrameReader(junk, DecodeOptions(), ffmpeg_exe, T0).start()
    assert read_all(reader) == []
    assert reader.error
    with pytest.raises(FileNotFoundError):
        FileFrameReader(tmp_path / "missing.mp4", DecodeOptions(), ffmpeg_exe, T0).start()


@pytest.mark.slow
def test_live_reader_keeps_only_the_newest_frame(simulator: RtspSimulator, ffmpeg_exe: str) -> None:
    statuses: list[tuple[str, str | None]] = []
    reader = LiveFrameReader(
        simulator.url(),
        DecodeOptions(fps=5, width=320),
        ffmpeg_exe,
        on_status=lambda status, error: statuses.append((status, error)),
    ).start()
    try:
        assert wait_for(lambda: reader.stats.frames_in >= 8, 60)  # nobody takes: all but one drop
        stats = reader.stats
        assert stats.queued == 1 and stats.dropped >= stats.frames_in - 2
        first = reader.take()
        assert first is not None and first.frame.shape == (240, 320, 3)
        assert reader.take() is None  # taken: nothing newer yet
        assert wait_for(lambda: reader.stats.queued == 1, 10)
        newer = reader.take()
        assert newer is not None and newer.ts > first.ts and newer.index > first.index
        assert statuses[0] == ("online", None)
    finally:
        reader.stop()


@pytest.mark.slow
def test_unreachable_camera_is_reported_offline_without_its_password(ffmpeg_exe: str) -> None:
    statuses: list[tuple[str, str | None]] = []
    reader = LiveFrameReader(
        "rtsp://viewer:S3cret-pass@127.0.0.1:9/stream",
        DecodeOptions(io_timeout_seconds=2),
        ffmpeg_exe,
        on_status=lambda status, error: statuses.append((status, error)),
        backoff_initial_seconds=0.1,
        backoff_max_seconds=0.3,
    ).start()
    try:
        assert wait_for(lambda: reader.stats.reconnects >= 2, 30)
    finally:
        reader.stop()
    assert statuses and statuses[0][0] == "offline"
    assert all("S3cret-pass" not in (error or "") for _, error in statuses)
    assert reader.take() is None
