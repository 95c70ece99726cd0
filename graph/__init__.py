"""Microsoft 365 for the bot: ports (graph.ports), two backends, and the factory that picks one.

    backend = build_backend(settings.graph,                   # GRAPH_* env / .env, read by load_settings
                            db=db, school=school, local_dir=settings.local_m365_dir)
    await backend.verify()                                    # msgraph: signs in once; bad secret → GraphAuthError
    ...
    await backend.close()

No GRAPH_* credential setting → the local backend (files under local_dir, meetings in the store + .ics).
A complete set → msgraph. Half-configured → GraphConfigError naming what is missing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from pathlib import Path

from graph.errors import (
    GraphAuthError,
    GraphConfigError,
    GraphConflict,
    GraphError,
    GraphNotFound,
    GraphRequestError,
    GraphThrottled,
)
from graph.handlers import graph_handlers
from graph.ports import (
    Apps,
    Attendee,
    BusyBlock,
    Calendar,
    ChannelFiles,
    Directory,
    DirectoryUser,
    FolderRef,
    M365Backend,
    Meeting,
    MeetingRequest,
    PersonalFiles,
    Schedule,
    SharingGrant,
    StoredFile,
)
from graph.settings import GraphSettings, load_graph_settings


def build_backend(
    graph_settings: GraphSettings | None,
    *,
    db,
    school,
    local_dir: Path | str,
    credential=None,
    managers: Mapping[str, str] | None = None,
    clock: Callable[[], dt.datetime] | None = None,
) -> M365Backend:
    """The backend the settings select. `credential` overrides azure-identity (tests: a fixed-token credential).
    `managers` and `clock` are for the local backend (the school config has no managers)."""
    gs = graph_settings if graph_settings is not None else load_graph_settings()
    cfg = school.settings.safeguarding_channel
    mode = gs.mode(team_id=cfg.team_id, channel_id=cfg.channel_id)
    if mode == "msgraph":
        from graph.msgraph import MsGraphBackend

        return MsGraphBackend(
            gs,
            team_id=gs.team_id or cfg.team_id,
            channel_id=gs.safeguarding_channel_id or cfg.channel_id or "",
            credential=credential,
        )
    from graph.local import LocalBackend

    extra = {"clock": clock} if clock is not None else {}
    return LocalBackend(
        db=db, school=school, root=Path(local_dir), team_id=gs.team_id or None, managers=managers, **extra
    )


__all__ = [
    "Apps",
    "Attendee",
    "BusyBlock",
    "Calendar",
    "ChannelFiles",
    "Directory",
    "DirectoryUser",
    "FolderRef",
    "GraphAuthError",
    "GraphConfigError",
    "GraphConflict",
    "GraphError",
    "GraphNotFound",
    "GraphRequestError",
    "GraphSettings",
    "GraphThrottled",
    "M365Backend",
    "Meeting",
    "MeetingRequest",
    "PersonalFiles",
    "Schedule",
    "SharingGrant",
    "StoredFile",
    "build_backend",
    "graph_handlers",
    "load_graph_settings",
]
