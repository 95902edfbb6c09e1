"""The per-minute history of every queue (README "Queue history"): one writer samples, any
process reads. ARCHITECTURE.md describes the storage layout in Redis."""
