"""Run IntelMQ's Shadowserver parser bot's own parse logic in-process on a report file.

IntelMQ's ``BotTestCase`` refuses to run as root (it drops privileges for the whole process),
so this builds the bot the way its test harness does (mocked configuration, a Python-list
pipeline), feeds it one Report whose ``extra.file_name`` is the file's name and ``raw`` its
bytes, runs ``process()`` once and returns the events it sent (dicts), plus its log text.
"""

from __future__ import annotations

import base64
import io
import json
from pathlib import Path
from typing import Any
from unittest import mock


def parse_file(
    path: Path, schema: Path | None, test_mode: bool = False
) -> tuple[list[dict[str, Any]], str]:
    from intelmq.bots.parsers.shadowserver import _config as config
    from intelmq.bots.parsers.shadowserver.parser import ShadowserverParserBot
    from intelmq.lib import pipeline, utils
    from intelmq.lib.test import BOT_CONFIG, mocked_config, mocked_get_global_settings

    state = config._config if hasattr(config, "_config") else config.__dict__["__config"]
    if schema is not None:
        state.schema_file = str(schema)
        state.schema_active = str(schema)
    state.schema_mtime = 0.0
    bot_id = "iotscope-test-parser"
    conf = {**BOT_CONFIG, "test_mode": test_mode, "logging_level": "DEBUG",
            "destination_queues": {"_default": f"{bot_id}-output"}}  # fmt: skip
    log = io.StringIO()
    logger = utils.log(bot_id, log_path=False, stream=log, log_format_stream=utils.LOG_FORMAT,
                       log_level="DEBUG")  # fmt: skip
    cfg = mocked_config(
        bot_id, sysconfig=conf, group="Parser", module=ShadowserverParserBot.__module__
    )
    with (
        mock.patch("intelmq.lib.utils.load_configuration", new=cfg),
        mock.patch("intelmq.lib.utils.log", lambda *a, **k: logger),
        mock.patch("intelmq.lib.utils.get_global_settings", mocked_get_global_settings),
    ):
        bot = ShadowserverParserBot(bot_id)
    bot._Bot__stats_cache = None
    pipe = pipeline.Pythonlist(logger=logger, pipeline_args={}, load_balance=False,
                               is_multithreaded=False)  # fmt: skip
    pipe.set_queues(f"{bot_id}-input", "source")
    pipe.set_queues({"_default": f"{bot_id}-output"}, "destination")
    report = {
        "__type": "Report",
        "feed.name": "Shadowserver",
        "time.observation": "2026-11-02T00:00:00+00:00",
        "extra.file_name": path.name,
        "raw": base64.b64encode(path.read_bytes()).decode(),
    }
    pipe.state[f"{bot_id}-input"] = [json.dumps(report)]
    bot._Bot__source_pipeline = pipe
    bot._Bot__destination_pipeline = pipe
    bot.process()
    out = [json.loads(m) for m in pipe.state.get(f"{bot_id}-output", [])]
    return out, log.getvalue()
