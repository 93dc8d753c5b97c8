//! The metrics contract (`METRICS_ADDR`), in a test binary of its own: the Prometheus
//! recorder is per process.

quickstart_common::metrics_tests!(actix_quickstart);
