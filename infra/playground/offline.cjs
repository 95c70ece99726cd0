// Preloaded into the Agents Playground (`node --require ./offline.cjs cli.js …`) by scripts/run.sh and the
// end-to-end tests. Two guarantees the Playground does not give by itself:
//   1. it listens on loopback only (it calls server.listen(port) with no host, i.e. every interface, and it
//      accepts anonymous calls — a mock Teams must not be reachable from the network);
//   2. it makes no connection outside loopback. `--dt` stops its telemetry *events*, but the Application Insights
//      client is still started (statsbeat, heartbeat, Azure metadata probes) and the error path is not gated.
//      Offline those calls may hang rather than fail; here they fail at once, and nothing leaves the machine.
// Set PLAYGROUND_ALLOW_NETWORK=1 to switch (2) off (e.g. to debug an auth flow against real Entra ID).
"use strict";
const net = require("net");

const LOOPBACK = "127.0.0.1";

function isLoopback(host) {
  if (host === undefined || host === null || host === "") return true; // Node's default is localhost
  const h = String(host).replace(/^\[|\]$/g, "").toLowerCase();
  return h === "localhost" || h === "::1" || h === "0:0:0:0:0:0:0:1" || /^127\./.test(h) || h === "::ffff:127.0.0.1";
}

// 1. Bind to loopback when no host is given.
const origListen = net.Server.prototype.listen;
net.Server.prototype.listen = function patchedListen(...args) {
  const first = args[0];
  if (typeof first === "number" || (typeof first === "string" && /^\d+$/.test(first))) {
    if (typeof args[1] !== "string") args.splice(1, 0, LOOPBACK);
  } else if (first && typeof first === "object" && !Array.isArray(first) && first.path === undefined &&
             first.handle === undefined && first.fd === undefined && first._handle === undefined) {
    if (!first.host) args[0] = { ...first, host: LOOPBACK };
  } else if (first === undefined || typeof first === "function") {
    args.unshift(0, LOOPBACK);
  }
  return origListen.apply(this, args);
};

// 2. Refuse connections to anything but loopback (and Unix sockets).
if (process.env.PLAYGROUND_ALLOW_NETWORK !== "1") {
  const origConnect = net.Socket.prototype.connect;
  const warned = new Set();
  net.Socket.prototype.connect = function patchedConnect(...args) {
    let opts = args[0];
    if (Array.isArray(opts)) opts = opts[0]; // net.createConnection passes its normalised [options, cb]
    let host;
    let isPath = false;
    if (opts && typeof opts === "object") {
      isPath = Boolean(opts.path);  // http(s) agents pass path: null alongside host
      host = opts.host;
    } else if (typeof opts === "string" && !/^\d+$/.test(opts)) {
      isPath = true;
    } else {
      host = typeof args[1] === "string" ? args[1] : undefined;
    }
    if (!isPath && !isLoopback(host)) {
      if (!warned.has(host)) {
        warned.add(host);
        process.stderr.write(`playground(offline): refused a connection to ${host} (set PLAYGROUND_ALLOW_NETWORK=1 to allow)\n`);
      }
      const err = Object.assign(new Error(`offline: connection to ${host} refused`), { code: "ECONNREFUSED" });
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return origConnect.apply(this, args);
  };
}
