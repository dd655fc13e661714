"""End to end on loopback: simulator -> FFmpeg (supervised) -> HLS, recordings, snapshots, clips."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.fixtures.waiting import wait_for
from tests.media.conftest import (
    TEST_OPTIONS,
    StatusLog,
    processes_mentioning,
    zombie_children,
)
from vigil.media.ffmpeg import probe_video
from vigil.media.paths import MediaPaths
from vigil.media.recordings import cut_clip, find_gaps, list_segments
from vigil.media.supervisor import CameraSpec, IngestSupervisor, SupervisorConfig
from vigil.simulator import RtspSimulator

pytestmark = pytest.mark.slow
SEGMENT = TEST_OPTIONS.record_segment_seconds


def _playlist_segments(playlist: Path) -> list[str]:
    try:
        return re.findall(r"^(seg_\d+\.ts)$", playlist.read_text(), re.M)
    except FileNotFoundError:
        return []


def _decoded_frames(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    frames = 0
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        assert frame.shape == (576, 768, 3)
        frames += 1
    cap.release()
    return frames


def _assert_no_leftover_processes(paths: MediaPaths) -> None:
    assert wait_for(lambda: not processes_mentioning(str(paths.root)), 10), "orphan ffmpeg"
    # A stopped FFmpeg is reaped by its supervisor thread a moment later; one never reaped stays.
    assert wait_for(lambda: zombie_children() == [], 10), "unreaped ffmpeg"


def test_live_hls_recording_snapshots_and_clip(
    simulator: RtspSimulator, supervisor_config: SupervisorConfig, status_log: StatusLog
) -> None:
    paths = supervisor_config.paths
    playlist = paths.playlist(1)
    started = datetime.now(UTC)
    with IngestSupervisor(supervisor_config, on_status=status_log) as supervisor:
        supervisor.sync([CameraSpec(1, simulator.url())])
        status_log.wait_status(1, "online", timeout=30)

        # (a) The HLS playlist appears, its window moves on, and its segments decode.
        assert wait_for(lambda: len(_playlist_segments(playlist)) >= 3, 20)
        first_window = _playlist_segments(playlist)
        snapshot_before = cv2.imread(str(paths.snapshot(1)))
        assert wait_for(lambda: _playlist_segments(playlist)[-1] != first_window[-1], 10)
        assert wait_for(lambda: _playlist_segments(playlist)[0] != first_window[0], 15)
        window = _playlist_segments(playlist)
        assert len(window) <= TEST_OPTIONS.hls_list_size
        for name in window[:-1]:  # the newest may still be renamed into place
            assert _decoded_frames(paths.live_file(1, name)) >= 5

        # (c) Snapshots decode and change over time (people walk through the scene).
        assert snapshot_before is not None
        assert snapshot_before.shape == (576, 768, 3)
        assert wait_for(lambda: _differs(cv2.imread(str(paths.snapshot(1))), snapshot_before), 15)

        # (b) Recorded segments cover the elapsed time without gaps larger than one segment.
        assert wait_for(lambda: len(list_segments(paths, 1, started, datetime.now(UTC))) >= 4, 40)
        now = datetime.now(UTC)
        segments = list_segments(paths, 1, started, now, segment_seconds=SEGMENT)
        assert segments[0].start - started < timedelta(seconds=SEGMENT + 5)
        assert now - segments[-1].end < timedelta(seconds=SEGMENT + 2)
        assert (
            find_gaps(segments, segments[0].start, segments[-1].end, tolerance_seconds=SEGMENT)
            == []
        )
        for segment in segments:  # the first is short: cuts are aligned to the wall clock
            if segment.complete:
                expected = segment.duration.total_seconds() * 10  # 10 fps
                assert _decoded_frames(segment.path) >= max(1, expected * 0.7)

        # Clip: [start + 1 s, start + 6 s] spans a segment boundary; cut by stream copy.
        clip_start = segments[0].start + timedelta(seconds=1)
        clip_end = clip_start + timedelta(seconds=5)
        clip = cut_clip(segments, clip_start, clip_end, paths.root / "clip.mp4")
    _assert_no_leftover_processes(paths)
    assert not playlist.exists()  # a stopped camera shows no stale live window

    info = probe_video(clip)
    assert info.codec == "h264"
    assert info.duration_seconds is not None
    assert 5 - 0.5 <= info.duration_seconds <= 5 + SEGMENT
    frames = _decoded_frames(clip)
    assert frames >= 45  # every frame decodes: the clip starts on a keyframe
    assert clip.read_bytes()[:64].find(b"ftyp") >= 0
    moov, mdat = clip.read_bytes().find(b"moov"), clip.read_bytes().find(b"mdat")
    assert 0 < moov < mdat  # +faststart: the index comes first, a browser can play at once


def _differs(image: np.ndarray | None, other: np.ndarray) -> bool:
    return image is not None and float(np.abs(image.astype(int) - other.astype(int)).mean()) > 0.5


def test_reencode_fallback_variant_produces_the_same_outputs(
    simulator: RtspSimulator, supervisor_config: SupervisorConfig, status_log: StatusLog
) -> None:
    paths = supervisor_config.paths
    with IngestSupervisor(supervisor_config, on_status=status_log) as supervisor:
        supervisor.sync([CameraSpec("reenc", simulator.url("/other"), transcode=True)])
        status_log.wait_status("reenc", "online", timeout=30)
        assert wait_for(lambda: len(_playlist_segments(paths.playlist("reenc"))) >= 2, 20)
        name = _playlist_segments(paths.playlist("reenc"))[0]
        assert _decoded_frames(paths.live_file("reenc", name)) >= 5
        assert wait_for(lambda: paths.snapshot("reenc").exists(), 10)
        now = datetime.now(UTC)
        assert wait_for(
            lambda: list_segments(paths, "reenc", now - timedelta(minutes=1), datetime.now(UTC)), 15
        )
    _assert_no_leftover_processes(paths)


def test_camera_drop_goes_offline_and_recovers(
    own_simulator: RtspSimulator, supervisor_config: SupervisorConfig, status_log: StatusLog
) -> None:
    paths = supervisor_config.paths
    with IngestSupervisor(supervisor_config, on_status=status_log) as supervisor:
        supervisor.sync([CameraSpec(5, own_simulator.url())])
        status_log.wait_status(5, "online", timeout=30)
        online_at = supervisor.states()["5"].last_seen
        assert online_at is not None

        own_simulator.stop()
        error = status_log.wait_status(5, "offline", timeout=20)
        assert error
        state = supervisor.states()["5"]
        assert state.status == "offline"
        assert state.last_seen is not None

        restarted = datetime.now(UTC)
        own_simulator.start()  # same port: the camera comes back at its address
        status_log.wait_status(5, "online", timeout=40)
        assert supervisor.states()["5"].error is None
        # Recording resumes: a segment starting after the restart appears.
        assert wait_for(
            lambda: any(
                s.start >= restarted.replace(microsecond=0)
                for s in list_segments(paths, 5, restarted, datetime.now(UTC))
            ),
            20,
        )
    _assert_no_leftover_processes(paths)


def test_bad_addresses_and_credentials_give_clear_masked_errors(
    simulator: RtspSimulator,
    auth_simulator: RtspSimulator,
    supervisor_config: SupervisorConfig,
    status_log: StatusLog,
) -> None:
    secret = "Secr3t-Pa55"
    wrong = "Wr0ng-Passw0rd"
    cameras = {
        "port": (f"rtsp://127.0.0.1:{_closed_port()}/stream", "offline", "refused"),
        "host": (f"rtsp://127.0.0.3:{simulator.port}/stream", "offline", "refused"),
        "path": (simulator.url("/no-such-mount"), "offline", "404"),
        "creds": (auth_simulator.url(password=wrong), "error", "401"),
        "nocreds": (auth_simulator.url(user="", password=""), "error", "401"),
        "scheme": ("file:///etc/passwd", "error", "invalid stream URL"),
    }
    with IngestSupervisor(supervisor_config, on_status=status_log) as supervisor:
        supervisor.sync([CameraSpec(key, url) for key, (url, _, _) in cameras.items()])
        for key, (_, status, words) in cameras.items():
            error = status_log.wait_status(key, status, timeout=30)
            assert error is not None
            assert words.lower() in error.lower(), (key, error)
        # The right password works (and is never shown either).
        supervisor.sync([CameraSpec("good", auth_simulator.url())])
        status_log.wait_status("good", "online", timeout=30)
        texts = [str(event) for event in status_log.events]
        texts += [str(state) for state in supervisor.states().values()]
    assert not any(secret in text or wrong in text for text in texts)
    assert processes_mentioning("/etc/passwd") == []


def test_sync_adds_removes_and_restarts(
    simulator: RtspSimulator, supervisor_config: SupervisorConfig
) -> None:
    paths = supervisor_config.paths
    a = CameraSpec(1, simulator.url("/stream"), fingerprint="v1")
    b = CameraSpec(2, simulator.url("/other"), fingerprint="v1")
    with IngestSupervisor(supervisor_config) as supervisor:
        assert supervisor.sync([a, b])["started"] == ["1", "2"]
        assert wait_for(lambda: all(s.pid for s in supervisor.states().values()), 10)
        pids = {key: state.pid for key, state in supervisor.states().items()}

        assert supervisor.sync([a, b]) == {"started": [], "stopped": [], "restarted": []}
        changed = CameraSpec(1, simulator.url("/stream"), fingerprint="v2")
        assert supervisor.sync([changed, b])["restarted"] == ["1"]
        assert wait_for(lambda: supervisor.states()["1"].pid not in (None, pids["1"]), 10)
        assert supervisor.states()["2"].pid == pids["2"]
        assert not Path(f"/proc/{pids['1']}").exists()

        disabled = CameraSpec(2, simulator.url("/other"), enabled=False)
        assert supervisor.sync([changed, disabled])["stopped"] == ["2"]
        assert set(supervisor.states()) == {"1"}
        assert not Path(f"/proc/{pids['2']}").exists()

        assert supervisor.sync([])["stopped"] == ["1"]
        assert supervisor.states() == {}
    _assert_no_leftover_processes(paths)


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_stall_without_frames_restarts(
    supervisor_config: SupervisorConfig, status_log: StatusLog
) -> None:
    """A server that accepts TCP but never answers: FFmpeg's I/O timeout or the stall guard ends
    the attempt, and the camera is reported offline."""
    import socket

    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen(8)
        port = server.getsockname()[1]
        with IngestSupervisor(supervisor_config, on_status=status_log) as supervisor:
            supervisor.sync([CameraSpec(9, f"rtsp://127.0.0.1:{port}/stream")])
            error = status_log.wait_status(9, "offline", timeout=30)
    assert error
    assert "timed out" in error.lower() or "no frames" in error.lower()
    time.sleep(0)  # keep the socket open until the supervisor has stopped
