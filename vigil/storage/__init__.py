"""Object storage for clips, snapshots and face thumbnails (a directory or S3)."""

from vigil.storage.factory import object_store_from_settings, s3_config_from_settings
from vigil.storage.local import LocalObjectStore
from vigil.storage.objectstore import (
    InvalidKeyError,
    InvalidRangeError,
    ObjectInfo,
    ObjectNotFoundError,
    ObjectStore,
    ObjectStoreError,
    ObjectStoreUnavailableError,
    validate_key,
)
from vigil.storage.s3 import S3Config, S3ObjectStore, ensure_bucket, make_s3_client

__all__ = [
    "InvalidKeyError",
    "InvalidRangeError",
    "LocalObjectStore",
    "ObjectInfo",
    "ObjectNotFoundError",
    "ObjectStore",
    "ObjectStoreError",
    "ObjectStoreUnavailableError",
    "S3Config",
    "S3ObjectStore",
    "ensure_bucket",
    "make_s3_client",
    "object_store_from_settings",
    "s3_config_from_settings",
    "validate_key",
]
