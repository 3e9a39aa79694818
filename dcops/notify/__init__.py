"""Notifications: routes, rendering, delivery and the outbox (see docs/patrol.md)."""
