"""S3ObjectStore against a real SeaweedFS: signatures, presigned URLs, prefixes, the factory."""

from __future__ import annotations

import urllib.error
import urllib.request
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from vigil.embedded import SeaweedFS
from vigil.settings import Settings
from vigil.storage import (
    LocalObjectStore,
    S3Config,
    S3ObjectStore,
    object_store_from_settings,
)


def _get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


@pytest.mark.parametrize(
    ("access_key", "secret_key"),
    [("vigil-test", "wrong-secret"), ("nobody", "vigil-test-secret-key")],
)
def test_wrong_credentials_refused(
    seaweedfs: SeaweedFS, s3_bucket: str, access_key: str, secret_key: str
) -> None:
    config = S3Config(
        endpoint_url=seaweedfs.endpoint_url,
        access_key=access_key,
        secret_key=secret_key,
        max_attempts=1,
    )
    intruder = S3ObjectStore.connect(config, s3_bucket)
    with pytest.raises(ClientError) as excinfo:
        intruder.put_bytes("x.txt", b"nope")
    assert excinfo.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    with pytest.raises(ClientError):
        intruder.get_bytes("x.txt")


def test_presigned_url_plain_http_get_with_range(s3_store: S3ObjectStore) -> None:
    data = bytes(range(200))
    s3_store.put_bytes("clips/cam-1/e1.mp4", data)
    url = s3_store.presigned_url("clips/cam-1/e1.mp4", expires_in=60)
    assert url is not None

    status, body = _get(url)
    assert (status, body) == (200, data)
    status, body = _get(url, {"Range": "bytes=10-19"})
    assert (status, body) == (206, data[10:20])

    tampered = url.replace("X-Amz-Signature=", "X-Amz-Signature=0")
    assert _get(tampered)[0] == 403
    unsigned = url.split("?")[0]
    assert _get(unsigned)[0] == 403


def test_content_type_guessed_from_key(s3_store: S3ObjectStore) -> None:
    s3_store.put_bytes("snapshots/a.jpg", b"\xff\xd8")
    head = s3_store.client.head_object(Bucket=s3_store.bucket, Key="snapshots/a.jpg")
    assert head["ContentType"] == "image/jpeg"


def test_key_prefix_isolates_stores_in_one_bucket(seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    a = S3ObjectStore.connect(seaweedfs.s3_config, s3_bucket, prefix="tenant-a")
    b = S3ObjectStore.connect(seaweedfs.s3_config, s3_bucket, prefix="tenant-b/")
    a.put_bytes("x.txt", b"a")
    b.put_bytes("x.txt", b"b")
    assert (a.get_bytes("x.txt"), b.get_bytes("x.txt")) == (b"a", b"b")
    assert [i.key for i in a.list()] == ["x.txt"]
    a.delete_many(["x.txt"])
    assert b.exists("x.txt")
    assert not a.exists("x.txt")


def test_batch_delete_spans_several_requests(seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    store = S3ObjectStore(seaweedfs.client(), s3_bucket, delete_batch=3)  # S3 allows 1000
    keys = [f"bulk/{i:02d}.bin" for i in range(10)]
    for key in keys:
        store.put_bytes(key, b".")
    store.delete_many([*keys[:8], "bulk/missing.bin"])
    assert [i.key for i in store.list("bulk/")] == keys[8:]


def test_local_store_does_not_presign(tmp_path: Path) -> None:
    store = LocalObjectStore(tmp_path)
    store.put_bytes("a.jpg", b"x")
    assert store.presigned_url("a.jpg") is None


def test_factory_local(tmp_path: Path) -> None:
    settings = Settings(_env_file=None, data_dir=tmp_path, object_store="local")  # type: ignore[call-arg]
    store = object_store_from_settings(settings)
    assert isinstance(store, LocalObjectStore)
    assert store.root == (tmp_path / "objects").resolve()


def test_factory_embedded_uses_seaweedfs_port(seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        object_store="embedded",
        seaweedfs_s3_port=seaweedfs.layout.s3,
        s3_bucket=s3_bucket,
        s3_access_key=seaweedfs.access_key,
        s3_secret_key=seaweedfs.secret_key,
    )
    store = object_store_from_settings(settings)
    assert isinstance(store, S3ObjectStore)
    assert store.client.meta.endpoint_url == seaweedfs.endpoint_url
    store.put_bytes("from-settings.txt", b"ok")
    assert store.get_bytes("from-settings.txt") == b"ok"


def test_factory_s3_uses_endpoint_url(seaweedfs: SeaweedFS, s3_bucket: str) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        object_store="s3",
        s3_endpoint_url=seaweedfs.endpoint_url,
        s3_bucket=s3_bucket,
        s3_access_key=seaweedfs.access_key,
        s3_secret_key=seaweedfs.secret_key,
    )
    store = object_store_from_settings(settings)
    store.put_bytes("k.txt", b"v")
    assert S3ObjectStore(seaweedfs.client(), s3_bucket).get_bytes("k.txt") == b"v"
