"""``iotscope demo``: the main job, end to end, on the embedded default store.

1. bring up a lab of emulated IoT devices on loopback (its own process) and show what is in it;
2. survey the lab as NOTICE would (discovery, identification, login checks) and compare the
   findings with the lab's ground truth; 3. infer and verify the firmware's CVEs;
4. generate darknet and ISP flow traffic for the lab's ISPs, ingest it (telescope, flows),
   detect C2 servers per ISP and compare them with the traffic's ground truth;
5-7. each ISP's reports, one ISP's notices to its subscribers, a simulated follow-up month;
8-10. every ISP's detection shared through the hub, the shared content, one ISP blocking;
11. what each ISP sends the analysis centre (C2 contacts, region counts, subscribers);
12. the centre served twice, each at its own printed URL with a token per role: over the
    demo's own store (what steps 1-11 found) and over a month world (a month of history at
    national scale); every page of every role and the live facts are checked.

With ``--once`` the demo exits after the last step (non-zero when a page or fact failed);
otherwise the lab and both centres keep running until Ctrl-C.
"""

from __future__ import annotations

from iotscope.demo._run import DemoOptions, run_demo

__all__ = ["DemoOptions", "run_demo"]
