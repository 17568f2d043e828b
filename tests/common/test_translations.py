"""Languages (issue 16 item 9, docs/ui.md "Languages"): every template's text is marked for
translation, the Italian translation is complete and compiled, the menus and the money format
follow the page's language, the API stays English."""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import polib
import pytest
from django.template import Context, Template
from django.test import Client
from django.utils import translation

import pbxportal
from pbxportal.common import navigation
from pbxportal.common.template_i18n import mark, untranslated
from pbxportal.common.templatetags.money import money

SRC = Path(pbxportal.__file__).parent
PO = SRC / "locale" / "it" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")
PLACEHOLDER = re.compile(r"%\([a-z_0-9]+\)s|\{[a-z_]+\}")


def _templates() -> list[Path]:
    return sorted(set(SRC.glob("**/templates/**/*.html")))


def test_every_template_text_is_inside_a_translation_tag() -> None:
    # given every template of the portal's apps (other apps' new pages included)
    problems = [
        f"{path.relative_to(SRC.parent)}:{u.line}: {u.text[:80]!r}"
        for path in _templates()
        for u in untranslated(path.read_text())
    ]
    # then no text a user reads is outside {% translate %} / {% blocktranslate %}
    assert not problems, (
        "Text shown to users outside a translation tag (docs/ui.md 'Languages'). Wrap it in "
        '{% translate "..." %} or {% blocktranslate with x=... %}...{% endblocktranslate %} '
        "({% load i18n %} at the top), or run `python -m pbxportal.common.template_i18n FILE` to "
        "mark it, then add the Italian to src/pbxportal/locale/it/LC_MESSAGES/django.po:\n  "
        + "\n  ".join(problems)
    )


def test_the_template_lint_sees_text_attributes_and_variables_outside_tags() -> None:
    source = (
        '{% load i18n %}<h1>Invoices</h1><p title="Help text">{% translate "Done" %}</p>'
        "<td>{{ amount }}</td><p>Due {{ invoice.due_on }}</p>{% blocktranslate %}Kept {{ x }}"
        "{% endblocktranslate %}<script>var a = 'text';</script><!-- a comment -->"
        '<span aria-label="{% translate "Menu" %}">·</span>{{ d|default:"never" }}{{ e|default:_("never") }}'
        '<input name="x" value="{{ on|yesno:\',on\' }}"><input type="submit" value="Send">'
        '<input type="submit" value="{% translate "Save" %}">'
    )
    assert [u.text for u in untranslated(source)] == [
        "Invoices",
        "Help text",
        "Due {{ invoice.due_on }}",
        "Send",
        '|default:"never"',
    ]


def test_marking_a_template_translates_it_and_renders_the_same_english() -> None:
    source = (
        '<h1 title="Latest">Invoices of {{ partner.name }}</h1><p>Total: {{ total|floatformat:2 }} '
        '{% if late %}late{% endif %}</p><a aria-label="Open {{ n }}">x</a>'
    )
    marked = mark(source)
    assert untranslated(marked) == []
    context = Context({"partner": {"name": "Alpha"}, "total": Decimal("5"), "late": True, "n": 3})
    with translation.override("en"):
        assert Template(marked).render(context) == Template(source).render(context)


def _entries() -> list[polib.POEntry]:
    return [e for e in polib.pofile(str(PO)) if not e.obsolete]


def test_the_italian_translation_has_no_untranslated_or_fuzzy_entry() -> None:
    entries = _entries()
    assert len(entries) > 700
    untranslated_ids = [e.msgid for e in entries if not e.translated()]
    fuzzy = [e.msgid for e in entries if "fuzzy" in e.flags]
    assert untranslated_ids == [] and fuzzy == [], (untranslated_ids, fuzzy)


def test_each_italian_message_keeps_the_placeholders_of_the_english() -> None:
    wrong = []
    for e in _entries():
        expected = sorted(PLACEHOLDER.findall(e.msgid))
        translations = e.msgstr_plural.values() if e.msgid_plural else [e.msgstr]
        wrong += [(e.msgid, t) for t in translations if sorted(PLACEHOLDER.findall(t)) != expected]
    assert wrong == []


def test_the_committed_mo_is_compiled_from_the_po() -> None:
    # the .mo is committed (a machine without gettext's msgfmt still gets Italian): it must be
    # the .po compiled, not an older one (docs/ui.md says how to compile it again)
    compiled = {(e.msgid, e.msgstr) for e in polib.mofile(str(MO)) if e.msgid and not e.msgid_plural}
    source = {(e.msgid, e.msgstr) for e in _entries() if not e.msgid_plural}
    assert source - compiled == set(), "run scripts/compile-translations (docs/ui.md)"


def test_every_menu_label_has_an_italian_translation() -> None:
    labels = {g.label for g in navigation.PARTNER_MENU + navigation.STAFF_MENU}
    labels |= {e.label for g in navigation.PARTNER_MENU + navigation.STAFF_MENU for e in g.entries}
    translated = {e.msgid for e in _entries()}
    assert labels - translated == set(), "add the Italian of these menu labels to django.po"


def test_the_menus_follow_the_language_and_keep_their_english_key() -> None:
    from types import SimpleNamespace

    user = SimpleNamespace(is_authenticated=True, partner_id=1, partner_role="admin", staff_role="")
    with translation.override("it"):
        menu = navigation.menu_for(user, "/invoices/")
    billing = next(g for g in menu if g["key"] == "Billing")
    assert billing["label"] == "Fatturazione"
    assert {e["label"] for e in billing["entries"]} >= {"Fatture", "Estratto conto"}


def test_money_uses_the_separators_of_the_language_and_keeps_the_currency() -> None:
    with translation.override("en"):
        assert money(Decimal("1234.5"), "EUR") == "1,234.50 EUR"
    with translation.override("it"):
        assert money(Decimal("1234.5"), "EUR") == "1.234,50 EUR"
        assert money(Decimal("0.012345"), "EUR") == "0,012345 EUR"
        assert money(Decimal("-1234567"), "JPY") == "-1.234.567 JPY"


@pytest.mark.django_db
def test_pages_follow_accept_language_and_the_switch_but_the_api_stays_english(client: Client) -> None:
    # given a browser asking for Italian: the login page answers in Italian
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="it")
    assert '<html lang="it">' in page.content.decode()
    assert "Password dimenticata?" in page.content.decode()
    # and the API answers the same English error shape whatever the language asked
    english = client.get("/api/v1/no-such-route", HTTP_ACCEPT_LANGUAGE="en")
    italian = client.get("/api/v1/no-such-route", HTTP_ACCEPT_LANGUAGE="it")
    assert italian.status_code == english.status_code == 404
    assert italian.json() == english.json()
    assert italian.json()["error"]["message"].startswith("No API route")
    assert "Content-Language" not in italian.headers

    # when the language switch is posted, the choice is remembered in a cookie
    switched = client.post("/i18n/setlang/", {"language": "it", "next": "/login/"})
    assert switched.status_code == 302
    assert client.cookies["pbxportal_language"].value == "it"
    # and wins over the browser's Accept-Language
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en")
    assert '<html lang="it">' in page.content.decode()
    client.post("/i18n/setlang/", {"language": "en", "next": "/login/"})
    assert '<html lang="en">' in client.get("/login/", HTTP_ACCEPT_LANGUAGE="it").content.decode()
