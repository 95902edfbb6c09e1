"""JobService's features, one mixin each (core.py holds what they share); gateway/services/service.py
composes them into the one class the transports call."""
