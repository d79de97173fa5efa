"""gunicorn settings for Nomflow's web process: ``gunicorn config.wsgi -c config/gunicorn.conf.py``.

Command-line options (``--bind``, ``--workers``, ...) still apply on top of this file;
docs/operations.md lists the web process's command.
"""

import gc


def post_worker_init(worker):
    """Keep what a worker loaded at start out of the garbage collector's full passes.

    A worker holds a couple of hundred thousand objects from loading Django, Nomflow and
    their libraries (modules, classes, URL patterns, translations) for as long as it
    lives. A full collection (generation 2) walks every tracked object each time: in the
    page benchmark's process, with about 225,000 of them, each one paused a request for
    100 to 140 ms, and a page that builds many objects (the selection board) set one off
    every few dozen requests. Freezing them once, after loading, moves them to a
    permanent generation that collections skip; everything created afterwards is
    collected as usual (the collector stays on).
    """
    gc.collect()
    gc.freeze()
