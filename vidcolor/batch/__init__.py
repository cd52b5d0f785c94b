"""Batch restoration: many files, a manifest that makes every run resumable, local or Ray engines."""
from .runner import BatchSummary, ItemReport, batch_status, run_batch

__all__ = ["BatchSummary", "ItemReport", "batch_status", "run_batch"]
