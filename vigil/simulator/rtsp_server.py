"""RTSP camera simulator: serves a looping H.264 file on 127.0.0.1 through GStreamer.

Runs under the *system* interpreter (`/usr/bin/python3`, which has PyGObject); import nothing
from the venv here. `RtspSimulator` in `manager.py` starts it as a subprocess.

Each mount has one looping source feeding an `appsrc` inside a *shared* media, so any number of
clients read the same live stream. Python owns pacing and timestamps, which is what makes the
loop seamless (a file pipeline would hit EOS) and lets `--stamp` burn the wall-clock time of each
frame into its top pixel row (decoded by `vigil.simulator.stamp`) for latency measurements.

Modes: `copy` pushes the file's H.264 access units unchanged (near-zero CPU); `encode` decodes,
optionally stamps, and re-encodes with x264 (keyframe every `--keyint` frames).
On start it prints `READY <port>` on stdout.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
from typing import Any

import gi

gi.require_version("Gst", "1.0")
gi.require_version("GstRtspServer", "1.0")
gi.require_version("GstVideo", "1.0")
from gi.repository import GLib, Gst, GstRtspServer, GstVideo  # noqa: E402

# Stamp layout, mirrored by vigil/simulator/stamp.py: 48 bits (ms since the epoch, MSB first),
# each bit a block STAMP_HEIGHT rows high and width // STAMP_BITS wide, in the luma plane.
STAMP_BITS = 48
STAMP_HEIGHT = 16
LUMA_ONE, LUMA_ZERO = 235, 16


def stamp_row(width: int, ms: int) -> bytes:
    block = width // STAMP_BITS
    row = bytearray(bytes([LUMA_ZERO]) * width)
    for i in range(STAMP_BITS):
        if (ms >> (STAMP_BITS - 1 - i)) & 1:
            row[i * block : (i + 1) * block] = bytes([LUMA_ONE]) * block
    return bytes(row)


class LoopingSource:
    """Pulls frames (raw I420 or H.264 AUs) from a file forever, seeking to 0 on EOS."""

    def __init__(self, path: str, raw: bool) -> None:
        tail = (
            "avdec_h264 ! videoconvert ! video/x-raw,format=I420"
            if raw
            else "video/x-h264,stream-format=byte-stream,alignment=au"
        )
        self.pipeline: Any = Gst.parse_launch(
            f'filesrc location="{path}" ! qtdemux ! h264parse config-interval=-1 ! {tail} '
            "! appsink name=out sync=false max-buffers=4 emit-signals=false"
        )
        self.sink: Any = self.pipeline.get_by_name("out")
        self.pipeline.set_state(Gst.State.PLAYING)
        first = self.sink.emit("try-pull-preroll", 10 * Gst.SECOND)
        if first is None:
            raise RuntimeError(f"cannot read {path}")
        self.caps: Any = first.get_caps()
        s = self.caps.get_structure(0)
        ok, num, den = s.get_fraction("framerate")
        self.fps = num / den if ok and num > 0 else 10.0
        self.width = s.get_value("width")
        self.height = s.get_value("height")
        self.layout: Any = GstVideo.VideoInfo.new_from_caps(self.caps) if raw else None

    def next_sample(self) -> Any:
        for _ in range(3):
            sample = self.sink.emit("try-pull-sample", 5 * Gst.SECOND)
            if sample is not None:
                return sample
            # EOS: rewind. The file starts with an IDR frame, so the loop is seamless.
            self.pipeline.seek_simple(Gst.Format.TIME, Gst.SeekFlags.FLUSH, 0)
        raise RuntimeError("source stopped producing frames")

    def close(self) -> None:
        self.pipeline.set_state(Gst.State.NULL)


class Mount:
    """One mount path: a shared factory whose current media's appsrc is fed by a pacing thread."""

    def __init__(self, path: str, args: argparse.Namespace) -> None:
        self.path = path
        self.stamp = args.stamp
        self.encode = args.mode == "encode" or args.stamp
        self.source = LoopingSource(args.file, raw=self.encode)
        self.appsrc: Any = None
        self.lock = threading.Lock()
        self._ts_owner: Any = None
        self._ts_next = 0
        self.factory = GstRtspServer.RTSPMediaFactory()
        if self.encode:
            enc = (
                f"x264enc tune=zerolatency speed-preset=ultrafast threads=1 bitrate={args.bitrate} "
                f"key-int-max={args.keyint} ! video/x-h264,profile=constrained-baseline ! "
            )
        else:
            enc = ""
        self.factory.set_launch(
            "( appsrc name=src is-live=true format=time do-timestamp=false ! queue ! "
            f"{enc}h264parse ! rtph264pay name=pay0 pt=96 config-interval=-1 "
            "aggregate-mode=zero-latency )"
        )
        self.factory.set_shared(True)
        self.factory.connect("media-configure", self._on_media_configure)
        threading.Thread(target=self._pump, daemon=True).start()

    def _on_media_configure(self, _factory: Any, media: Any) -> None:
        appsrc = media.get_element().get_by_name_recurse_up("src")
        appsrc.set_property("caps", self.source.caps)
        media.connect("unprepared", self._on_unprepared, appsrc)
        with self.lock:
            self.appsrc = appsrc

    def _on_unprepared(self, _media: Any, appsrc: Any) -> None:
        with self.lock:
            # A new media may already have replaced the one going away: keep feeding that one.
            if self.appsrc is appsrc:
                self.appsrc = None

    def _pump(self) -> None:
        period = 1.0 / self.source.fps
        step = int(period * Gst.SECOND)
        deadline = time.monotonic()
        while True:
            deadline += period
            delay = deadline - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            else:
                deadline = time.monotonic()  # fell behind (CPU starved): don't burst
            with self.lock:
                appsrc = self.appsrc
            if appsrc is None:
                continue
            clock = appsrc.get_clock()
            if clock is None:  # not PLAYING yet: a live source drops, it doesn't queue
                continue
            buf = self._next_buffer()
            buf.pts = buf.dts = self._timestamp(appsrc, clock.get_time() - appsrc.get_base_time())
            buf.duration = step
            appsrc.emit("push-buffer", buf)

    def _timestamp(self, appsrc: Any, running: int) -> int:
        """A regular frame clock (base + n * period), like a camera's, re-based when a new media
        starts or when it drifts from the running time by more than half a second."""
        step = int(Gst.SECOND / self.source.fps)
        if appsrc is not self._ts_owner or abs(running - self._ts_next) > Gst.SECOND // 2:
            self._ts_owner, self._ts_next = appsrc, running
        pts = self._ts_next
        self._ts_next += step
        return pts

    def _next_buffer(self) -> Any:
        buf = self.source.next_sample().get_buffer()
        if not self.stamp:
            return buf.copy_deep()
        data = bytearray(buf.extract_dup(0, buf.get_size()))
        info = self.source.layout  # I420 planes: offsets and strides (rows may be padded)
        row = stamp_row(self.source.width, int(time.time() * 1000))
        for y in range(STAMP_HEIGHT):
            start = info.offset[0] + y * info.stride[0]
            data[start : start + len(row)] = row
        chroma = b"\x80" * (self.source.width // 2)  # neutral chroma: a black/white code
        for plane in (1, 2):
            for y in range(STAMP_HEIGHT // 2):
                start = info.offset[plane] + y * info.stride[plane]
                data[start : start + len(chroma)] = chroma
        return Gst.Buffer.new_wrapped(bytes(data))


class Anchor:
    """A built-in client that keeps each shared media prepared and playing, like a camera that
    always encodes. Without it the last client leaving unprepares the media, and a client that
    connects during that teardown gets 503 Service Unavailable."""

    def __init__(self, url: str, user: str | None, password: str | None) -> None:
        self.url, self.user, self.password = url, user, password
        self.pipeline: Any = None
        self._start()

    def _start(self) -> bool:
        self.pipeline = Gst.parse_launch(
            f"rtspsrc location={self.url} protocols=tcp latency=0 ! fakesink sync=false async=false"
        )
        if self.user:
            src = self.pipeline.get_by_name("rtspsrc0")
            src.set_property("user-id", self.user)
            src.set_property("user-pw", self.password or "")
        self.pipeline.get_bus().add_watch(GLib.PRIORITY_DEFAULT, self._on_message)
        self.pipeline.set_state(Gst.State.PLAYING)
        return False  # as a GLib timeout callback: run once

    def _on_message(self, _bus: Any, message: Any) -> bool:
        if message.type in (Gst.MessageType.ERROR, Gst.MessageType.EOS):
            self.stop()
            GLib.timeout_add(1000, self._start)
            return False
        return True

    def stop(self) -> None:
        if self.pipeline is not None:
            self.pipeline.set_state(Gst.State.NULL)
            self.pipeline = None


def build_server(args: argparse.Namespace) -> tuple[Any, list[Mount]]:
    server = GstRtspServer.RTSPServer()
    server.set_address(args.host)
    server.set_service(str(args.port))
    mounts = [Mount(path, args) for path in args.mount or ["/stream"]]
    if args.user:
        auth = GstRtspServer.RTSPAuth()
        token = GstRtspServer.RTSPToken()
        token.set_string("media.factory.role", "camera-user")
        auth.add_basic(GstRtspServer.RTSPAuth.make_basic(args.user, args.password or ""), token)
        server.set_auth(auth)
    table = server.get_mount_points()
    for mount in mounts:
        if args.user:
            permissions = GstRtspServer.RTSPPermissions()
            permissions.add_permission_for_role("camera-user", "media.factory.access", True)
            permissions.add_permission_for_role("camera-user", "media.factory.construct", True)
            mount.factory.set_permissions(permissions)
        table.add_factory(mount.path, mount.factory)
    return server, mounts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", required=True, help="H.264 MP4 (see transcode_for_simulator)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--mount", action="append", help="mount path, repeatable (/stream)")
    parser.add_argument("--mode", choices=["copy", "encode"], default="copy")
    parser.add_argument("--stamp", action="store_true", help="burn wall-clock ms into row 0")
    parser.add_argument("--keyint", type=int, default=10, help="encode mode: frames per GOP")
    parser.add_argument("--bitrate", type=int, default=2000, help="encode mode: kbit/s")
    parser.add_argument("--user")
    parser.add_argument("--password")
    args = parser.parse_args(argv)

    Gst.init(None)
    server, mounts = build_server(args)
    loop = GLib.MainLoop()
    if server.attach(None) == 0:
        print(f"ERROR cannot listen on {args.host}:{args.port}", file=sys.stderr, flush=True)
        return 2
    for signum in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signum, loop.quit)
    port = server.get_bound_port()
    anchors = [
        Anchor(f"rtsp://{args.host}:{port}{m.path}", args.user, args.password) for m in mounts
    ]
    print(f"READY {port}", flush=True)
    try:
        loop.run()
    finally:
        for anchor in anchors:
            anchor.stop()
        for mount in mounts:
            mount.source.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
