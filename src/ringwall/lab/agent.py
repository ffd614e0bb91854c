"""Probe agent run inside a lab namespace (``ip netns exec NS python agent.py MODE``).

Stand-alone on purpose (standard library only, no ringwall imports) so it starts fast in any
namespace. Modes, driven by one command per stdin line, answering one JSON line each:

* ``sink``: raw IPv4 sockets for TCP, UDP and ICMP see every packet the input hook let through
  (raw delivery happens after NF_INET_LOCAL_IN); ``reset`` forgets, ``dump`` lists what was seen.
* ``send``: crafts IPv4 packets (any TEST-NET source) from ``{"probes": [...]}`` lines.
* ``listen PORTS``: TCP listeners and UDP echo responders for real connection probes.
* ``connect``: real TCP connects, UDP exchanges and pings from bound source addresses.
"""

from __future__ import annotations

import json
import select
import socket
import struct
import sys
import threading
import time
from typing import Any


def _csum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    s = (s >> 16) + (s & 0xFFFF)
    s += s >> 16
    return ~s & 0xFFFF


def _packet(p: dict[str, Any]) -> bytes:
    src, dst = socket.inet_aton(p["src"]), socket.inet_aton(p["dst"])
    proto = p["proto"]
    if proto == 6:
        l4 = struct.pack("!HHIIBBHHH", p["sport"], p["dport"], p.get("seq", 1), 0, 5 << 4, p.get("flags", 2),
                         64240, 0, 0)
    elif proto == 17:
        l4 = struct.pack("!HHHH", p["sport"], p["dport"], 10, 0) + b"rw"
    else:
        l4 = struct.pack("!BBHHH", p.get("type", 8), p.get("code", 0), 0, p.get("id", 1), 1) + b"ringwall"
        l4 = l4[:2] + struct.pack("!H", _csum(l4)) + l4[4:]
    if proto in (6, 17):
        pseudo = src + dst + struct.pack("!BBH", 0, proto, len(l4))
        c = _csum(pseudo + l4)
        off = 16 if proto == 6 else 6
        l4 = l4[:off] + struct.pack("!H", c) + l4[off + 2:]
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), p.get("ipid", 1), 0, 64, proto, 0, src, dst)
    hdr = hdr[:10] + struct.pack("!H", _csum(hdr)) + hdr[12:]
    return hdr + l4


def key_of(p: dict[str, Any]) -> str:
    if p["proto"] in (6, 17):
        return f"{p['proto']}|{p['src']}|{p['dst']}|{p['sport']}|{p['dport']}"
    return f"1|{p['src']}|{p['dst']}|{p.get('type', 8)}|{p.get('id', 1)}"


def _parse(data: bytes) -> str | None:
    ihl = (data[0] & 0xF) * 4
    proto = data[9]
    src, dst = socket.inet_ntoa(data[12:16]), socket.inet_ntoa(data[16:20])
    l4 = data[ihl:]
    if proto in (6, 17) and len(l4) >= 4:
        sport, dport = struct.unpack("!HH", l4[:4])
        return f"{proto}|{src}|{dst}|{sport}|{dport}"
    if proto == 1 and len(l4) >= 6:
        return f"1|{src}|{dst}|{l4[0]}|{struct.unpack('!H', l4[4:6])[0]}"
    return None


def sink() -> None:
    socks = [socket.socket(socket.AF_INET, socket.SOCK_RAW, p) for p in (6, 17, 1)]
    seen: set[str] = set()
    lock = threading.Lock()

    def reader() -> None:
        while True:
            ready, _, _ = select.select(socks, [], [], 0.5)
            for s in ready:
                k = _parse(s.recv(65535))
                if k:
                    with lock:
                        seen.add(k)

    threading.Thread(target=reader, daemon=True).start()
    _say({"ready": True})
    for line in sys.stdin:
        cmd = line.strip()
        with lock:
            if cmd == "reset":
                seen.clear()
                _say({"ok": True})
            elif cmd == "dump":
                _say({"seen": sorted(seen)})


def send() -> None:
    s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    _say({"ready": True})
    for line in sys.stdin:
        msg = json.loads(line)
        for p in msg["probes"]:
            s.sendto(_packet(p), (p["dst"], 0))
        _say({"sent": len(msg["probes"])})


def listen(args: list[str]) -> None:
    """``addr,addr,… proto:port …``: UDP binds per address so replies come from the probed address."""
    addrs, ports = args[0].split(","), args[1:]
    socks = []
    for spec in ports:
        proto, port = spec.split(":")
        if proto == "tcp":
            t = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            t.bind(("0.0.0.0", int(port)))
            t.listen(64)
            socks.append(t)
        else:
            for a in addrs:
                u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                u.bind((a, int(port)))
                socks.append(u)
    _say({"ready": True})
    while True:
        ready, _, _ = select.select(socks, [], [], 1.0)
        for s in ready:
            if s.type == socket.SOCK_STREAM:
                conn, _ = s.accept()
                conn.close()
            else:
                data, addr = s.recvfrom(2048)
                s.sendto(data, addr)


def _probe(p: dict[str, Any], timeout: float) -> str:
    proto = p["proto"]
    if proto == "icmp":
        s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
        s.bind((p["src"], 0))
        ident = p.get("id", 7)
        s.sendto(_packet({"src": p["src"], "dst": p["dst"], "proto": 1, "id": ident})[20:], (p["dst"], 0))
        end = time.time() + timeout
        while time.time() < end:
            r, _, _ = select.select([s], [], [], end - time.time())
            if r:
                data = s.recv(2048)
                l4 = data[(data[0] & 0xF) * 4:]
                if l4[0] == 0 and struct.unpack("!H", l4[4:6])[0] == ident:
                    return "reply"
                if l4[0] == 3:
                    return "unreachable"
        return "timeout"
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    s = socket.socket(socket.AF_INET, kind)
    s.settimeout(timeout)
    s.bind((p["src"], 0))
    try:
        if proto == "tcp":
            s.connect((p["dst"], p["dport"]))
            return "connected"
        s.connect((p["dst"], p["dport"]))
        s.send(b"ringwall")
        s.recv(64)
        return "reply"
    except ConnectionRefusedError:
        return "refused"
    except TimeoutError:
        return "timeout"
    except OSError as exc:
        return "unreachable" if exc.errno in (113, 101) else f"error {exc.errno}"
    finally:
        s.close()


def connect() -> None:
    _say({"ready": True})
    for line in sys.stdin:
        msg = json.loads(line)
        results: list[str] = [""] * len(msg["probes"])
        timeout = float(msg.get("timeout", 1.0))

        def run(i: int, p: dict[str, Any], out: list[str] = results, wait: float = timeout) -> None:
            out[i] = _probe(p, wait)

        threads = [threading.Thread(target=run, args=(i, p)) for i, p in enumerate(msg["probes"])]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        _say({"results": results})


def _say(obj: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "sink":
        sink()
    elif mode == "send":
        send()
    elif mode == "listen":
        listen(sys.argv[2:])
    elif mode == "connect":
        connect()
