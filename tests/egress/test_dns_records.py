"""TXT lookups through dnspython against a real DNS server on loopback."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from orgconnectors.egress.dns_records import DnsLookupFailed, parse_resolvers, txt_records
from tests.peers.dns_server import DnsServer


@pytest.fixture
def dns_server(settings):
    server = DnsServer().start()
    settings.ORGCONNECTORS_DNS_RESOLVERS = [server.address]
    yield server
    server.stop()


def test_it_reads_the_txt_records_the_server_answers(dns_server):
    dns_server.set_txt("_challenge.acme.test", "first", "second")

    assert sorted(txt_records("_challenge.acme.test")) == ["first", "second"]


def test_a_name_that_does_not_exist_is_said_in_a_sentence(dns_server):
    with pytest.raises(DnsLookupFailed, match=r"does not exist in DNS \(NXDOMAIN\)"):
        txt_records("nowhere.acme.test")


def test_a_name_without_a_txt_record_is_said_in_a_sentence(dns_server):
    dns_server.set_no_txt("bare.acme.test")

    with pytest.raises(DnsLookupFailed, match="has no TXT record"):
        txt_records("bare.acme.test")


def test_a_server_that_never_answers_is_given_up_on_in_bounded_time(dns_server):
    dns_server.go_silent()

    with pytest.raises(DnsLookupFailed, match="got no answer within 0.3 seconds"):
        txt_records("slow.acme.test", timeout=0.3)


def test_it_keeps_a_bounded_part_of_a_huge_answer(dns_server):
    dns_server.set_txt("many.acme.test", *(f"value-{i}" for i in range(80)))

    assert len(txt_records("many.acme.test")) == 50


def test_resolvers_are_ip_addresses_with_an_optional_port():
    assert parse_resolvers("1.1.1.1, 9.9.9.9:5353, [2606:4700::1111]:53, ::1") == [
        ("1.1.1.1", 53),
        ("9.9.9.9", 5353),
        ("2606:4700::1111", 53),
        ("::1", 53),
    ]
    with pytest.raises(ImproperlyConfigured, match="not an IP address"):
        parse_resolvers("dns.example.com")
