"""The Prometheus exporter: custom collectors over stored results (a scrape never touches a BMC
or a cloud API)."""
