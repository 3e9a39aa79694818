"""The long-running dcops (``dcops serve``), composed: the patrol loop, the notifier, ``/metrics``
and ``/healthz`` in one process. ``dcops.cli.serve`` only parses the options and hands them here;
features that live in the service (the web UI, the installer's media server) are composed here too.
"""
