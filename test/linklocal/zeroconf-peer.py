#!/usr/bin/python3
# Third-party mDNS peer for interop tests: python3-zeroconf pinned to one interface address.
# Reads JSON commands on stdin, one per line:
#   {"cmd": "register", "type": "_presence._tcp", "name": "...", "port": N, "server": "host.local.",
#    "address": "127.0.0.1", "txt": {...}}
#   {"cmd": "unregister_all"}   {"cmd": "quit"}
# Writes JSON lines: {"event": "ready"|"registered"|"found"|"updated"|"removed"|"error", ...}.
# usage: zeroconf-peer.py IFADDR BROWSE_TYPE [BROWSE_TYPE...]
import json, socket, sys, threading
from zeroconf import IPVersion, ServiceBrowser, ServiceInfo, ServiceStateChange, Zeroconf

ifaddr = sys.argv[1]
browse_types = [t if t.endswith('.') else t + '.' for t in sys.argv[2:]]
lock = threading.Lock()

def emit(**event):
    with lock:
        sys.stdout.write(json.dumps(event) + "\n")
        sys.stdout.flush()

zc = Zeroconf(interfaces=[ifaddr], ip_version=IPVersion.V4Only)
registered = []

def describe(zc, type_, name):
    info = zc.get_service_info(type_, name, 3000)
    if info is None:
        return None
    return {
        "port": info.port,
        "server": info.server,
        "addresses": info.parsed_addresses(),
        "txt": {k.decode(): (v.decode() if v is not None else None) for k, v in info.properties.items()},
        "priority": info.priority,
        "weight": info.weight,
    }

def on_change(zeroconf, service_type, name, state_change):
    # Resolution blocks; do it off the browser thread.
    def work():
        try:
            if state_change is ServiceStateChange.Removed:
                emit(event="removed", type=service_type, name=name)
                return
            kind = "found" if state_change is ServiceStateChange.Added else "updated"
            emit(event=kind, type=service_type, name=name, info=describe(zeroconf, service_type, name))
        except Exception as e:  # report, keep running
            emit(event="error", message=repr(e))
    threading.Thread(target=work, daemon=True).start()

browsers = [ServiceBrowser(zc, t, handlers=[on_change]) for t in browse_types]
emit(event="ready")

for line in sys.stdin:
    line = line.strip()
    if not line:
        continue
    try:
        cmd = json.loads(line)
        if cmd["cmd"] == "register":
            t = cmd["type"] + ".local."
            info = ServiceInfo(t, f'{cmd["name"]}.{t}', port=cmd["port"], properties=cmd.get("txt", {}),
                               server=cmd["server"], addresses=[socket.inet_aton(cmd["address"])])
            zc.register_service(info)
            registered.append(info)
            emit(event="registered", name=info.name)
        elif cmd["cmd"] == "unregister_all":
            for info in registered:
                zc.unregister_service(info)
            registered.clear()
            emit(event="unregistered")
        elif cmd["cmd"] == "quit":
            break
    except Exception as e:
        emit(event="error", message=repr(e))

for info in registered:
    zc.unregister_service(info)
zc.close()
