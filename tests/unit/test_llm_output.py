import pytest

from service.drafting.llm import parse_output
from service.errors import ModelOutputInvalid


def test_parse_plain_and_fenced_json() -> None:
    assert parse_output('{"variants": [{"text": "Hi"}, {"text": "Hello"}]}') == ["Hi", "Hello"]
    assert parse_output('```json\n{"variants": [{"text": "Hi"}]}\n```') == ["Hi"]


@pytest.mark.parametrize("raw", ["Sure! Here is a reply.", '{"variants": "nope"}', '{"variants": [{"text": "  "}]}', "{"])
def test_malformed_output_is_an_error(raw: str) -> None:
    with pytest.raises(ModelOutputInvalid):
        parse_output(raw)
