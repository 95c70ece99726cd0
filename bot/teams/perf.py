"""Stop every turn paying msrest's retry-policy construction cost.

msrest's `ClientRetryPolicy.__init__` builds `[i for i in range(999) if i not in self.safe_codes]` where
`safe_codes` is a ~500-item *list*: ~500k comparisons per client, and botbuilder makes two clients per turn
(connector + user-token). That is ~75 % of a bare turn here (GUIDE §2, ../shared/bench/sdk_floor.py).
Making `safe_codes` a frozenset gives the same retry list at O(1) per membership test; we also cache connector
clients per service URL (bot/teams/auth.py) so most turns build no client at all.
"""

from __future__ import annotations

from msrest.universal_http import requests as _msrest_requests

_policy = _msrest_requests.ClientRetryPolicy
if not isinstance(_policy.safe_codes, frozenset):
    _policy.safe_codes = frozenset(_policy.safe_codes)
