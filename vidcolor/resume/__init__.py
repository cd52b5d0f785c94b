"""Resuming inside a film: its segments, their manifest, the join; below the pipeline, which uses
it, and the batch, which uses both."""
