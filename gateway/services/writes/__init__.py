"""Write operations: failed-job actions, bulk selections, failure groups, cancel/requeue, cleanup."""
