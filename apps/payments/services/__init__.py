"""Payment writes, by sub-domain: `operations` (authorize, capture, void, refund: begin, call the
provider, resolve), `resolution` (applying a provider's outcome to a pending operation, from
any source), `cancellation` (settling a cancelled order's payments), `reconciliation` (learning
the outcome of pending operations from the provider) and `webhooks` (incoming processor
webhooks)."""
