"""ObjectStore on S3 or an S3-compatible server (SeaweedFS, MinIO) through boto3."""

from __future__ import annotations

import mimetypes
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError

from vigil.logs import get_logger
from vigil.storage.objectstore import (
    InvalidRangeError,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStoreError,
    ObjectStoreUnavailableError,
    check_range,
    validate_key,
    validate_prefix,
)

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = get_logger(__name__)

_NOT_FOUND = {"NoSuchKey", "NotFound", "404"}
_DELETE_BATCH = 1000  # S3's DeleteObjects limit
# Connection refused, reset or timed out (after botocore's own retries).
_UNREACHABLE = (BotoConnectionError, HTTPClientError)


@dataclass(frozen=True)
class S3Config:
    """Where an S3 endpoint is and how to sign for it. `endpoint_url=None` means AWS itself;
    keys left None fall back to boto3's credential chain (env, profile, instance role)."""

    endpoint_url: str | None = None
    access_key: str | None = field(default=None, repr=False)
    secret_key: str | None = field(default=None, repr=False)
    region: str = "us-east-1"
    max_attempts: int = 5  # botocore "standard" retries: throttling, 5xx, connection errors
    connect_timeout: float = 5.0
    read_timeout: float = 60.0


def make_s3_client(config: S3Config) -> S3Client:
    botocore_config = Config(
        signature_version="s3v4",
        # Path-style URLs (http://host:port/bucket/key): SeaweedFS and MinIO on an IP address
        # have no per-bucket DNS names.
        s3={"addressing_style": "path"},
        retries={"max_attempts": config.max_attempts, "mode": "standard"},
        connect_timeout=config.connect_timeout,
        read_timeout=config.read_timeout,
        # Newer botocore adds CRC checksums to every upload by default; S3-compatible servers
        # do not all accept them, so only send them where the API requires it.
        request_checksum_calculation="when_required",
        response_checksum_validation="when_required",
    )
    # A private session: boto3's default session is shared global state and not thread-safe.
    return boto3.session.Session().client(
        "s3",
        endpoint_url=config.endpoint_url,
        aws_access_key_id=config.access_key,
        aws_secret_access_key=config.secret_key,
        region_name=config.region,
        config=botocore_config,
    )


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def ensure_bucket(client: S3Client, bucket: str) -> bool:
    """Create `bucket` unless it exists; True if it was created."""
    try:
        client.head_bucket(Bucket=bucket)
        return False
    except ClientError as exc:
        if _error_code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
            raise
    region = client.meta.region_name
    try:
        if region and region != "us-east-1":
            client.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
        else:
            client.create_bucket(Bucket=bucket)
    except ClientError as exc:
        if _error_code(exc) in {"BucketAlreadyOwnedByYou", "BucketAlreadyExists"}:
            return False  # created concurrently (e.g. by `weed mini -bucket=`)
        raise
    log.info("bucket_created", bucket=bucket)
    return True


class S3ObjectStore:
    """Objects under an optional key `prefix` of one bucket (so tenants or tests can share it)."""

    def __init__(
        self, client: S3Client, bucket: str, *, prefix: str = "", delete_batch: int = 1000
    ) -> None:
        self.client = client
        self.bucket = bucket
        self.delete_batch = min(delete_batch, _DELETE_BATCH)
        prefix = prefix.strip("/")
        self.prefix = validate_prefix(prefix + "/") if prefix else ""

    @classmethod
    def connect(
        cls, config: S3Config, bucket: str, *, prefix: str = "", create_bucket: bool = False
    ) -> S3ObjectStore:
        client = make_s3_client(config)
        if create_bucket:
            ensure_bucket(client, bucket)
        return cls(client, bucket, prefix=prefix)

    def __repr__(self) -> str:
        return f"S3ObjectStore(bucket={self.bucket!r}, prefix={self.prefix!r})"

    def _key(self, key: str) -> str:
        return self.prefix + validate_key(key)

    def _extra(self, key: str, content_type: str | None) -> dict[str, Any]:
        content_type = content_type or mimetypes.guess_type(key)[0]
        return {"ContentType": content_type} if content_type else {}

    def put_bytes(self, key: str, data: bytes, *, content_type: str | None = None) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, **self._extra(key, content_type)
        )

    def put_file(self, key: str, path: Path, *, content_type: str | None = None) -> None:
        # upload_file switches to a multipart upload for large files (clips).
        self.client.upload_file(
            str(path), self.bucket, self._key(key), ExtraArgs=self._extra(key, content_type)
        )

    def get_bytes(self, key: str) -> bytes:
        try:
            response = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except (ClientError, *_UNREACHABLE) as exc:
            raise self._translate(exc, key) from exc
        return response["Body"].read()

    def get_range(self, key: str, start: int, end: int) -> bytes:
        check_range(start, end)
        try:
            response = self.client.get_object(
                Bucket=self.bucket, Key=self._key(key), Range=f"bytes={start}-{end}"
            )
        except (ClientError, *_UNREACHABLE) as exc:
            raise self._translate(exc, key) from exc
        return response["Body"].read()

    def size(self, key: str) -> int:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._key(key))["ContentLength"]
        except (ClientError, *_UNREACHABLE) as exc:
            raise self._translate(exc, key) from exc

    def exists(self, key: str) -> bool:
        try:
            self.size(key)
        except ObjectNotFoundError:
            return False
        return True

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def delete_many(self, keys: Iterable[str]) -> None:
        full = [self._key(key) for key in keys]  # validate all before deleting any
        for i in range(0, len(full), self.delete_batch):
            batch = full[i : i + self.delete_batch]
            response = self.client.delete_objects(
                Bucket=self.bucket,
                Delete={"Objects": [{"Key": key} for key in batch], "Quiet": True},
            )
            errors = response.get("Errors", [])
            if errors:
                detail = ", ".join(f"{e.get('Key')}: {e.get('Code')}" for e in errors[:5])
                raise ObjectStoreError(f"{len(errors)} object(s) not deleted: {detail}")

    def list(self, prefix: str = "") -> Iterator[ObjectInfo]:
        full_prefix = self.prefix + validate_prefix(prefix)
        paginator = self.client.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=full_prefix):
            for item in page.get("Contents", []):
                yield ObjectInfo(
                    key=item["Key"][len(self.prefix) :],
                    size=item["Size"],
                    last_modified=item["LastModified"],
                )

    def presigned_url(self, key: str, expires_in: int = 3600) -> str | None:
        return self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=expires_in,
        )

    @staticmethod
    def _translate(exc: Exception, key: str) -> Exception:
        if not isinstance(exc, ClientError):
            return ObjectStoreUnavailableError(f"object store unreachable: {type(exc).__name__}")
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)
        if status >= 500:
            return ObjectStoreUnavailableError(f"object store answered {status}")
        code = _error_code(exc)
        if code in _NOT_FOUND:
            return ObjectNotFoundError(key)
        if code == "InvalidRange" or code == "416":
            return InvalidRangeError(f"range not satisfiable for {key!r}")
        return exc
