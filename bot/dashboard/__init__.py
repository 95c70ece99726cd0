"""The oversight dashboard (issue 12): a page the bot's own aiohttp app serves at /dashboard, for the DSL team
and senior leaders. Figures in bot/dashboard/figures.py (pure), charts and page in render.py, auth and routing in
web.py, reads in bot/store/dashboard.py."""
