"""The HTML built in Python: the server slots of rack elevations and the host badges of the
views by business. A 10,000-host
room draws 10,000 links; a Jinja loop with attribute lookups and escaping per field took most of
the page's server time (tests/bench/bench_web.py), one ``str.join`` over pre-escaped parts takes
a fraction. Everything else stays in the templates."""

from __future__ import annotations

from urllib.parse import quote

from markupsafe import Markup, escape

from dcops.web.views import LABELS, HostView, RackView


def rack_slots(rack: RackView, prefix: str, compact: bool) -> Markup:
    """The ``<a class="slot ...">`` links of one rack, escaped."""
    parts = []
    for s in rack.slots:
        v = s.view
        name = escape(v.name)
        inner = "" if compact else (
            (f'<span class="n">{v.incidents}</span>' if v.incidents else "") + f"<span>{name}</span>")
        parts.append(f'<a class="{s.css}" href="{prefix}/host/{s.quoted}" title="{escape(s.title)}" '
                     f'data-host="{name}" data-state="{v.state}">{inner}</a>')
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or generated here


def host_badges(members: list[HostView], prefix: str) -> Markup:
    """One coloured link per host (the views by business), escaped."""
    parts = []
    for v in members:
        name = escape(v.name)
        count = f" ({v.incidents})" if v.incidents else ""
        parts.append(f'<a class="badge s-{v.state}" href="{prefix}/host/{quote(v.name, safe="")}" '
                     f'title="{LABELS[v.state]}" data-host="{name}" data-state="{v.state}">{name}{count}</a> ')
    return Markup("".join(parts))  # noqa: S704 - every value above is escaped or generated here
