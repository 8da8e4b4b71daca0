"""Order writes, by sub-domain: `transitions` (the status machine's writes, shared), `placement`
(the saga over catalog and payments), `recovery` (placements whose process died) and
`lifecycle` (ship, cancel, refund, notes)."""
