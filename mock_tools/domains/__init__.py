"""Built-in tool domains; importing this package registers every tool."""

from .. import calculator  # noqa: F401
from . import (  # noqa: F401
    analytics,
    calendar,
    ci,
    commerce,
    crm,
    docs,
    finance,
    hotels,
    hr,
    maps,
    meetings,
    news,
    ops,
    support,
    travel,
    users,
    weather,
)
