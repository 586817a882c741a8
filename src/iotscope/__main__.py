"""``python -m iotscope`` is the ``iotscope`` command."""

from iotscope.cli import main

main()
