"""Install our Teams app for a user (personal scope), so the bot can message people who never opened it."""

from __future__ import annotations

from msgraph.generated.models.user_scope_teams_app_installation import UserScopeTeamsAppInstallation

from graph.errors import GraphConflict
from graph.msgraph.client import GraphClients
from graph.msgraph.errors import call


class GraphApps:
    def __init__(self, clients: GraphClients, teams_app_id: str):
        self.c = clients
        self.teams_app_id = teams_app_id

    async def install_for_user(self, user: str) -> bool:
        body = UserScopeTeamsAppInstallation(
            additional_data={"teamsApp@odata.bind": f"{self.c.api_root}/appCatalogs/teamsApps/{self.teams_app_id}"}
        )
        try:
            await call(
                self.c.graph.users.by_user_id(user).teamwork.installed_apps.post(body),
                "install the Teams app for a user",
            )
        except GraphConflict:  # already installed: that is what we wanted
            return False
        return True
