"""The reading side of the audit trail, on top of the domain apps: the trail and usage as owners
and auditors read them, the usage charts, exports, signed digests and retention. The audit app
below it only writes (events, the chain, usage metering)."""
