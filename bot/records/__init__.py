"""Group supervision records: templates as data (templates/*.yaml), the rules that read a record card, and the
.docx writer. Pure apart from reading template files; the journey (bot/journeys/group_record.py) does the I/O."""

from bot.records.templates import RecordTemplate, TemplateError, load_template, school_template

__all__ = ["RecordTemplate", "TemplateError", "load_template", "school_template"]
