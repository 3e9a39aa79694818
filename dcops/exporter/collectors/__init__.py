"""prometheus_client custom collectors, one module per subsystem. Each reads the latest stored
result through a callable it is given, so it can be tested without the store."""
