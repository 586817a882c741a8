"""``iotscope demo``: the main job, end to end, on the embedded default store.

1. bring up a lab of emulated IoT devices on loopback (its own process) and show what is in it;
2. survey the lab as NOTICE would (discovery, identification, login checks) and compare the
   findings with the lab's ground truth;
3. generate darknet and ISP flow traffic for the lab's ISPs, ingest it (telescope, flows),
   detect C2 servers per ISP and compare them with the traffic's ground truth.

With ``--once`` the demo exits after the last step; otherwise the lab keeps running until
Ctrl-C so that the user can point other tools (nmap, the survey) at it.
"""

from __future__ import annotations

from iotscope.demo._run import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
