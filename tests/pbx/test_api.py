"""The PBX API (issue 3, item 9): every endpoint, its preview (R-CO-4), and the refusals in the one
error shape with their rule ids (R-API-1)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import pytest
import time_machine
from django.db.models import F
from django.test import Client

from pbxportal.accounts.models import Customer, Partner, PartnerRole, User
from pbxportal.invoicing.models import Invoice, InvoiceKind, InvoiceStatus
from pbxportal.pbx import services
from pbxportal.pbx.models import CorrectionStatus, Pbx, Subscription
from tests.pbx.builders import World, hwaas_agreement_on_record

pytestmark = pytest.mark.django_db


@pytest.fixture
def world() -> World:
    return World()


@pytest.fixture
def client(world: World) -> Client:
    client = Client()
    client.force_login(world.user)
    return client


@pytest.fixture
def staff(world: World) -> Client:
    client = Client()
    client.force_login(world.staff)
    return client


@contextmanager
def on(day: date) -> Iterator[None]:
    """The vendor's today is ``day`` (10:00 UTC is the same day in Europe/Rome), and the partner
    has paid every invoice issued so far, so no overdue stage (R-INV-5) blocks the change."""
    Invoice.objects.filter(kind=InvoiceKind.INVOICE).update(
        status=InvoiceStatus.PAID, amount_paid=F("total"), paid_on=day
    )
    with time_machine.travel(datetime.combine(day, time(10), tzinfo=UTC), tick=False):
        yield


def post(client: Client, url: str, body: dict[str, Any] | None = None, **headers: str) -> Any:
    return client.post(url, body or {}, content_type="application/json", headers=headers)


def half_up(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def refused(response: Any, status: int, rule: str | None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    error = response.json()["error"]
    assert error["rule"] == rule
    assert error["message"]
    return error


NEW_CLOUD = {"model_code": "WPBX-CLOUD", "term": "yearly", "region": "eu-west"}


# --- PBXs ---------------------------------------------------------------------------------------


def test_create_preview_shows_the_first_invoice_and_creates_nothing(world: World, client: Client) -> None:
    # given a partner admin on 2020-05-15
    body = {**NEW_CLOUD, "customer_id": world.customer.pk, "name": "acme", "licences": {"UC-BUSINESS": 3}}
    with on(date(2020, 5, 15)):
        # when they preview a cloud PBX with 3 UC-Business users and 2 storage blocks
        preview = post(client, "/api/v1/pbx/pbxs/preview", {**body, "storage_blocks": 2})
        # then the lines of the first term, and no PBX exists yet
        assert preview.status_code == 200, preview.content
        lines = preview.json()["lines"]
        assert not Pbx.objects.exists()
        # when they create it
        created = post(client, "/api/v1/pbx/pbxs", {**body, "storage_blocks": 2})
    # then 201, the first invoice has exactly the previewed lines (R-CO-4)
    assert created.status_code == 201, created.content
    out = created.json()
    assert out["lines"] == lines
    assert [(x["product_code"], x["quantity"], x["amount"]) for x in lines] == [
        ("UC-BUSINESS-yearly", "3", "360.00"),
        ("STORAGE-50-yearly", "2", "72.00"),
    ]
    assert Decimal(preview.json()["total"]) == Decimal("432.00")
    invoice = Invoice.objects.get(pk=out["invoice"]["id"])
    assert invoice.number == out["invoice"]["number"] and invoice.total == Decimal("432.00")
    assert out["pbx"]["name"] == "acme" and out["pbx"]["expires_on"] == "2021-05-15"
    assert out["pbx"]["url"].startswith("https://acme.") and out["pbx"]["pbx_key"] is None


def test_a_vm_pbx_shows_its_key_serial_expiry_and_subscriptions(world: World, client: Client) -> None:
    # given a yearly VM PBX with 4 UC-Business users
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    # when it is read
    response = client.get(f"/api/v1/pbx/pbxs/{pbx.pk}")
    # then the key's prefix (the key itself is shown once, at creation, R-PBX-3), serial, expiry
    # and subscriptions
    assert response.status_code == 200
    out = response.json()
    assert out["pbx_key"] is None and out["pbx_key_prefix"] == pbx.new_pbx_key[:6]
    assert out["serial"] == pbx.serial and out["status"] == "active"
    assert out["expires_on"] == "2021-05-15" and out["url"] is None
    assert {(s["product_code"], s["quantity"]) for s in out["subscriptions"]} == {
        ("WPBX-VMHW", 1),
        ("UC-BUSINESS", 4),
    }


def test_lifetime_cloud_pbx_is_refused_with_the_rule_id(world: World, client: Client) -> None:
    # given a lifetime cloud PBX / when it is previewed or created / then R-PBX-2 on the term field
    body = {**NEW_CLOUD, "customer_id": world.customer.pk, "name": "forever", "term": "lifetime"}
    for url in ("/api/v1/pbx/pbxs/preview", "/api/v1/pbx/pbxs"):
        error = refused(post(client, url, body), 422, "R-PBX-2")
        assert error["code"] == "rule_violation" and "term" in error["fields"]
    assert not Pbx.objects.exists()


def test_a_pbx_for_another_partners_customer_is_not_found(world: World, client: Client) -> None:
    # given a customer of another partner
    other = Partner.objects.create(name="O", code="o", country="IT", price_book=world.book)
    theirs = Customer.objects.create(partner=other, name="Theirs", country="IT")
    # when the partner creates a PBX for it / then 404, as for any unknown id (R-TEN-1)
    body = {**NEW_CLOUD, "customer_id": theirs.pk, "name": "sneaky"}
    refused(post(client, "/api/v1/pbx/pbxs", body), 404, None)


def test_list_searches_filters_by_status_and_paginates(world: World, client: Client) -> None:
    # given three PBXs, one pending activation
    for name in ("alpha", "beta", "gamma"):
        world.pbx(start=date(2020, 5, 15), name=name)
    Pbx.objects.filter(name="gamma").update(status="pending_activation")
    # when searching, filtering and paging
    found = client.get("/api/v1/pbx/pbxs", {"search": "alp"}).json()
    pending = client.get("/api/v1/pbx/pbxs", {"status": "pending_activation"}).json()
    page = client.get("/api/v1/pbx/pbxs", {"limit": 2, "offset": 2}).json()
    # then
    assert [p["name"] for p in found["items"]] == ["alpha"]
    assert [p["name"] for p in pending["items"]] == ["gamma"]
    assert page["count"] == 3 and [p["name"] for p in page["items"]] == ["gamma"]


# --- Licences -----------------------------------------------------------------------------------


def test_licence_increase_preview_equals_the_charge(world: World, client: Client) -> None:
    # given a yearly PBX from 2020-05-15 with 4 users
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    url = f"/api/v1/pbx/pbxs/{pbx.pk}/licences"
    with on(date(2020, 8, 10)):
        # when 2 users are added on 2020-08-10, previewed first
        preview = post(client, url + "/preview", {"profile": "UC-BUSINESS", "quantity": 6})
        change = post(client, url, {"profile": "UC-BUSINESS", "quantity": 6})
    # then one prorated line: 2 x 120.00 x 278 / 365, with how it was computed (R-CO-4)
    assert preview.status_code == change.status_code == 200
    (line,) = preview.json()["lines"]
    assert line == {
        "kind": "prorated",
        "product_code": "UC-BUSINESS-yearly",
        "description": line["description"],
        "unit_price": "120.000000",
        "quantity": "2",
        "days_charged": 278,
        "days_in_term": 365,
        "period_start": "2020-08-10",
        "period_end": "2021-05-15",
        "amount": str(half_up(Decimal(240) * 278 / 365)),
        "currency": "EUR",
    }
    assert change.json()["lines"] == preview.json()["lines"]
    invoice = Invoice.objects.get(pk=change.json()["invoice"]["id"])
    assert invoice.total == half_up(Decimal(240) * 278 / 365)
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 6


def test_licence_decrease_refused_on_month_end_accepted_the_day_before_without_credit(
    world: World, client: Client
) -> None:
    # given a yearly PBX with 4 users
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    url = f"/api/v1/pbx/pbxs/{pbx.pk}/licences"
    # when decreasing on 2021-01-31 (last day of the month) / then R-PBX-8, for the preview too
    with on(date(2021, 1, 31)):
        refused(post(client, url + "/preview", {"profile": "UC-BUSINESS", "quantity": 2}), 422, "R-PBX-8")
        error = refused(post(client, url, {"profile": "UC-BUSINESS", "quantity": 2}), 422, "R-PBX-8")
    assert "quantity" in error["fields"]
    # when decreasing on 2021-01-30 / then accepted, nothing credited, nothing charged
    with on(date(2021, 1, 30)):
        response = post(client, url, {"profile": "UC-BUSINESS", "quantity": 2})
    assert response.status_code == 200
    assert response.json()["lines"] == [] and response.json()["invoice"] is None
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 2


def test_a_repeated_licence_change_with_the_same_idempotency_key_charges_once(
    world: World, client: Client
) -> None:
    # given a PBX with 4 users
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    before = Invoice.objects.count()
    url = f"/api/v1/pbx/pbxs/{pbx.pk}/licences"
    body = {"profile": "UC-BUSINESS", "quantity": 5}
    with on(date(2020, 8, 10)):
        # when the same increase is sent twice with one Idempotency-Key (R-API-2)
        first = post(client, url, body, **{"Idempotency-Key": "add-one-user"})
        second = post(client, url, body, **{"Idempotency-Key": "add-one-user"})
        # and once more with another body under the same key
        conflict = post(client, url, {**body, "quantity": 7}, **{"Idempotency-Key": "add-one-user"})
    # then one invoice, the same answer twice, and a 409 for the other body
    assert first.status_code == second.status_code == 200
    assert first.content == second.content and second["Idempotent-Replayed"] == "true"
    assert Invoice.objects.count() == before + 1
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 5
    refused(conflict, 409, "R-API-2")


# --- Services -----------------------------------------------------------------------------------


def test_seed_voice_trunk_order_is_previewed_and_charged_278_of_365(world: World, client: Client) -> None:
    # given the seed PBX: yearly, activated 2020-05-15, 4 counted users, firmware 6.1
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    url = f"/api/v1/pbx/pbxs/{pbx.pk}/services"
    with on(date(2020, 8, 10)):
        # when the voice trunk is previewed and ordered on 2020-08-10
        preview = post(client, url + "/preview", {"product_code": "VOICE-FLAT"})
        order = post(client, url, {"product_code": "VOICE-FLAT"})
    # then co-termed with the PBX and charged 4 x 73.20 x 278 / 365 (R-CO-1, R-CO-3)
    assert preview.status_code == 200 and order.status_code == 201, order.content
    (line,) = order.json()["lines"]
    assert order.json()["lines"] == preview.json()["lines"]
    assert (line["days_charged"], line["days_in_term"], line["period_end"]) == (278, 365, "2021-05-15")
    assert Decimal(line["amount"]) == half_up(Decimal("73.20") * 4 * 278 / 365)
    sub = Subscription.objects.get(pk=order.json()["subscription_id"])
    assert sub.product.code == "VOICE-FLAT" and sub.pbx_id == pbx.pk


def test_a_service_of_another_term_is_refused_r_co_1(world: World, client: Client) -> None:
    # given a yearly PBX (its customer's HWaaS agreement accepted: this is about the term)
    hwaas_agreement_on_record(world)
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    url = f"/api/v1/pbx/pbxs/{pbx.pk}/services"
    with on(date(2020, 8, 10)):
        # when a monthly term is asked for, or a product that is monthly only
        asked = post(client, url, {"product_code": "HW-PHONE", "term": "monthly"})
        monthly_only = post(client, url + "/preview", {"product_code": "MONTHLY-ONLY"})
    # then both are refused with R-CO-1
    assert refused(asked, 422, "R-CO-1")["fields"] == {"term": "differs from the PBX's"}
    refused(monthly_only, 422, "R-CO-1")
    assert not Subscription.objects.filter(pbx=pbx, product__family="hwaas").exists()


def test_the_voice_trunk_on_a_lifetime_pbx_is_refused_r_co_2(world: World, client: Client) -> None:
    pbx = world.pbx(term="lifetime", start=date(2020, 5, 15))
    with on(date(2020, 8, 10)):
        response = post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services", {"product_code": "VOICE-FLAT"})
    refused(response, 422, "R-CO-2")


def test_cancel_a_service_preview_then_cancel_and_licences_cannot_be_cancelled(
    world: World, client: Client
) -> None:
    # given a PBX with a storage service ordered mid-term
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15), cloud=True)
    with on(date(2020, 8, 10)):
        sub_id = post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services", {"product_code": "STORAGE-50"}).json()[
            "subscription_id"
        ]
        # when it is cancelled, previewed first
        preview = post(client, f"/api/v1/pbx/subscriptions/{sub_id}/cancel/preview")
        cancel = post(client, f"/api/v1/pbx/subscriptions/{sub_id}/cancel")
        again = post(client, f"/api/v1/pbx/subscriptions/{sub_id}/cancel")
        licence = Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS")
        licence_cancel = post(client, f"/api/v1/pbx/subscriptions/{licence.pk}/cancel")
    # then nothing is charged or refunded, it ends at once; a second cancel conflicts
    assert preview.json()["lines"] == [] and cancel.status_code == 200
    assert cancel.json()["invoice"] is None
    assert Subscription.objects.get(pk=sub_id).status == "cancelled"
    refused(again, 409, None)
    # and a licence is set to a quantity, not cancelled
    assert refused(licence_cancel, 400, None)["fields"] == {"subscription": "not a service"}


def test_cancelling_within_the_minimum_commitment_charges_the_rest_r_hw_5(
    world: World, client: Client
) -> None:
    # given a monthly PBX and a phone with a 6-month minimum commitment ordered on 2020-05-20
    hwaas_agreement_on_record(world)
    pbx = world.pbx(term="monthly", start=date(2020, 5, 15))
    with on(date(2020, 5, 20)):
        sub_id = post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/services", {"product_code": "HW-PHONE"}).json()[
            "subscription_id"
        ]
        # when it is cancelled the same month
        preview = post(client, f"/api/v1/pbx/subscriptions/{sub_id}/cancel/preview").json()
        cancel = post(client, f"/api/v1/pbx/subscriptions/{sub_id}/cancel").json()
    # then the months up to 2020-11-20 not invoiced yet are charged, as previewed
    assert preview["lines"] and cancel["lines"] == preview["lines"]
    assert {line["kind"] for line in cancel["lines"]} == {"commitment"}
    # five whole months from 2020-06-15 (invoiced through then) and 5 days of the sixth: 25 + 5 x 5/30
    assert [line["days_charged"] for line in cancel["lines"]] == [30, 31, 31, 30, 31, 5]
    assert Decimal(cancel["invoice"]["total"]) == Decimal(preview["total"]) == Decimal("25.83")


def test_auto_renew_off_for_a_pbx_and_an_optional_subscription_not_a_mandatory_one(
    world: World, client: Client
) -> None:
    # given a software-plan PBX with the PMS expansion (auto-renew optional) and a voice PBX
    services.pbx_create(
        actor=world.actor,
        customer_id=world.customer.pk,
        model_code="PSE-ENT",
        name="sw",
        term="yearly",
        licences={},
        today=date(2020, 5, 15),
    )
    sw = Pbx.objects.get(name="sw")
    pms = services.service_order(actor=world.actor, pbx=sw, product_code="PSE-PMS", today=date(2020, 6, 1))
    assert pms.subscription is not None
    pbx = world.pbx(term="yearly", start=date(2020, 5, 15))
    # when auto-renew is switched off for the PBX and for the PMS subscription
    off = post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/auto-renew", {"auto_renew": False})
    pms_off = post(
        client, f"/api/v1/pbx/subscriptions/{pms.subscription.pk}/auto-renew", {"auto_renew": False}
    )
    licence = Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS")
    mandatory = post(client, f"/api/v1/pbx/subscriptions/{licence.pk}/auto-renew", {"auto_renew": False})
    # then both are off (R-EX-4), and a subscription that renews with its PBX refuses
    assert off.status_code == 200 and off.json()["auto_renew"] is False
    assert pms_off.status_code == 200 and pms_off.json()["auto_renew"] is False
    refused(mandatory, 422, "R-EX-4")
    assert Subscription.objects.get(pk=licence.pk).auto_renew is True


def test_plan_switch_upgrade_is_previewed_and_prorated(world: World, client: Client) -> None:
    # given a yearly Enterprise software PBX from 2020-05-15
    result = services.pbx_create(
        actor=world.actor,
        customer_id=world.customer.pk,
        model_code="PSE-ENT",
        name="sw",
        term="yearly",
        licences={},
        today=date(2020, 5, 15),
    )
    assert result.pbx is not None
    url = f"/api/v1/pbx/pbxs/{result.pbx.pk}/plan-switch"
    with on(date(2020, 8, 10)):
        # when the switch to Ultimate is previewed and made
        preview = post(client, url + "/preview", {"product_code": "PSE-ULT"})
        switch = post(client, url, {"product_code": "PSE-ULT"})
    # then the price difference (480 - 300) for 278 of 365 days, at once (R-EX-5)
    assert switch.status_code == 200 and switch.json()["lines"] == preview.json()["lines"]
    (line,) = switch.json()["lines"]
    assert Decimal(line["amount"]) == half_up(Decimal(180) * 278 / 365)
    assert Subscription.objects.get(pk=switch.json()["subscription_id"]).product.code == "PSE-ULT"


# --- SSH, ledger --------------------------------------------------------------------------------


def test_ssh_opens_for_an_hour_by_default_at_most_a_day_closes_and_is_listed(
    world: World, client: Client
) -> None:
    # given an active cloud PBX
    pbx = world.pbx(start=date(2020, 5, 15), cloud=True)
    url = f"/api/v1/pbx/pbxs/{pbx.pk}/ssh"
    # when SSH is opened with the default, then for 1441 minutes, then closed
    opened = post(client, url)
    too_long = post(client, url, {"minutes": 1441})
    closed = post(client, url + "/close")
    windows = client.get(url).json()
    # then one hour (R-PBX-11), the longer one refused, the window closed and listed
    assert opened.status_code == 201
    out = opened.json()
    span = datetime.fromisoformat(out["closes_at"]) - datetime.fromisoformat(out["opened_at"])
    assert span.total_seconds() == 3600 and out["open"] is True
    refused(too_long, 422, "R-PBX-11")
    assert closed.json() == {"closed": 1}
    assert [(w["id"], w["open"], w["opened_by"]) for w in windows] == [
        (out["id"], False, world.user.username)
    ]


def test_the_ledger_lists_every_quantity_change(world: World, client: Client) -> None:
    # given a PBX created with 4 users, raised to 6 and lowered to 5
    pbx = world.pbx(start=date(2020, 5, 15))
    for day, quantity in ((date(2020, 6, 1), 6), (date(2020, 7, 1), 5)):
        with on(day):
            post(
                client,
                f"/api/v1/pbx/pbxs/{pbx.pk}/licences",
                {"profile": "UC-BUSINESS", "quantity": quantity},
            )
    # when the ledger is listed
    ledger = client.get(f"/api/v1/pbx/pbxs/{pbx.pk}/ledger").json()
    # then every change, in order, replaying to the current quantity
    users = [e for e in ledger["items"] if e["product_code"] == "UC-BUSINESS"]
    assert [(e["delta"], e["quantity_after"], e["effective_on"]) for e in users] == [
        (4, 4, "2020-05-15"),
        (2, 6, "2020-06-01"),
        (-1, 5, "2020-07-01"),
    ]
    assert sum(e["delta"] for e in users) == 5


# --- Corrections (R-PBX-10) -----------------------------------------------------------------------


def test_a_correction_is_filed_within_one_business_day_and_refused_after(
    world: World, client: Client
) -> None:
    # given a PBX activated on Friday 2026-03-06
    pbx = world.pbx(start=date(2026, 3, 6))
    url = f"/api/v1/pbx/pbxs/{pbx.pk}/corrections"
    body = {"change_date": "2026-03-06", "quantities": {"UC-BUSINESS": 2}, "note": "two, not four"}
    # when filed on Monday (the next business day) / then accepted
    with on(date(2026, 3, 9)):
        filed = post(client, url, body)
    assert filed.status_code == 201, filed.content
    assert filed.json()["status"] == "filed" and filed.json()["pbx_serial"] == pbx.serial
    # when filed on Tuesday / then refused with R-PBX-10
    with on(date(2026, 3, 10)):
        refused(post(client, url, body), 422, "R-PBX-10")


def test_staff_list_and_apply_a_correction_partners_cannot(
    world: World, client: Client, staff: Client
) -> None:
    # given a correction filed by the partner: 2 users instead of 4
    pbx = world.pbx(start=date(2026, 3, 2))
    with on(date(2026, 3, 3)):
        correction = post(
            client,
            f"/api/v1/pbx/pbxs/{pbx.pk}/corrections",
            {"change_date": "2026-03-02", "quantities": {"UC-BUSINESS": 2}},
        ).json()
        # when the partner tries to apply it / then 403
        refused(post(client, f"/api/v1/pbx/corrections/{correction['id']}/apply"), 403, None)
        # when staff list the filed corrections and apply it
        listed = staff.get("/api/v1/pbx/corrections", {"status": "filed"}).json()
        applied = post(staff, f"/api/v1/pbx/corrections/{correction['id']}/apply")
    # then a credit note for 2 users over the first term
    assert [c["id"] for c in listed["items"]] == [correction["id"]]
    assert applied.status_code == 200, applied.content
    out = applied.json()
    assert out["correction"]["status"] == CorrectionStatus.APPLIED
    (document,) = out["documents"]
    credit = Invoice.objects.get(pk=document["id"])
    assert credit.kind == InvoiceKind.CREDIT_NOTE and credit.total == Decimal("-240.00")
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 2


def test_staff_reject_a_correction_with_a_reason(world: World, client: Client, staff: Client) -> None:
    pbx = world.pbx(start=date(2026, 3, 2))
    with on(date(2026, 3, 3)):
        correction_id = post(
            client,
            f"/api/v1/pbx/pbxs/{pbx.pk}/corrections",
            {"change_date": "2026-03-02", "quantities": {"UC-BUSINESS": 2}},
        ).json()["id"]
        # when staff reject it without a reason, then with one
        empty = post(staff, f"/api/v1/pbx/corrections/{correction_id}/reject", {"reason": " "})
        rejected = post(staff, f"/api/v1/pbx/corrections/{correction_id}/reject", {"reason": "As ordered."})
    # then the reason is required; the rejection is recorded and nothing is invoiced
    assert empty.status_code == 400
    assert rejected.json()["status"] == "rejected" and rejected.json()["decision_note"] == "As ordered."
    assert client.get(f"/api/v1/pbx/corrections/{correction_id}").json()["status"] == "rejected"
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 4


def test_another_partners_pbx_answers_404_on_reads_and_changes(world: World) -> None:
    # given a user of another partner
    other = Partner.objects.create(name="O", code="o", country="IT", price_book=world.book)
    outsider = User.objects.create_user("o", password="x" * 12, partner=other, partner_role=PartnerRole.ADMIN)
    client = Client()
    client.force_login(outsider)
    pbx = world.pbx(start=date(2020, 5, 15))
    # when they read or change the PBX / then 404, and nothing changed
    assert client.get(f"/api/v1/pbx/pbxs/{pbx.pk}").status_code == 404
    refused(
        post(client, f"/api/v1/pbx/pbxs/{pbx.pk}/licences", {"profile": "UC-BUSINESS", "quantity": 9}),
        404,
        None,
    )
    assert client.get("/api/v1/pbx/pbxs").json()["count"] == 0
    assert Subscription.objects.get(pbx=pbx, product__code="UC-BUSINESS").quantity == 4
