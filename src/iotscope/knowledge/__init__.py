"""Device knowledge shared by the lab and the survey: default credentials and firmware CVEs.

- ``load_default_credentials()``: the shipped list of factory default ID/password pairs
  (Mirai's 2016 list plus vendor defaults from public manuals), ordered by likelihood.
- ``load_credentials_file(path)``: a user's list in the same CSV format.
- ``cves_for(vendor, product, version)``: the CVEs a firmware version is known to carry.
"""

from iotscope.knowledge._credentials import (
    CredentialEntry,
    load_credentials_file,
    load_default_credentials,
)
from iotscope.knowledge._vulns import cves_for

__all__ = [
    "CredentialEntry",
    "cves_for",
    "load_credentials_file",
    "load_default_credentials",
]
