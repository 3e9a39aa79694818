"""Asset management: collect (over the BMCs), part history, reconcile (book x snapshots), warranty.

Pure modules: ``model`` (snapshots from observations), ``reconcile``, ``history``, ``warranty``,
``correct`` (the corrected book with field ownership). I/O: ``collect`` (BMCs), ``profiles``
(files), ``notify`` (reminders), ``search`` (store). See docs/assets.md.
"""
