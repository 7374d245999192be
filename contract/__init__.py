"""What every part of gasguard shares and nothing of gasguard's own is imported by: the
root of the exception tree today; the wire and value types (readings, events, commands
and replies) are to move here next (issue 19, docs/architecture.md)."""
