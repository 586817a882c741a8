"""Continuous detection at an ISP: the flow collector, rolling C2 detection over a sliding
window, and publication of new, changed and expired C2s to the hub (TAXII 2.1), resumable
after a kill -9 (issue 9, item 1); and the ISP's C2 contacts for the centre, its clients
named by keyed pseudonyms (issue 10)."""

from iotscope.isp._contacts import pseudonym_key, record_contacts, run_contacts
from iotscope.isp._plan import Action, Plan, Published, content_hash, plan

__all__ = [
    "Action",
    "Plan",
    "Published",
    "content_hash",
    "plan",
    "pseudonym_key",
    "record_contacts",
    "run_contacts",
]
