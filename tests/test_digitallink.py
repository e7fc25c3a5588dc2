"""GS1 Digital Link URIs: GTIN padding and check digits, AI 10/21 encoding, serials."""

import itertools
import random
import string
from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from schemas.digitallink import (
    GS1_CSET82,
    SERIAL_ALPHABET,
    SERIAL_LENGTH,
    DigitalLinkError,
    DigitalLinkId,
    digital_link,
    label_link,
    new_serial,
    parse_digital_link,
)

BASE = "https://id.gd-carbon-label.example"
# GS1 General Specifications §7.9 worked check digits.
GTIN14 = "09506000134352"


@pytest.mark.parametrize(
    ("gtin", "gtin14"),
    [
        pytest.param("95010014", "00000095010014", id="gtin-8"),
        pytest.param("614141000036", "00614141000036", id="gtin-12"),
        pytest.param("6901234567892", "06901234567892", id="gtin-13"),
        pytest.param("09506000134352", "09506000134352", id="gtin-14"),
        pytest.param("10614141000033", "10614141000033", id="gtin-14-indicator-1"),
    ],
)
def test_gtin_is_padded_to_14_digits(gtin: str, gtin14: str) -> None:
    assert digital_link(BASE, gtin) == f"{BASE}/01/{gtin14}"
    assert parse_digital_link(f"{BASE}/01/{gtin}") == DigitalLinkId(gtin14)


@pytest.mark.parametrize(
    ("gtin", "reason"),
    [
        pytest.param("09506000134353", "expected 2, found 3", id="bad-check-digit"),
        pytest.param("6901234567891", "expected 2, found 1", id="bad-check-digit-13"),
        pytest.param("0950600013435", "expected 9, found 5", id="gtin-13-wrong-digit"),
        pytest.param("123456789", "8, 12, 13 or 14 digits", id="length-9"),
        pytest.param("095060001343521", "8, 12, 13 or 14 digits", id="length-15"),
        pytest.param("0950600013435A", "only the digits", id="letter"),
        pytest.param("０９５０６０００１３４３５２", "only the digits", id="fullwidth-digits"),
        pytest.param("", "only the digits", id="empty"),
    ],
)
def test_bad_gtin_is_refused_naming_the_field(gtin: str, reason: str) -> None:
    with pytest.raises(DigitalLinkError, match=r"^gtin: ") as built:
        digital_link(BASE, gtin)
    assert built.value.element == "gtin"
    assert reason in str(built.value)
    if gtin and gtin.isascii():
        with pytest.raises(DigitalLinkError, match=r"^gtin: ") as parsed:
            parse_digital_link(f"{BASE}/01/{gtin}")
        assert reason in str(parsed.value)


def test_check_digit_error_says_which_digit() -> None:
    with pytest.raises(DigitalLinkError) as caught:
        parse_digital_link("/01/09506000134350")
    assert str(caught.value) == "gtin: must be a valid GTIN check digit (expected 2, found 0)"


def test_batch_and_serial_in_order() -> None:
    uri = digital_link(BASE, GTIN14, batch="ABC123", serial="12345")
    assert uri == f"{BASE}/01/{GTIN14}/10/ABC123/21/12345"
    assert parse_digital_link(uri) == DigitalLinkId(GTIN14, "ABC123", "12345")
    assert digital_link(BASE + "/", GTIN14, serial="X") == f"{BASE}/01/{GTIN14}/21/X"
    assert parse_digital_link(f"{BASE}/01/{GTIN14}/10/L1") == DigitalLinkId(GTIN14, "L1")


@pytest.mark.parametrize(
    ("value", "encoded"),
    [
        pytest.param("ABC-1.2_x", "ABC-1.2_x", id="unreserved-kept"),
        pytest.param("A/B", "A%2FB", id="slash"),
        pytest.param("50%", "50%25", id="percent"),
        pytest.param("a&b=c?d", "a%26b%3Dc%3Fd", id="query-delimiters"),
        pytest.param("!\"'()*+,:;<>", "%21%22%27%28%29%2A%2B%2C%3A%3B%3C%3E", id="other-symbols"),
    ],
)
def test_qualifier_percent_encoding(value: str, encoded: str) -> None:
    uri = digital_link(BASE, GTIN14, batch=value, serial=value)
    assert uri == f"{BASE}/01/{GTIN14}/10/{encoded}/21/{encoded}"
    assert parse_digital_link(uri) == DigitalLinkId(GTIN14, value, value)


@pytest.mark.parametrize(
    ("kwargs", "element", "reason"),
    [
        pytest.param({"batch": ""}, "batch", "1 to 20", id="empty-batch"),
        pytest.param({"serial": "X" * 21}, "serial", "at most 20", id="long-serial"),
        pytest.param({"serial": "A B"}, "serial", "' '", id="space"),
        pytest.param({"batch": "A#B"}, "batch", "'#'", id="hash"),
        pytest.param({"serial": "批次"}, "serial", "'批'", id="non-ascii"),
        pytest.param({"batch": "a~b"}, "batch", "'~'", id="tilde-not-cset82"),
    ],
)
def test_bad_qualifiers_are_refused(kwargs: dict[str, str], element: str, reason: str) -> None:
    with pytest.raises(DigitalLinkError, match=f"^{element}: ") as caught:
        digital_link(BASE, GTIN14, **kwargs)
    assert caught.value.element == element
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("base_url", "reason"),
    [
        pytest.param("id.example.org", "http or https", id="no-scheme"),
        pytest.param("ftp://id.example.org", "http or https", id="ftp"),
        pytest.param("https://", "host", id="no-host"),
        pytest.param("https://id.example.org/?x=1", "query", id="query"),
        pytest.param("https://id.example.org/#f", "fragment", id="fragment"),
        pytest.param("https://id.example.org/a b", "spaces", id="space"),
        pytest.param("https://id.example.org/01", "/01/", id="prefix-with-01"),
    ],
)
def test_bad_base_url_is_refused(base_url: str, reason: str) -> None:
    with pytest.raises(DigitalLinkError, match=r"^base_url: ") as caught:
        digital_link(base_url, GTIN14)
    assert reason in caught.value.reason


def test_base_path_prefix_query_and_fragment() -> None:
    uri = digital_link("https://example.com/resolve/v1", GTIN14, serial="S1")
    assert uri == f"https://example.com/resolve/v1/01/{GTIN14}/21/S1"
    got = parse_digital_link(uri + "?linkType=gs1:certificationInfo#x")
    assert got == DigitalLinkId(GTIN14, None, "S1")
    assert parse_digital_link(f"/01/{GTIN14}/21/S1") == got


def test_a_printed_label_uri_names_its_label() -> None:
    """The URI printed on a label: the product's Digital Link and ``?label=`` (a non-GS1
    query parameter, which GS1 readers ignore and this resolver reads)."""
    product = digital_link(BASE, GTIN14, batch="L1")
    uri = label_link(product, "GDCL-2026-AC-000123")
    assert uri == f"{BASE}/01/{GTIN14}/10/L1?label=GDCL-2026-AC-000123"
    assert parse_digital_link(uri) == DigitalLinkId(GTIN14, "L1", None, "GDCL-2026-AC-000123")
    both = parse_digital_link(uri + "&linkType=linkset&17=261231#x")
    assert both.label == "GDCL-2026-AC-000123" and both.batch == "L1"
    assert parse_digital_link(product).label is None
    with pytest.raises(DigitalLinkError, match=r"^label: "):
        label_link(product, "GDCL-26-AC-1")
    with pytest.raises(DigitalLinkError, match=r"^path: "):
        label_link(uri, "GDCL-2026-AC-000124")


@pytest.mark.parametrize(
    "query",
    [
        pytest.param("label=", id="empty"),
        pytest.param("label=GDCL-2026-ac-000123", id="lower-case"),
        pytest.param("label=GDCL-2026-AC-1&label=GDCL-2026-AC-2", id="twice"),
        pytest.param("label=%3Cscript%3E", id="markup"),
    ],
)
def test_a_bad_label_parameter_is_refused(query: str) -> None:
    with pytest.raises(DigitalLinkError, match=r"^label: "):
        parse_digital_link(f"/01/{GTIN14}?{query}")


@pytest.mark.parametrize(
    ("path", "element", "reason"),
    [
        pytest.param("https://example.com/gtin/1", "path", "/01/", id="no-primary-key"),
        pytest.param(f"/01/{GTIN14}/21", "path", "no value", id="dangling-ai"),
        pytest.param(f"/01/{GTIN14}/22/V1", "path", "'22'", id="unsupported-ai"),
        pytest.param(f"/01/{GTIN14}/21/S/10/B", "batch", "out of order", id="order"),
        pytest.param(f"/01/{GTIN14}/10/B/10/C", "batch", "repeated", id="repeated"),
        pytest.param(f"/01/{GTIN14}/21/", "serial", "1 to 20", id="empty-serial"),
        pytest.param(f"/01/{GTIN14}/21/A%2", "serial", "'%'", id="bad-escape"),
        pytest.param(f"/01/{GTIN14}/21/A%7E", "serial", "'~'", id="escaped-tilde"),
        pytest.param(f"/01/{GTIN14}/21/A%C3%A9", "serial", "%C3", id="escaped-utf8"),
        pytest.param(f"/01/{GTIN14}/21/A%00", "serial", "%00", id="escaped-nul"),
        pytest.param(f"/01/{GTIN14}/10/a b", "batch", "' '", id="raw-space"),
        pytest.param(f"urn:x:/01/{GTIN14}", "path", "scheme", id="urn"),
    ],
)
def test_bad_paths_are_refused(path: str, element: str, reason: str) -> None:
    with pytest.raises(DigitalLinkError) as caught:
        parse_digital_link(path)
    assert caught.value.element == element
    assert reason in caught.value.reason


def test_literal_sub_delims_and_lowercase_escapes_are_read() -> None:
    got = parse_digital_link(f"/01/{GTIN14}/10/a!b*c/21/x%2fy%3a")
    assert got == DigitalLinkId(GTIN14, "a!b*c", "x/y:")


_qualifiers = st.text(alphabet=sorted(GS1_CSET82), min_size=1, max_size=20)


@given(
    gtin_body=st.text(alphabet=string.digits, min_size=13, max_size=13),
    batch=st.none() | _qualifiers,
    serial=st.none() | _qualifiers,
)
def test_round_trip(gtin_body: str, batch: str | None, serial: str | None) -> None:
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(gtin_body)))
    gtin = gtin_body + str((10 - total % 10) % 10)
    uri = digital_link(BASE, gtin, batch=batch, serial=serial)
    split = urlsplit(uri)
    assert not split.query and not split.fragment
    assert uri.isascii() and " " not in uri
    assert parse_digital_link(uri) == DigitalLinkId(gtin, batch, serial)


def test_serial_shape_and_alphabet() -> None:
    assert len(SERIAL_ALPHABET) == 31 == len(set(SERIAL_ALPHABET))
    assert not set("IOSVZ") & set(SERIAL_ALPHABET)
    assert 31**SERIAL_LENGTH >= 2**64
    serial = new_serial()
    assert len(serial) == SERIAL_LENGTH
    assert set(serial) <= set(SERIAL_ALPHABET)
    uri = digital_link(BASE, GTIN14, serial=serial)
    assert uri.endswith(f"/21/{serial}")  # no percent-encoding needed


def _as_int(serial: str) -> int:
    n = 0
    for char in serial:
        n = n * 31 + SERIAL_ALPHABET.index(char)
    return n


def test_serials_do_not_repeat_and_are_not_sequential() -> None:
    serials = [new_serial() for _ in range(10_000)]
    assert len(set(serials)) == len(serials)
    numbers = [_as_int(s) for s in serials]
    steps = [abs(b - a) for a, b in itertools.pairwise(numbers)]
    # Sequential or near-sequential numbering would give tiny steps; random ones are huge.
    assert min(steps) > 31**6
    # Every position uses (nearly) the whole alphabet: no fixed prefix, no counter.
    for position in range(SERIAL_LENGTH):
        assert len({s[position] for s in serials}) == 31


def test_serial_randomness_is_a_parameter() -> None:
    first = new_serial(random.Random(7).randrange)
    assert first == new_serial(random.Random(7).randrange)
    assert first != new_serial(random.Random(8).randrange)
    assert new_serial(lambda n: 0) == "0" * SERIAL_LENGTH
    assert new_serial(lambda n: n - 1) == "Y" * SERIAL_LENGTH
