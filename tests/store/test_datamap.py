"""The data map (bot/store/datamap.py) matches the models column for column, and docs/DATA.md is what it prints."""

from __future__ import annotations

from pathlib import Path

from bot.store import datamap
from bot.store.base import Base, import_all_models

DATA_MD = Path(__file__).resolve().parents[2] / "docs" / "DATA.md"


def _model_columns() -> dict[str, set[str]]:
    import_all_models()
    return {t.name: {c.name for c in t.columns} for t in Base.metadata.sorted_tables}


def _unclassified(models: dict[str, set[str]]) -> list[str]:
    mapped = datamap.by_name()
    problems = [f"table {t} is not classified" for t in models if t not in mapped]
    problems += [f"table {t} is classified but not a model" for t in mapped if t not in models]
    for t, cols in models.items():
        if t in mapped:
            problems += [f"{t}.{c} is not classified" for c in sorted(cols - set(mapped[t].columns))]
            problems += [f"{t}.{c} is classified but not a column" for c in sorted(set(mapped[t].columns) - cols)]
    return problems


def test_every_table_and_column_is_classified():
    assert _unclassified(_model_columns()) == []


def test_a_new_table_or_column_is_caught():
    models = _model_columns()
    models["audit_events"] = models["audit_events"] | {"comment"}
    models["new_table"] = {"id"}
    assert _unclassified(models) == ["table new_table is not classified", "audit_events.comment is not classified"]


def test_every_entry_is_complete_and_content_columns_sit_in_special_category_tables():
    for t in datamap.TABLES:
        assert t.data_class and t.home and t.readers and t.retention, t.name
        if datamap.C_SPECIAL in t.columns.values():
            assert t.data_class == datamap.SPECIAL, t.name


def test_docs_data_md_is_generated_from_the_map():
    assert DATA_MD.read_text(encoding="utf-8") == datamap.render(), (
        "docs/DATA.md is stale: run `python -m bot.store.datamap > docs/DATA.md`"
    )
