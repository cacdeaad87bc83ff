"""A real DNS server on loopback (dnslib, UDP, an ephemeral port, in a thread) answering the TXT
records a test sets, so domain verification goes through dnspython and a socket like in
production. Point ORGCONNECTORS_DNS_RESOLVERS at `address`."""

import threading

from dnslib import QTYPE, RCODE, RR, TXT, DNSLabel
from dnslib.dns import DNSError
from dnslib.server import BaseResolver, DNSLogger, DNSServer


class _Records(BaseResolver):
    def __init__(self):
        self.txt: dict[DNSLabel, list[str]] = {}
        # Names that exist with no TXT record (an answer with no data, not NXDOMAIN).
        self.empty: set[DNSLabel] = set()
        self.silent = False
        self.queries: list[str] = []
        self._lock = threading.Lock()

    def resolve(self, request, handler):
        name = request.q.qname
        with self._lock:
            self.queries.append(str(name))
            if self.silent:
                # dnslib's handler sends nothing when resolving raises DNSError: the client
                # waits out its own timeout.
                raise DNSError("the test asked this server to stay silent")
            values = self.txt.get(name)
            exists = values is not None or name in self.empty
        reply = request.reply()
        if not exists:
            reply.header.rcode = RCODE.NXDOMAIN
        elif request.q.qtype == QTYPE.TXT:
            for value in values or []:
                reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(value), ttl=60))
        return reply


class DnsServer:
    def __init__(self):
        self._records = _Records()
        # The default logger prints every packet; a quiet one keeps test output readable.
        quiet = DNSLogger("-recv,-send,-request,-reply,-truncated,-error,-data")
        self._server = DNSServer(self._records, address="127.0.0.1", port=0, logger=quiet)
        self.port = self._server.server.server_address[1]
        self.address = f"127.0.0.1:{self.port}"

    def set_txt(self, name: str, *values: str) -> None:
        with self._records._lock:
            self._records.txt[DNSLabel(name)] = list(values)

    def set_no_txt(self, name: str) -> None:
        with self._records._lock:
            self._records.empty.add(DNSLabel(name))

    def go_silent(self) -> None:
        self._records.silent = True

    @property
    def queries(self) -> list[str]:
        with self._records._lock:
            return list(self._records.queries)

    def start(self) -> "DnsServer":
        self._server.start_thread()
        return self

    def stop(self) -> None:
        self._server.stop()
        self._server.server.server_close()
