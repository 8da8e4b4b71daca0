"""Notification writes, by sub-domain: `fanout` (events -> deliveries, queued after commit),
`delivery` (the delivery engine: claim, send, record, retry or dead), `replay` (dead deliveries
given a new cycle) and `endpoints` (webhook endpoint registration and changes)."""
