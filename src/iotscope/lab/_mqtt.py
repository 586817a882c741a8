"""An MQTT 3.1.1 broker's front door, sans-IO (OASIS MQTT 3.1.1, s2-3).

The first packet must be CONNECT (s3.1); the broker answers CONNACK (s3.2) with return code
0 (accepted), 1 (unacceptable protocol level), 4 (bad user name or password: wrong pair) or
5 (not authorized: no credentials on a broker that needs them), and hangs up after a refusal.
Accepted clients may PINGREQ (PINGRESP), SUBSCRIBE (SUBACK, QoS 0 granted), PUBLISH (QoS 1
gets PUBACK) and DISCONNECT. Malformed packets, a second CONNECT or packets over
``MAX_PACKET`` close the connection (s4.8).
"""

from __future__ import annotations

from iotscope.lab._creds import Pair

MAX_PACKET = 65536
CONNECT, CONNACK, PUBLISH, PUBACK, SUBSCRIBE, SUBACK = 1, 2, 3, 4, 8, 9
PINGREQ, PINGRESP, DISCONNECT = 12, 13, 14


class Malformed(Exception):
    pass


def split_packet(buf: bytes | bytearray) -> tuple[int, bytes, int] | None:
    """(first byte, body, total length) of the first whole packet in ``buf``, or None."""
    if len(buf) < 2:
        return None
    length, mult, i = 0, 1, 1
    while True:
        if i >= len(buf):
            return None
        byte = buf[i]
        length += (byte & 0x7F) * mult
        i += 1
        if not byte & 0x80:
            break
        mult *= 128
        if i > 4:
            raise Malformed("remaining length over 4 bytes")
    if length > MAX_PACKET:
        raise Malformed("packet too large")
    if len(buf) < i + length:
        return None
    return buf[0], bytes(buf[i : i + length]), i + length


def encode_length(n: int) -> bytes:
    """The remaining-length field (s2.2.3): 7 bits a byte, high bit = more follows."""
    out = bytearray()
    while True:
        n, digit = divmod(n, 128)
        out.append(digit | (0x80 if n else 0))
        if not n:
            return bytes(out)


def _string(body: bytes, pos: int) -> tuple[bytes, int]:
    if pos + 2 > len(body):
        raise Malformed("truncated string")
    n = int.from_bytes(body[pos : pos + 2], "big")
    if pos + 2 + n > len(body):
        raise Malformed("truncated string")
    return body[pos + 2 : pos + 2 + n], pos + 2 + n


def parse_connect(body: bytes) -> tuple[bytes, int, str | None, str | None]:
    """(protocol name, level, username, password) of a CONNECT body (s3.1.2-3.1.3)."""
    name, pos = _string(body, 0)
    if pos + 4 > len(body):
        raise Malformed("truncated CONNECT header")
    level, flags = body[pos], body[pos + 1]
    pos += 4  # level, flags, keep alive
    _, pos = _string(body, pos)  # client identifier
    if flags & 0x04:  # will flag: will topic, will message
        _, pos = _string(body, pos)
        _, pos = _string(body, pos)
    user = password = None
    if flags & 0x80:
        raw, pos = _string(body, pos)
        user = raw.decode("utf-8", "replace")
    if flags & 0x40:
        raw, pos = _string(body, pos)
        password = raw.decode("utf-8", "replace")
    return name, level, user, password


class MqttSession:
    def __init__(self, pair: Pair | None) -> None:
        self.pair = pair
        self.closed = False
        self.connected = False
        self._buf = bytearray()

    def start(self) -> bytes:
        return b""

    def feed(self, data: bytes) -> bytes:
        self._buf += data
        out = bytearray()
        while not self.closed:
            try:
                packet = split_packet(self._buf)
            except Malformed:
                self.closed = True
                break
            if packet is None:
                break
            first, body, total = packet
            del self._buf[:total]
            out += self._packet(first >> 4, first & 0x0F, body)
        return bytes(out)

    def _packet(self, kind: int, flags: int, body: bytes) -> bytes:
        if not self.connected:
            if kind != CONNECT:
                self.closed = True
                return b""
            return self._connect(body)
        if kind == PINGREQ:
            return bytes((PINGRESP << 4, 0))
        if kind == SUBSCRIBE and len(body) >= 2:
            return self._suback(body)
        if kind == PUBLISH and (flags >> 1) & 3 == 1:
            return self._puback(body)
        if kind in (DISCONNECT, CONNECT):
            self.closed = True
        return b""

    def _connect(self, body: bytes) -> bytes:
        try:
            name, level, user, password = parse_connect(body)
        except Malformed:
            self.closed = True
            return b""
        if (name, level) not in ((b"MQTT", 4), (b"MQIsdp", 3)):
            code = 1
        else:
            code = self.return_code(user, password)
        self.connected = code == 0
        self.closed = code != 0
        return bytes((CONNACK << 4, 2, 0, code))

    def return_code(self, user: str | None, password: str | None) -> int:
        pair = self.pair
        if pair is None or pair.open:
            return 0
        if user is None:
            return 5
        return 0 if (user, password) == (pair.username, pair.password) else 4

    @staticmethod
    def _suback(body: bytes) -> bytes:
        topics, pos = 0, 2
        try:
            while pos < len(body):
                _, pos = _string(body, pos)
                pos += 1  # requested QoS
                topics += 1
        except Malformed:
            pass
        payload = body[:2] + bytes(max(topics, 1))
        return bytes((SUBACK << 4,)) + encode_length(len(payload)) + payload

    @staticmethod
    def _puback(body: bytes) -> bytes:
        try:
            _, pos = _string(body, 0)
        except Malformed:
            return b""
        return bytes((PUBACK << 4, 2)) + body[pos : pos + 2]
