"""infra/playground/offline.cjs, preloaded into the Playground: it listens on loopback only and cannot connect
off the machine (its telemetry client is started even under --dt). Needs node only, so not marked e2e."""

from __future__ import annotations

import os
import shutil
import subprocess

import pytest

from tests.e2e.processes import OFFLINE_PRELOAD

SCRIPT = r"""
const net = require("net"), http = require("http"), https = require("https");
const out = {};
const srv = http.createServer((q, r) => r.end("ok"));
srv.listen(0, () => {                                   // no host: Node's default would be every interface
  out.address = srv.address().address;
  http.get(`http://127.0.0.1:${srv.address().port}/`, r => {
    out.loopback = r.statusCode;
    https.get("https://dc.services.visualstudio.com/v2/track").on("error", e => {
      out.byName = e.code;
      net.connect(443, "192.0.2.1").on("error", e2 => {     // TEST-NET-1: never routable
        out.byAddress = e2.code;
        srv.close();
        console.log(JSON.stringify(out));
      });
    });
  });
});
"""


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not on PATH")
def test_preload_listens_on_loopback_and_refuses_outside_connections(tmp_path):
    import json

    script = tmp_path / "probe.js"
    script.write_text(SCRIPT, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "PLAYGROUND_ALLOW_NETWORK"}
    res = subprocess.run(
        [shutil.which("node"), "--require", str(OFFLINE_PRELOAD), str(script)],
        capture_output=True,
        text=True,
        timeout=30,
        env=env,
    )
    assert res.returncode == 0, res.stderr
    assert json.loads(res.stdout) == {
        "address": "127.0.0.1",
        "loopback": 200,
        "byName": "ECONNREFUSED",
        "byAddress": "ECONNREFUSED",
    }
    assert "refused a connection to dc.services.visualstudio.com" in res.stderr
