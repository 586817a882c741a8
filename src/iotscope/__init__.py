"""iotscope: a platform for national IoT botnet countermeasures."""

__version__ = "0.1.0"
