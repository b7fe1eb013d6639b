"""Telephone links: E.164 from the numbers content writes, read in the clinic's country."""

from __future__ import annotations

import pytest
from markupsafe import Markup

from generator.errors import RenderError
from generator.phones import e164, link_phones, tel_url


def test_numbers_become_e164_in_the_clinics_country() -> None:
    assert tel_url("(708) 555-0142", "US") == "tel:+17085550142"
    assert e164("020 7946 0018", "GB") == "+442079460018"
    assert e164("+49 30 901820", "US") == "+4930901820"
    assert e164("911", "US") == "911"


def test_an_impossible_number_is_an_error() -> None:
    with pytest.raises(RenderError):
        e164("call us", "US")


def test_phone_numbers_in_rendered_text_become_links_once() -> None:
    html = Markup("<p>Call <strong>911</strong> or us at (708) 555-0142. "
                  'Or <a href="tel:+17085550142">(708) 555-0142</a>. Take 100 mg.</p>')
    out = link_phones(html, "US")
    assert '<strong><a href="tel:911">911</a></strong>' in out
    assert 'us at <a href="tel:+17085550142">(708) 555-0142</a>.' in out
    assert out.count("tel:+17085550142") == 2  # the existing link is left alone
    assert "Take 100 mg." in out  # three digits in running text are not a number


def test_plain_text_is_escaped_not_trusted() -> None:
    out = link_phones("Evil <script>alert(1)</script> at (708) 555-0142", "US")
    assert "<script>" not in out and "&lt;script&gt;" in out
    assert '<a href="tel:+17085550142">(708) 555-0142</a>' in out
