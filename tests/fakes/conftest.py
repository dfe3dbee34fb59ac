from tests.fakes.fixtures import fake_telegram  # noqa: F401
