#!/usr/bin/python3
# SPDX-License-Identifier: BSD-2-Clause
"""pcapflows.py FILE: what tshark (an independent reader) sees in a capture.

One line per direction of every conversation, in order of first packet:
    tcp 127.0.0.1:41882 > 127.0.0.1:43031 bytes=27 sha256=HEX syn=1 fin=1 rst=0
then `checksums bad=N checked=M` over the IP, TCP and UDP checksums, with
checksum validation switched on. Exit 1 when tshark fails.
"""
import hashlib
import subprocess
import sys

FIELDS = ["ip.src", "ipv6.src", "tcp.srcport", "udp.srcport", "ip.dst", "ipv6.dst",
          "tcp.dstport", "udp.dstport", "tcp.flags", "tcp.payload", "udp.payload",
          "ip.checksum.status", "tcp.checksum.status", "udp.checksum.status"]


def main():
    cmd = ["tshark", "-r", sys.argv[1], "-T", "fields", "-E", "separator=|",
           "-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE",
           "-o", "udp.check_checksum:TRUE"]
    for f in FIELDS:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode != 0:
        sys.stderr.write(out.stderr)
        return 1
    flows, order = {}, []
    bad = checked = 0
    for line in out.stdout.splitlines():
        v = dict(zip(FIELDS, line.split("|")))
        src = v["ip.src"] or "[%s]" % v["ipv6.src"]
        dst = v["ip.dst"] or "[%s]" % v["ipv6.dst"]
        proto = "tcp" if v["tcp.srcport"] else "udp"
        key = "%s %s:%s > %s:%s" % (proto, src, v["tcp.srcport"] or v["udp.srcport"],
                                    dst, v["tcp.dstport"] or v["udp.dstport"])
        if key not in flows:
            flows[key] = {"h": hashlib.sha256(), "n": 0, "syn": 0, "fin": 0, "rst": 0}
            order.append(key)
        f = flows[key]
        data = bytes.fromhex((v["tcp.payload"] or v["udp.payload"]).replace(":", ""))
        f["h"].update(data)
        f["n"] += len(data)
        flags = int(v["tcp.flags"], 16) if v["tcp.flags"] else 0
        f["syn"] += bool(flags & 0x02)
        f["fin"] += bool(flags & 0x01)
        f["rst"] += bool(flags & 0x04)
        for c in ("ip.checksum.status", "tcp.checksum.status", "udp.checksum.status"):
            if v[c]:
                checked += 1
                bad += v[c] != "1"  # 1: good; 0: bad; 2: not verified
    for key in order:
        f = flows[key]
        print("%s bytes=%d sha256=%s syn=%d fin=%d rst=%d" % (
            key, f["n"], f["h"].hexdigest(), f["syn"], f["fin"], f["rst"]))
    print("checksums bad=%d checked=%d" % (bad, checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
