"""Reporting writes, by sub-domain: `projections` (how each order and payment event changes the
read model), `consumer` (the event backbone's consumer that applies them, once per event) and
`rebuild` (the projections rebuilt from the archive of published events)."""
