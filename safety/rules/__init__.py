"""One module per rule. Each is a compiled function of (meter record, input, parameters)
that updates the record and emits at most one decision per episode (``episodes.fire``)."""
