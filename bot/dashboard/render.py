"""The dashboard page: server-rendered SVG charts (pygal, pinned; no JavaScript, nothing from a CDN) in one small
HTML page that reflows to a phone-sized Teams window."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from html import escape

from bot.dashboard.figures import WHOLE_SCHOOL, Dashboard, load_bands, lowest_groups


@functools.cache
def _pygal():
    """pygal and the options every chart shares, imported on the first dashboard page (not at start-up: ~11 MB
    that a bot which never serves the dashboard would hold for nothing; bench/load.py)."""
    import pygal
    from pygal.style import Style

    style = Style(
        background="transparent",
        plot_background="transparent",
        font_family="Segoe UI, sans-serif",
        colors=("#5b5fc7", "#c4314b", "#237b4b", "#8f6200", "#0f6cbd", "#7f85f5", "#986f0b", "#4f52b2"),
    )
    #: pygal's tooltips load a script from the web by default: none here (the page must work offline).
    common = dict(
        style=style,
        js=[],
        disable_xml_declaration=True,
        width=720,
        height=360,
        explicit_size=False,
        legend_at_bottom=True,
        print_values=False,
        show_y_guides=True,
    )
    return pygal, common


_SCRIPT = re.compile(r"<script\b.*?</script>", re.S)
_COMMENT = re.compile(r"<!--.*?-->", re.S)


def _svg(chart) -> str:
    """The chart's SVG, inline, without the config script pygal always adds (the charts need no JavaScript, and
    the page's Content-Security-Policy forbids scripts) or its comments."""
    return _COMMENT.sub("", _SCRIPT.sub("", chart.render(is_unicode=True)))


#: Lines on the attendance chart besides the whole school: more is unreadable (and pygal's cost is per line).
LINES = 6


def attendance_chart(d: Dashboard) -> str:
    """The whole school and the groups attending least, per half term; every group is in the grid below it."""
    pg, common = _pygal()
    chart = pg.Line(title="Group supervision attendance (%) by half term", range=(0, 100), **common)
    chart.x_labels = d.half_terms
    chart.add("Whole school", d.whole_school, stroke_style={"width": 4})
    for group in lowest_groups(d, LINES):
        chart.add(group, d.attendance[group])
    return _svg(chart)


def _shade(pct: float | None) -> str:
    if pct is None:
        return "#f5f5f5"
    return "#d1e7dd" if pct >= 90 else "#fff3cd" if pct >= 70 else "#f8d7da"


def attendance_grid(d: Dashboard) -> str:
    """Every group's attendance % per half term as a shaded grid (a heat map that reflows on a phone)."""
    head = "".join(f"<th>{escape(h)}</th>" for h in d.half_terms)
    rows = "".join(
        f"<tr><th>{escape(g)}</th>"
        + "".join(f'<td style="background:{_shade(v)}">{"" if v is None else f"{v:.0f}%"}</td>' for v in row)
        + "</tr>"
        for g, row in d.attendance.items()
    )
    return f'<div class=grid><table><thead><tr><th>Group</th>{head}</tr></thead><tbody>{rows}</tbody></table></div>'


def load_band_chart(d: Dashboard) -> str:
    return counts_chart("Supervisor load against capacity (supervisors per band)", load_bands(d))


def counts_chart(title: str, counts: dict[str, tuple[str, int | None]]) -> str:
    pg, common = _pygal()
    chart = pg.Bar(title=title, **common)
    chart.x_labels = [f"{k}: {label}" for k, (label, _v) in counts.items()]
    chart.add("Count", [v for _label, v in counts.values()])
    return _svg(chart)


def caseload_chart(d: Dashboard) -> str:
    """The median open pupil cases per person, by team (the spread within each team is in the table below)."""
    pg, common = _pygal()
    chart = pg.HorizontalBar(title="Caseload: open pupil cases per person (median), by team", **common)
    rows = [r for r in d.caseload if r.team != WHOLE_SCHOOL]
    chart.x_labels = [r.team for r in rows]
    chart.add("Median", [r.median for r in rows])
    whole = next((r for r in d.caseload if r.team == WHOLE_SCHOOL), None)
    if whole is not None:
        chart.add("Whole school median", [whole.median] * len(rows), stroke=False, show_dots=False)
    return _svg(chart)


def caseload_table(d: Dashboard) -> str:
    rows = "".join(
        f"<tr><th>{escape(r.team)}</th><td>{escape(r.people)}</td><td>{r.median:g}</td>"
        f"<td>{r.q1:g}\u2013{r.q3:g}</td></tr>"
        for r in d.caseload
    )
    spread = (
        f"<p class=note>Across teams the median runs from {d.caseload_range[0]:g} to {d.caseload_range[1]:g} "
        "open cases per person.</p>"
        if d.caseload_range
        else ""
    )
    return (
        "<div class=grid><table><thead><tr><th>Team</th><th>People who said</th><th>Median</th>"
        f"<th>Middle half</th></tr></thead><tbody>{rows}</tbody></table></div>{spread}"
    )


def themes_chart(d: Dashboard) -> str:
    """Requests per topic per half term: the themes staff bring to supervision, as a trend."""
    pg, common = _pygal()
    chart = pg.Line(title="Themes staff bring to supervision (requests per half term)", **common)
    chart.x_labels = d.half_terms
    for topic, values in d.themes.items():
        chart.add(topic, [v for _label, v in values])
    return _svg(chart)


def themes_table(d: Dashboard) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in d.half_terms)
    rows = "".join(
        f"<tr><th>{escape(t)}</th>" + "".join(f"<td>{escape(label)}</td>" for label, _v in values) + "</tr>"
        for t, values in d.themes.items()
    )
    return f"<div class=grid><table><thead><tr><th>Theme</th>{head}</tr></thead><tbody>{rows}</tbody></table></div>"


def body(d: Dashboard, *, school_name: str, viewer: str) -> str:
    """The dashboard itself (what the Teams tab puts into its page once signed in; the local page wraps it)."""
    out = [
        f"<p class=big>Outstanding this half term ({escape(d.current or 'no half term')}): "
        f"<strong>{escape(d.outstanding_label)}</strong></p>"
    ]
    if d.outstanding_by_group:
        out.append(
            "<ul>" + "".join(f"<li>{escape(g)}: {escape(n)}</li>" for g, n in d.outstanding_by_group.items()) + "</ul>"
        )
    if d.outstanding_names:
        out.append(
            "<details><summary>Who is outstanding</summary><p>"
            + ", ".join(escape(n) for n in d.outstanding_names)
            + "</p></details>"
        )
    charts = [
        attendance_chart(d),
        counts_chart("1:1 supervision agreements", d.agreements),
        counts_chart("Actions from supervision records", d.actions),
        load_band_chart(d),
    ]
    notes = "".join(f"<p class=note>{escape(n)}</p>" for n in d.notes)
    if d.caseload:
        caseload = f'<figure id=caseload>{caseload_chart(d)}</figure>{caseload_table(d)}'
    else:
        caseload = (
            "<p class=note>Caseload: not enough staff have said how many open pupil cases they carry yet "
            f"(it is shown once at least {d.threshold} have, on their supervision requests).</p>"
        )
    themes = f'<figure id=themes>{themes_chart(d)}</figure>{themes_table(d)}' if d.themes else ""
    return f"""<h1>Supervision at a glance</h1><p class=note>{escape(school_name)} · for {escape(viewer)} · counts below
{d.threshold} are shown as \u201cfewer than {d.threshold}\u201d.</p>
{''.join(out)}
<figure id=attendance>{charts[0]}</figure>
{attendance_grid(d)}
{''.join(f'<figure id={n}>{c}</figure>' for n, c in zip(("agreements", "actions", "load"), charts[1:]))}
{caseload}
{themes}
{notes}"""


STYLE_SHEET = """body{font-family:"Segoe UI",sans-serif;margin:1rem;color:#242424;max-width:60rem}
figure{margin:0 0 1.5rem}.grid{overflow-x:auto}table{border-collapse:collapse}
td,th{padding:.2rem .5rem;text-align:right;font-size:.9rem}th:first-child{text-align:left}
figure svg{width:100%;height:auto}.big{font-size:1.2rem}.note{color:#616161}"""


def page(d: Dashboard, *, school_name: str, viewer: str) -> str:
    """The whole page (local mode: the server knows who is looking before it answers)."""
    return page_around(body(d, school_name=school_name, viewer=viewer), school_name=school_name)


def page_around(inner: str, *, school_name: str) -> str:
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supervision dashboard – {escape(school_name)}</title>
<style>{STYLE_SHEET}</style></head><body>
<main id=dashboard>{inner}</main>
</body></html>
"""


def shell(*, school_name: str, script_urls: Sequence[str]) -> str:
    """The Teams tab's page before sign-in: no figures, only the scripts that get a Teams SSO token and fetch the
    dashboard with it (bot/dashboard/static/tab.js)."""
    scripts = "".join(f'<script src="{escape(u)}"></script>' for u in script_urls)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Supervision dashboard – {escape(school_name)}</title>
<style>{STYLE_SHEET}</style></head><body>
<main id=dashboard aria-live=polite><p class=note id=status>Signing you in with Teams\u2026</p></main>
{scripts}
</body></html>
"""
