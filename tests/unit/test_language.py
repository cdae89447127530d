import pytest

from service.language import detect
from service.models import Language


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("My order still hasn't arrived and nobody is answering", Language.en),
        ("min pesanan aku kok belum sampai ya, udah 2 hari", Language.id),
        ("Mohon maaf, pesanan Kakak sedang kami cek.", Language.id),
        ("Thanks, the rider was lovely!", Language.en),
    ],
)
def test_detect(text: str, expected: Language) -> None:
    assert detect(text) == expected


def test_detect_falls_back_to_the_default_without_known_words() -> None:
    assert detect("KN-482913 ???", default=Language.id) == Language.id
