"""A real BIRD 2 on loopback as the ISP's router (its own config, socket and log in a work
dir), for the tests and the demo: what an ISP's route server does with our blackhole routes.

It listens on 127.0.0.2:PORT, waits passively for our speaker (from 127.0.0.3), imports only
/32s carrying the RFC 7999 BLACKHOLE community, and resolves the discard next hop 192.0.2.1
through a static blackhole route, as an RTBH router would. No kernel protocol: nothing reaches
the machine's routing table.
"""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

from iotscope.block._sources import BlockError

BIRD_ADDR, SPEAKER_ADDR = "127.0.0.2", "127.0.0.3"

CONFIG = """\
log "{log}" all;
router id {bird_addr};
protocol device {{ scan time 60; }}
protocol static discard {{
  ipv4;
  route {next_hop}/32 blackhole;
}}
filter rtbh_in {{
  if net.len != 32 then reject;
  if !((65535,666) ~ bgp_community) then reject;
  accept;
}}
protocol bgp iotscope {{
  local {bird_addr} port {port} as {bird_as};
  neighbor {speaker_addr} as {speaker_as};
  passive on;
  multihop 2;
  hold time 9;
  connect retry time 1;
  ipv4 {{
    import filter rtbh_in;
    export none;
    gateway recursive;
    igp table master4;
  }};
}}
"""


@dataclass
class Bird:
    proc: subprocess.Popen[bytes]
    socket: Path
    port: int
    log: Path

    def cli(self, *args: str) -> str:
        birdc = shutil.which("birdc") or "birdc"
        res = subprocess.run(
            [birdc, "-s", str(self.socket), *args], capture_output=True, text=True, timeout=10
        )
        return res.stdout

    def routes(self) -> dict[str, str]:
        """Prefix -> its BGP.community line, from `show route all protocol iotscope`."""
        out: dict[str, str] = {}
        prefix = None
        for line in self.cli("show", "route", "all", "protocol", "iotscope").splitlines():
            m = re.match(r"^(\d+\.\d+\.\d+\.\d+/\d+)\s", line)
            if m:
                prefix = m.group(1)
                out[prefix] = ""
            elif prefix and "BGP.community:" in line:
                out[prefix] = line.split("BGP.community:", 1)[1].strip()
        return out

    def state(self) -> str:
        return self.cli("show", "protocols", "iotscope")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def free_port(addr: str) -> int:
    with socket.socket() as s:
        s.bind((addr, 0))
        return int(s.getsockname()[1])


def bird_available() -> bool:
    return shutil.which("bird") is not None and shutil.which("birdc") is not None


def start_bird(tmp: Path, bird_as: int, speaker_as: int, next_hop: str = "192.0.2.1") -> Bird:
    """Start ``bird`` in the foreground on 127.0.0.2 (a free port) and wait for its socket."""
    port = free_port(BIRD_ADDR)
    conf, sock, log = tmp / "bird.conf", tmp / "bird.ctl", tmp / "bird.log"
    conf.write_text(
        CONFIG.format(
            log=log,
            bird_addr=BIRD_ADDR,
            speaker_addr=SPEAKER_ADDR,
            port=port,
            bird_as=bird_as,
            speaker_as=speaker_as,
            next_hop=next_hop,
        )
    )
    proc = subprocess.Popen(
        [
            shutil.which("bird") or "bird",
            "-f",
            "-c",
            str(conf),
            "-s",
            str(sock),
            "-P",
            str(tmp / "bird.pid"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    bird = Bird(proc, sock, port, log)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise BlockError(f"bird exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        if sock.exists() and "iotscope" in bird.state():
            return bird
        time.sleep(0.1)
    bird.stop()
    raise BlockError("bird did not come up", log=str(log))
