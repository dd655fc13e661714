-- DuckDB views over the Parquet lake, one per record type (vigil/records/schemas.py).
-- {glob} is replaced with the table's `<lake>/<table>/**/*.parquet`, and hive partitions
-- camera_id / date / hour become columns. On a lake on S3 the read_parquet('{glob}', ...) call
-- is replaced by a pyarrow dataset of the table's files (no DuckDB extension needed).
-- Open them with `vigil sql` or vigil.lake.query.connect.

CREATE OR REPLACE VIEW frames AS
SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true);

CREATE OR REPLACE VIEW detections AS
SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true);

CREATE OR REPLACE VIEW faces AS
SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true);

CREATE OR REPLACE VIEW events AS
SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true);

CREATE OR REPLACE VIEW camera_health AS
SELECT * FROM read_parquet('{glob}', hive_partitioning = true, union_by_name = true);
