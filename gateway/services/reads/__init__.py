"""Read operations: pages, streams, queues, stats, workers, job location."""
