"""The RTSP camera simulator is a real server: FFmpeg and OpenCV read it, several at once."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import cv2
import pytest

from tests.media.conftest import processes_mentioning
from vigil.simulator import RtspSimulator, read_stamp, rtsp_describe

pytestmark = pytest.mark.slow


def _read_frames_cv2(url: str, count: int, out: list[int]) -> None:
    cap = cv2.VideoCapture(url, cv2.CAP_FFMPEG)
    try:
        for _ in range(count):
            ok, frame = cap.read()
            if not ok:
                break
            out.append(frame.shape[1])
    finally:
        cap.release()


def test_two_readers_at_once_and_a_second_mount(
    simulator: RtspSimulator, ffmpeg_exe: str, tmp_path: Path
) -> None:
    widths: list[int] = []
    reader = threading.Thread(target=_read_frames_cv2, args=(simulator.url(), 30, widths))
    reader.start()
    outputs = []
    procs = []
    for mount in ("/stream", "/other"):
        out = tmp_path / f"{mount.strip('/')}.mp4"
        outputs.append(out)
        cmd = [ffmpeg_exe, "-hide_banner", "-loglevel", "error", "-rtsp_transport", "tcp"]
        cmd += ["-i", simulator.url(mount), "-t", "3", "-c", "copy", "-y", str(out)]
        procs.append(subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True))
    for proc in procs:
        _, err = proc.communicate(timeout=60)
        assert proc.returncode == 0, err
    reader.join(timeout=60)
    assert widths == [768] * 30
    for out in outputs:
        cap = cv2.VideoCapture(str(out))
        frames = 0
        while cap.read()[0]:
            frames += 1
        assert frames >= 20, out  # ~3 s at 10 fps, all decodable


def test_credentials_are_enforced(auth_simulator: RtspSimulator) -> None:
    assert rtsp_describe(auth_simulator.url()) == 200
    assert rtsp_describe(auth_simulator.url(user="", password="")) == 401
    assert rtsp_describe(auth_simulator.url(password="wrong")) == 401
    assert rtsp_describe(auth_simulator.url("/missing")) == 404


def test_stamp_carries_the_wall_clock_time_of_each_frame(
    simulator_cache: Path, footage: Path
) -> None:
    with RtspSimulator(stamp=True, cache_dir=simulator_cache) as sim:
        cap = cv2.VideoCapture(sim.url(), cv2.CAP_FFMPEG)
        stamps = []
        for _ in range(15):
            ok, frame = cap.read()
            assert ok
            stamps.append(read_stamp(frame))
        cap.release()
        pid = sim.pid
    assert all(s is not None for s in stamps)
    values = [s for s in stamps if s is not None]
    assert values == sorted(values)
    assert 1.0 <= values[-1] - values[0] <= 3.0  # 14 frames apart at 10 fps
    assert abs(values[-1] - time.time()) < 60  # a wall-clock time, not a stream offset
    # Unstamped footage reads as None rather than as a garbage time.
    plain = cv2.VideoCapture(str(footage))
    ok, frame = plain.read()
    plain.release()
    assert ok
    assert read_stamp(frame) is None
    assert pid is not None
    assert not Path(f"/proc/{pid}").exists()


def test_start_failure_is_reported_and_leaves_nothing(
    simulator_cache: Path, tmp_path: Path
) -> None:
    bogus = tmp_path / "not-a-video.avi"
    bogus.write_bytes(b"\x00" * 1000)
    with pytest.raises(RuntimeError):
        RtspSimulator(bogus, cache_dir=simulator_cache).start()
    assert processes_mentioning(str(bogus)) == []
