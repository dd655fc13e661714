"""Running Dagster for Vigil: the instance configuration and the webserver/daemon processes."""

from vigil.orchestration.instance import (
    instance_config,
    instance_environment,
    postgres_fields,
    prepare_dagster_home,
)

__all__ = ["instance_config", "instance_environment", "postgres_fields", "prepare_dagster_home"]
