"""The NOTICE-style survey: scoped discovery, banners, identification, login checks.

Public face: :class:`Scope` (the only addresses ever contacted), the engine
(:class:`SurveyEngine` over an injected :class:`Backend`), the real scope-enforcing
:class:`RealBackend` and the wiring used by ``iotscope survey run`` (:func:`prepare`,
:func:`run_survey`).
"""

from iotscope.survey._limits import Limits, TokenBucket
from iotscope.survey._login import LoginPolicy, check_login, order_credentials
from iotscope.survey._main import SurveyConfig, prepare, run_survey
from iotscope.survey._net import Backend, NetError, RealBackend, Timeouts, open_checked_socket
from iotscope.survey._probe import ServiceResult, probe_service, probe_ssdp
from iotscope.survey._run import SOURCE_ORDER, SurveyEngine, SurveyOptions, Target
from iotscope.survey._scope import Scope
from iotscope.survey._targets import DEFAULT_PORTS, parse_ports, parse_shard, read_zmap_csv

__all__ = [
    "DEFAULT_PORTS",
    "SOURCE_ORDER",
    "Backend",
    "Limits",
    "LoginPolicy",
    "NetError",
    "RealBackend",
    "Scope",
    "ServiceResult",
    "SurveyConfig",
    "SurveyEngine",
    "SurveyOptions",
    "Target",
    "Timeouts",
    "TokenBucket",
    "check_login",
    "open_checked_socket",
    "order_credentials",
    "parse_ports",
    "parse_shard",
    "prepare",
    "probe_service",
    "probe_ssdp",
    "read_zmap_csv",
    "run_survey",
]
