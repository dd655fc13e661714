"""Pick the object store from the settings."""

from __future__ import annotations

from vigil.settings import Settings
from vigil.storage.local import LocalObjectStore
from vigil.storage.objectstore import ObjectStore
from vigil.storage.s3 import S3Config, S3ObjectStore


def s3_config_from_settings(settings: Settings, *, max_attempts: int | None = None) -> S3Config:
    endpoint = settings.s3_endpoint_url
    if endpoint is None and settings.object_store == "embedded":
        endpoint = f"http://127.0.0.1:{settings.seaweedfs_s3_port}"
    return S3Config(
        endpoint_url=endpoint,  # None with object_store='s3': AWS itself
        access_key=settings.s3_access_key.get_secret_value(),
        secret_key=settings.s3_secret_key.get_secret_value(),
        region=settings.s3_region,
        **({"max_attempts": max_attempts} if max_attempts else {}),
    )


def object_store_from_settings(
    settings: Settings, *, max_attempts: int | None = None
) -> ObjectStore:
    """'local' → a directory under data_dir/objects; 's3'/'embedded' → the S3 bucket.

    The bucket is not created here: the embedded SeaweedFS creates it at start, and in
    production it is provisioned with the deployment. `max_attempts` overrides botocore's
    retries (the API answers a 503 rather than hold a request through long back-offs).
    """
    if settings.object_store == "local":
        return LocalObjectStore(settings.data_dir / "objects")
    config = s3_config_from_settings(settings, max_attempts=max_attempts)
    return S3ObjectStore.connect(config, settings.s3_bucket)
