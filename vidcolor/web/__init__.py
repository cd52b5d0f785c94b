"""``vidcolor serve``: a local web app to queue, watch, compare and steer colorization.

The web layer parses requests and shows progress; the work is the batch machinery's (each job
is a one-film batch in its own folder, so it resumes as a batch does), and runs in worker
processes, never in the server's event loop.
"""
from .config import ServeConfig

__all__ = ["ServeConfig"]
