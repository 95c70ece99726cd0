"""The school's own configuration: term dates, groups, roster and roles (YAML, validated at start-up)."""

from bot.school.config import GroupKind, Role, School, SchoolConfigError, StaffMember, load_school

__all__ = ["GroupKind", "Role", "School", "SchoolConfigError", "StaffMember", "load_school"]
