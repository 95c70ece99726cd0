"""The export files (pure builders): a value that looks like a formula stays text in the .csv and the .xlsx, the
workbook has the sheets asked for with numbers as numbers, and the governors' page draws a bar per figure."""

from __future__ import annotations

import csv
import datetime as dt
import io

from docx import Document
from openpyxl import load_workbook

from bot.exports import files

HOSTILE = '=HYPERLINK("http://evil.example","x")'


def _data() -> files.ExportData:
    return files.ExportData(
        school_name="Kestrel Brook School",
        label="2026-27 Autumn 2",
        generated="23 Nov 2026, 10:00",
        register=(
            files.RegisterLine(HOSTILE, "a.b", "-Group", "+Job", "Attended", dt.date(2026, 11, 16), "@s", "F"),
            files.RegisterLine("Plain Name", "c.d", "Willow Class", "TA", "Still to attend"),
        ),
        summary=(
            files.SummaryLine("Willow Class", 5, 3, 2, 0, 0, 60.0),
            files.SummaryLine("Whole school", 39, 3, 36, 0, 1, 7.7),
        ),
        audit=(
            files.AuditLine("2026-11-23T10:00:00+00:00", "Amara Okafor", "amara.okafor", "exported", "export", "1"),
        ),
    )


def test_formula_looking_values_stay_text_in_the_csv_and_the_workbook():
    rows = list(csv.reader(io.StringIO(files.register_csv(_data()).decode("utf-8-sig"))))
    assert rows[1][:4] == ["'" + HOSTILE, "a.b", "'-Group", "'+Job"] and rows[1][6] == "'@s"
    wb = load_workbook(io.BytesIO(files.workbook(_data(), register=True, summary=False, audit=False)))
    ws = wb["Attendance register"]
    cells = [c for row in ws.iter_rows() for c in row if c.value and str(c.value).endswith('"x")')]
    assert cells and all(c.data_type == "s" and str(c.value).startswith("'") for c in cells)
    assert wb.sheetnames == ["Attendance register"]


def test_the_summary_sheet_keeps_numbers_and_has_a_chart():
    wb = load_workbook(io.BytesIO(files.workbook(_data(), register=False, summary=True, audit=True)))
    assert wb.sheetnames == ["Compliance summary", "Audit trail"]
    rows = [r for r in wb["Compliance summary"].iter_rows(values_only=True) if r and r[0] == "Willow Class"]
    assert rows == [("Willow Class", 5, 3, 2, 0, 0, 60.0)]


def test_the_governors_page_draws_bars_and_says_what_is_not_shown():
    v = files.GovernorsView(
        school_name="Kestrel Brook School",
        half_term="Autumn 2 2026-27",
        dates="2 Nov 2026 – 18 Dec 2026",
        generated="23 Nov 2026, 10:00",
        threshold=5,
        figures=(("Attended", "fewer than 5"),),
        by_group=(files.Bar("Willow Class", 60.0), files.Bar("Smaller groups", None, "fewer than 5 due")),
        trend=(files.Bar("Autumn 1", 100.0), files.Bar("Spring 1", None, "not started")),
        mop_up="Not needed so far: everyone due has attended.",
    )
    doc = Document(io.BytesIO(files.governors_docx(v)))
    cells = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    willow = next(r for r in cells if r[0] == "Willow Class")
    assert willow[1].count(files.BAR) == files.BAR_CELLS and willow[2] == "60%"
    assert next(r for r in cells if r[0] == "Smaller groups")[1:] == ["fewer than 5 due", ""]
    assert doc.core_properties.title == "Group supervision summary"


def test_governors_figures_never_let_a_small_count_be_worked_out():
    from bot.domain.compliance import GroupTotals
    from bot.exports.gather import _bar, _totals

    few_came = dict(_totals(GroupTotals("all", compliant=2, outstanding=37), 5, False))
    assert few_came == {
        "Staff due to attend": "39",
        "Attended": "fewer than 5",
        "Still to attend": "more than 34",  # not 37: 39 − 37 would give the 2 away
        "Attendance": "under 13%",
    }
    few_left = dict(_totals(GroupTotals("all", compliant=36, outstanding=3), 5, False))
    assert few_left["Still to attend"] == "fewer than 5" and few_left["Attended"] == "more than 34"
    assert dict(_totals(GroupTotals("all", compliant=30, outstanding=9), 5, False))["Attendance"] == "77%"
    assert dict(_totals(GroupTotals("all", compliant=3, missed=1), 5, True)) == {
        "Staff due to attend": "fewer than 5",
        "Attended": "not shown",
        "Did not attend": "not shown",
    }
    assert _bar("Willow", GroupTotals("w", compliant=3, outstanding=2), 5).percent is None
    assert _bar("Willow", GroupTotals("w", compliant=5), 5).percent == 100.0  # everyone came: nothing to hide
    assert _bar("Leaders", GroupTotals("l", compliant=6, outstanding=2), 5).note == "all but fewer than 5 attended"
    assert _bar("Office", GroupTotals("o", compliant=5, outstanding=5), 5).percent == 50.0
