"""Redis plumbing: keys, connection health, registry and job reads, the Lua scripts."""
