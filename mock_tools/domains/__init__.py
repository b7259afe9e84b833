"""Built-in tool domains; importing this package registers every tool."""

from . import calendar, commerce, docs, finance, support, travel, users, weather  # noqa: F401
