"""Which information elements become which flow column: the decoders' field table.

Numbers are IANA's IPFIX Information Element ids (RFC 7012 registry), which NetFlow v9 field
types 1-127 share (RFC 3954 §8). Each role lists its elements in order of preference; the first
one a template carries wins. Everything else in a template is skipped by its length.
"""

from __future__ import annotations

from typing import Final

# role -> IE ids, most preferred first
ROLES: Final[dict[str, tuple[int, ...]]] = {
    "src4": (8,),  # sourceIPv4Address / IPV4_SRC_ADDR
    "dst4": (12,),  # destinationIPv4Address / IPV4_DST_ADDR
    "src6": (27,),  # sourceIPv6Address / IPV6_SRC_ADDR
    "dst6": (28,),  # destinationIPv6Address / IPV6_DST_ADDR
    "sport": (7,),  # sourceTransportPort / L4_SRC_PORT
    "dport": (11,),  # destinationTransportPort / L4_DST_PORT
    "icmp": (32, 139),  # icmpTypeCodeIPv4 / ICMP_TYPE, icmpTypeCodeIPv6: type * 256 + code
    "proto": (4,),
    "sampler": (
        48,
        302,
    ),  # FLOW_SAMPLER_ID / samplerId, selectorId (RFC 5477 §8.1)  # protocolIdentifier / PROTOCOL
    "packets": (2, 86, 24),  # packetDeltaCount / IN_PKTS, packetTotalCount, OUT_PKTS
    "bytes": (1, 85, 23),  # octetDeltaCount / IN_BYTES, octetTotalCount, OUT_BYTES
    "tcp_flags": (6,),  # tcpControlBits / TCP_FLAGS
    "start_ms": (152,),  # flowStartMilliseconds (RFC 7011 §6.1.8)
    "end_ms": (153,),
    "start_s": (150,),  # flowStartSeconds (§6.1.7)
    "end_s": (151,),
    "start_ntp": (154, 156),  # flowStartMicro/Nanoseconds, NTP format (§6.1.9, §6.1.10)
    "end_ntp": (155, 157),
    "start_up": (22,),  # FIRST_SWITCHED / flowStartSysUpTime (ms since exporter boot)
    "end_up": (21,),
    "start_delta_us": (158,),  # flowStartDeltaMicroseconds: µs before the export time
    "end_delta_us": (159,),
    "init_ms": (160,),  # systemInitTimeMilliseconds (IPFIX boot time, absolute)
}

# the lengths a role accepts (RFC 7011 §6.2 reduced-size encoding allows shorter counters)
ADDRESS_LENGTHS: Final[dict[str, int]] = {"src4": 4, "dst4": 4, "src6": 16, "dst6": 16}

# Options data elements that set an exporter's sampling rate (RFC 7270 §4.13; RFC 5477 §8.2).
SAMPLING_INTERVAL: Final = 34  # samplingInterval / SAMPLING_INTERVAL: 1 out of N
SAMPLER_RANDOM_INTERVAL: Final = 50  # samplerRandomInterval / FLOW_SAMPLER_RANDOM_INTERVAL
SAMPLING_PACKET_INTERVAL: Final = 305  # samplingPacketInterval: packets sampled in a row
SAMPLING_PACKET_SPACE: Final = 306  # samplingPacketSpace: packets skipped after them
SAMPLING_SIZE: Final = 309  # samplingSize: n out of ...
SAMPLING_POPULATION: Final = 310  # samplingPopulation: ... N
SYSTEM_INIT_MS: Final = 160
SAMPLER_IDS: Final = (48, 302)  # FLOW_SAMPLER_ID / samplerId; selectorId

NTP_EPOCH_OFFSET_S: Final = 2_208_988_800  # seconds from 1900-01-01 to 1970-01-01
VARIABLE_LENGTH: Final = 65535  # RFC 7011 §7
ENTERPRISE_BIT: Final = 0x8000  # RFC 7011 §3.2
