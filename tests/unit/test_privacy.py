from service import privacy


def test_redact_removes_each_kind_of_personal_data() -> None:
    text = "Mail budi@example.com, call 0812-3456-7890, card 4111 1111 1111 1111, NIK 3174091201850003."
    redacted, found = privacy.redact(text)
    assert {m.kind for m in found} == {"email", "phone", "card", "national_id"}
    for secret in ("budi@example.com", "0812-3456-7890", "4111 1111 1111 1111", "3174091201850003"):
        assert secret not in redacted
    assert "[email]" in redacted and "[card number]" in redacted


def test_international_phone_is_found() -> None:
    assert [m.kind for m in privacy.find("WA me at +62 812 3456 7890 pls")] == ["phone"]


def test_order_numbers_amounts_and_brand_contacts_are_not_personal_data() -> None:
    text = "Order KN-482913 cost Rp 150.000 on 12/05/2026; I emailed care@kedainusa.example and called 1500-682."
    assert privacy.find(text, allow=["care@kedainusa.example", "1500-682"]) == []


def test_a_card_number_failing_the_luhn_sum_is_not_a_card() -> None:
    assert [m.kind for m in privacy.find("ref 1234 5678 9012 3456")] != ["card"]
