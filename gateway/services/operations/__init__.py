"""Tracked bulk operations (issue 13): retry or delete a selection of failed jobs as a resource
that any gateway process can watch, cancel and resume. See tracker.py for the entry points."""
