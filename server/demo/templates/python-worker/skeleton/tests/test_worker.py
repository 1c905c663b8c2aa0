import pytest

from app.worker import handle


def test_a_message_is_handled():
    assert handle({"id": 1})["done"] is True


def test_a_message_without_id_is_refused():
    with pytest.raises(ValueError):
        handle({})
