"""The seeded world the mock tools read from.

Entity keys that prompts mention (emails, cities, SKUs, ticket and flight numbers) are fixed
catalogue entries; everything else (ids, prices, temperatures, statuses) is derived by hashing
the seed with the entity, so the world is a pure function of the seed, needs no generation
pass, and costs nothing to create per episode.
"""

from __future__ import annotations

import hashlib

from .latency import unit_hash

# The world's calendar day. Prompts are written around it: the latest orders and deploys are from
# the day before, flights and hotels are booked for the weeks after it, monthly metrics run to
# October 2026. Weather without a date and local times are for this day.
TODAY = "2026-10-29"

PEOPLE = [
    # (first name, last name, city, timezone, department)
    ("Ana", "Silva", "Lisbon", "Europe/Lisbon", "Sales"),
    ("Ben", "Okafor", "Lagos", "Africa/Lagos", "Engineering"),
    ("Chloe", "Martin", "Paris", "Europe/Paris", "Marketing"),
    ("Dev", "Patel", "Mumbai", "Asia/Kolkata", "Engineering"),
    ("Elena", "Rossi", "Rome", "Europe/Rome", "Finance"),
    ("Farid", "Haddad", "Dubai", "Asia/Dubai", "Operations"),
    ("Grace", "Kim", "Seoul", "Asia/Seoul", "Engineering"),
    ("Hiro", "Tanaka", "Tokyo", "Asia/Tokyo", "Research"),
    ("Isla", "Murray", "Edinburgh", "Europe/London", "Support"),
    ("Jonas", "Berg", "Oslo", "Europe/Oslo", "Engineering"),
    ("Kara", "Nguyen", "Hanoi", "Asia/Ho_Chi_Minh", "Design"),
    ("Leo", "Schmidt", "Berlin", "Europe/Berlin", "Sales"),
    ("Maya", "Cohen", "Tel Aviv", "Asia/Jerusalem", "Legal"),
    ("Nora", "Lindqvist", "Stockholm", "Europe/Stockholm", "Research"),
    ("Omar", "Farouk", "Cairo", "Africa/Cairo", "Finance"),
    ("Priya", "Sharma", "Bangalore", "Asia/Kolkata", "Engineering"),
    ("Quinn", "Walsh", "Dublin", "Europe/Dublin", "Support"),
    ("Rosa", "Garcia", "Madrid", "Europe/Madrid", "Marketing"),
    ("Sam", "Taylor", "Toronto", "America/Toronto", "Operations"),
    ("Tara", "Singh", "New York", "America/New_York", "Executive"),
    ("Uma", "Reddy", "Chicago", "America/Chicago", "Engineering"),
    ("Victor", "Lopez", "Mexico City", "America/Mexico_City", "Sales"),
    ("Wen", "Zhao", "Shanghai", "Asia/Shanghai", "Research"),
    ("Yusuf", "Demir", "Istanbul", "Europe/Istanbul", "Design"),
]

# Manager of each person, by first name (a tree rooted at Tara), fixed so prompts can rely on it.
MANAGERS = {
    "Ana": "Leo",
    "Ben": "Grace",
    "Chloe": "Rosa",
    "Dev": "Grace",
    "Elena": "Omar",
    "Farid": "Sam",
    "Grace": "Uma",
    "Hiro": "Nora",
    "Isla": "Quinn",
    "Jonas": "Uma",
    "Kara": "Yusuf",
    "Leo": "Victor",
    "Maya": "Tara",
    "Nora": "Wen",
    "Omar": "Tara",
    "Priya": "Grace",
    "Quinn": "Sam",
    "Rosa": "Tara",
    "Sam": "Tara",
    "Tara": None,
    "Uma": "Tara",
    "Victor": "Tara",
    "Wen": "Tara",
    "Yusuf": "Rosa",
}

PRODUCTS = [
    # (sku, name, category)
    ("SKU-1001", "Trail Running Shoes", "footwear"),
    ("SKU-1002", "Merino Wool Socks", "apparel"),
    ("SKU-1003", "Insulated Water Bottle", "outdoor"),
    ("SKU-1004", "Noise-Cancelling Headphones", "electronics"),
    ("SKU-1005", "Mechanical Keyboard", "electronics"),
    ("SKU-1006", "Ergonomic Office Chair", "furniture"),
    ("SKU-1007", "Standing Desk", "furniture"),
    ("SKU-1008", "Espresso Machine", "kitchen"),
    ("SKU-1009", "Cast Iron Skillet", "kitchen"),
    ("SKU-1010", "Yoga Mat", "fitness"),
    ("SKU-1011", "Adjustable Dumbbells", "fitness"),
    ("SKU-1012", "Rain Jacket", "apparel"),
    ("SKU-1013", "Camping Tent", "outdoor"),
    ("SKU-1014", "USB-C Charger", "electronics"),
    ("SKU-1015", "E-Reader", "electronics"),
    ("SKU-1016", "Chef's Knife", "kitchen"),
    ("SKU-1017", "Backpack", "outdoor"),
    ("SKU-1018", "Desk Lamp", "furniture"),
    ("SKU-1019", "Bluetooth Speaker", "electronics"),
    ("SKU-1020", "Hiking Poles", "outdoor"),
]

CITIES = {
    # city: (country, currency, typical late-October temperature C; a day is within 4 degrees of it)
    "Lisbon": ("Portugal", "EUR", 19),
    "Lagos": ("Nigeria", "NGN", 29),
    "Paris": ("France", "EUR", 14),
    "Mumbai": ("India", "INR", 30),
    "Rome": ("Italy", "EUR", 18),
    "Dubai": ("UAE", "AED", 33),
    "Seoul": ("South Korea", "KRW", 13),
    "Tokyo": ("Japan", "JPY", 16),
    "Edinburgh": ("UK", "GBP", 10),
    "Oslo": ("Norway", "NOK", 4),
    "Hanoi": ("Vietnam", "VND", 26),
    "Berlin": ("Germany", "EUR", 11),
    "Tel Aviv": ("Israel", "ILS", 24),
    "Stockholm": ("Sweden", "SEK", 5),
    "Cairo": ("Egypt", "EGP", 27),
    "Bangalore": ("India", "INR", 25),
    "Dublin": ("Ireland", "EUR", 10),
    "Madrid": ("Spain", "EUR", 17),
    "Toronto": ("Canada", "CAD", 6),
    "New York": ("USA", "USD", 13),
    "Chicago": ("USA", "USD", 11),
    "Mexico City": ("Mexico", "MXN", 18),
    "Shanghai": ("China", "CNY", 17),
    "Istanbul": ("Turkey", "TRY", 15),
    "London": ("UK", "GBP", 12),
    "Sydney": ("Australia", "AUD", 20),
    "San Francisco": ("USA", "USD", 15),
    "Singapore": ("Singapore", "SGD", 28),
}

# IANA timezone and UTC offset in minutes of every city on TODAY (European clocks went back on
# 2026-10-25, North American ones on 2026-11-01, so New York is still on daylight time).
TIMEZONES = {
    "Lisbon": ("Europe/Lisbon", 0),
    "Lagos": ("Africa/Lagos", 60),
    "Paris": ("Europe/Paris", 60),
    "Mumbai": ("Asia/Kolkata", 330),
    "Rome": ("Europe/Rome", 60),
    "Dubai": ("Asia/Dubai", 240),
    "Seoul": ("Asia/Seoul", 540),
    "Tokyo": ("Asia/Tokyo", 540),
    "Edinburgh": ("Europe/London", 0),
    "Oslo": ("Europe/Oslo", 60),
    "Hanoi": ("Asia/Ho_Chi_Minh", 420),
    "Berlin": ("Europe/Berlin", 60),
    "Tel Aviv": ("Asia/Jerusalem", 120),
    "Stockholm": ("Europe/Stockholm", 60),
    "Cairo": ("Africa/Cairo", 120),
    "Bangalore": ("Asia/Kolkata", 330),
    "Dublin": ("Europe/Dublin", 0),
    "Madrid": ("Europe/Madrid", 60),
    "Toronto": ("America/Toronto", -240),
    "New York": ("America/New_York", -240),
    "Chicago": ("America/Chicago", -300),
    "Mexico City": ("America/Mexico_City", -360),
    "Shanghai": ("Asia/Shanghai", 480),
    "Istanbul": ("Europe/Istanbul", 180),
    "London": ("Europe/London", 0),
    "Sydney": ("Australia/Sydney", 660),
    "San Francisco": ("America/Los_Angeles", -420),
    "Singapore": ("Asia/Singapore", 480),
}

# Units per 1 USD (a fixed base; the seed perturbs it by at most 2%).
USD_RATES = {
    "USD": 1.0,
    "EUR": 0.92,
    "GBP": 0.79,
    "JPY": 151.0,
    "INR": 83.2,
    "CAD": 1.36,
    "AUD": 1.52,
    "CHF": 0.90,
    "CNY": 7.2,
    "SEK": 10.6,
    "NOK": 10.8,
    "MXN": 17.1,
    "AED": 3.67,
    "SGD": 1.35,
    "KRW": 1340.0,
    "BRL": 5.0,
    "NGN": 1500.0,
    "EGP": 47.0,
    "TRY": 32.0,
    "ILS": 3.7,
    "VND": 24500.0,
}

CONDITIONS = ["sunny", "cloudy", "rain", "windy", "snow", "fog"]
# Humidity range (%) that goes with each condition.
HUMIDITY = {
    "sunny": (30, 60),
    "cloudy": (55, 85),
    "rain": (80, 98),
    "windy": (40, 70),
    "snow": (75, 95),
    "fog": (88, 100),
}

STOCKS = {
    "AAPL": "Apple",
    "MSFT": "Microsoft",
    "GOOGL": "Alphabet",
    "AMZN": "Amazon",
    "NVDA": "NVIDIA",
    "META": "Meta",
    "TSLA": "Tesla",
    "IBM": "IBM",
    "ORCL": "Oracle",
    "SAP": "SAP",
}

DOCUMENTS = [
    # (doc_id, title, topic words)
    ("DOC-201", "Q3 Sales Review", "sales revenue quarter q3 review"),
    ("DOC-202", "Onboarding Handbook", "onboarding new hire handbook benefits"),
    ("DOC-203", "Security Policy", "security password policy access"),
    ("DOC-204", "Travel Expense Guidelines", "travel expense reimbursement per diem"),
    ("DOC-205", "Product Roadmap 2027", "roadmap product plan features 2027"),
    ("DOC-206", "Incident Postmortem: Checkout Outage", "incident outage checkout postmortem"),
    ("DOC-207", "Remote Work Policy", "remote work home office policy"),
    ("DOC-208", "Q4 Marketing Plan", "marketing campaign q4 plan budget"),
    ("DOC-209", "Data Retention Policy", "data retention privacy deletion policy"),
    ("DOC-210", "API Style Guide", "api style guide rest naming"),
]

TICKETS = [f"T-{5000 + i}" for i in range(1, 31)]
TICKET_SUBJECTS = [
    "Login page times out",
    "Refund not received",
    "Cannot export report",
    "Wrong invoice address",
    "App crashes on upload",
    "Password reset email missing",
    "Duplicate charge",
    "Slow dashboard",
    "Feature request: dark mode",
    "Broken link in docs",
]

AIRPORTS = {
    "LIS": "Lisbon",
    "CDG": "Paris",
    "FCO": "Rome",
    "LHR": "London",
    "JFK": "New York",
    "ORD": "Chicago",
    "NRT": "Tokyo",
    "ICN": "Seoul",
    "DXB": "Dubai",
    "BER": "Berlin",
    "MAD": "Madrid",
    "DUB": "Dublin",
    "YYZ": "Toronto",
    "SFO": "San Francisco",
    "SIN": "Singapore",
    "SYD": "Sydney",
    "BOM": "Mumbai",
    "IST": "Istanbul",
    "OSL": "Oslo",
    "ARN": "Stockholm",
}
AIRLINES = ["TP", "AF", "LH", "BA", "UA", "NH", "EK", "IB"]


class World:
    """Deterministic lookups over the catalogue, parameterised by `seed`."""

    def __init__(self, seed: int = 0):
        self.seed = seed
        self.people = {first.lower(): (first, last, city, tz, dept) for first, last, city, tz, dept in PEOPLE}
        self.emails = {f"{p[0].lower()}@example.com": p[0].lower() for p in PEOPLE}
        self.user_ids = {self.user_id(k): k for k in self.people}
        self.products = {sku: (name, cat) for sku, name, cat in PRODUCTS}
        self.documents = {d[0]: d for d in DOCUMENTS}

    # -- primitive draws ------------------------------------------------------------------
    def rand(self, *parts: object) -> float:
        return unit_hash(self.seed, *parts)

    def randint(self, lo: int, hi: int, *parts: object) -> int:
        return lo + int(self.rand(*parts) * (hi - lo + 1))

    def choice(self, seq, *parts: object):
        return seq[int(self.rand(*parts) * len(seq))]

    def ident(self, prefix: str, *parts: object) -> str:
        raw = "\x1f".join(map(str, (self.seed, prefix, *parts))).encode()
        return prefix + hashlib.blake2b(raw, digest_size=4).hexdigest()

    # -- entities -------------------------------------------------------------------------
    def user_id(self, key: str) -> str:
        return self.ident("u_", key)

    def user_record(self, key: str) -> dict:
        first, last, city, tz, dept = self.people[key]
        mgr = MANAGERS[first]
        return {
            "id": self.user_id(key),
            "name": f"{first} {last}",
            "email": f"{key}@example.com",
            "city": city,
            "timezone": tz,
            "department": dept,
            "manager_id": self.user_id(mgr.lower()) if mgr else None,
            "phone": f"+1-555-{self.randint(1000, 9999, 'phone', key)}",
        }

    def order_ids(self, key: str) -> list[str]:
        n = self.randint(3, 6, "norders", key)
        return [self.ident("o_", key, i) for i in range(n)]

    def order_record(self, key: str, index: int) -> dict:
        oid = self.ident("o_", key, index)
        n_items = self.randint(1, 3, "nitems", oid)
        skus = [p[0] for p in PRODUCTS]
        items = []
        seen = set()
        for j in range(n_items):
            sku = self.choice(skus, "item", oid, j)
            if sku in seen:
                continue
            seen.add(sku)
            items.append({"product_id": sku, "quantity": self.randint(1, 3, "qty", oid, j)})
        # Newest first: index 0 is the most recent order.
        day = 28 - 4 * index
        return {
            "id": oid,
            "user_id": self.user_id(key),
            "date": f"2026-10-{day:02d}",
            "status": self.choice(["delivered", "shipped", "processing"], "ostatus", oid)
            if index
            else "processing",
            "items": items,
            "total": round(sum(self.price(i["product_id"]) * i["quantity"] for i in items), 2),
        }

    def find_order(self, order_id: str) -> dict | None:
        for key in self.people:
            for i, oid in enumerate(self.order_ids(key)):
                if oid == order_id:
                    return self.order_record(key, i)
        return None

    def price(self, sku: str) -> float:
        return round(10 + self.rand("price", sku) * 290, 2)

    def product_record(self, sku: str) -> dict:
        name, cat = self.products[sku]
        return {
            "id": sku,
            "name": name,
            "category": cat,
            "price": self.price(sku),
            "currency": "USD",
            "rating": round(3.0 + self.rand("rating", sku) * 2.0, 1),
        }

    def stock_level(self, sku: str, warehouse: str = "main") -> int:
        return self.randint(0, 120, "stock", sku, warehouse)

    def weather(self, city: str, date: str | None) -> dict:
        """A day's weather that hangs together: snow only at 2 degrees or colder (and then instead
        of rain), humidity in the range of the condition."""
        _, _, base = CITIES[city]
        day = date or TODAY
        temp = round(base - 4 + self.rand("temp", city, day) * 8, 1)
        conditions = [("snow" if c == "rain" else c) if temp <= 2 else c for c in CONDITIONS if c != "snow"]
        condition = self.choice(conditions, "cond", city, day)
        lo, hi = HUMIDITY[condition]
        return {
            "city": city,
            "date": day,
            "condition": condition,
            "temp_c": temp,
            "humidity": self.randint(lo, hi, "hum", city, day),
        }

    def utc_now_minutes(self) -> int:
        """Minutes after midnight UTC on TODAY: one clock for every city of the episode."""
        return self.randint(0, 24 * 60 - 1, "utc_now")

    def local_time(self, city: str) -> dict:
        tz, offset = TIMEZONES[city]
        t = self.utc_now_minutes() + offset
        day = int(TODAY[-2:]) + (t // 1440)
        sign = "-" if offset < 0 else "+"
        return {
            "city": city,
            "local_time": f"{(t % 1440) // 60:02d}:{t % 60:02d}",
            "date": f"{TODAY[:-2]}{day:02d}",
            "timezone": tz,
            "utc_offset": f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}",
            "country": CITIES[city][0],
        }

    def rate(self, base: str, quote: str) -> float:
        def usd(cur: str) -> float:
            return USD_RATES[cur] * (0.98 + 0.04 * self.rand("fx", cur))

        return round(usd(quote) / usd(base), 6)
