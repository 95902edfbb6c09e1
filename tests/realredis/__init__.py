"""Integration tests against a real redis-server and real `rq worker` processes."""
