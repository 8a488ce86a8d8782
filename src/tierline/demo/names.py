"""Names for demo people and companies, and where in the world they are."""

from __future__ import annotations

FIRST_NAMES = (
    "Aisha", "Alejandro", "Amara", "Anders", "Ananya", "Ben", "Camille", "Carlos", "Chen", "Chloe", "Daniel",
    "Dmitri", "Elena", "Emeka", "Emma", "Fatima", "Felix", "Gabriela", "Grace", "Hana", "Hiroshi", "Ibrahim",
    "Ingrid", "Isabel", "Jamal", "James", "Jana", "Javier", "Jin", "Julia", "Kai", "Karim", "Kavya", "Keiko",
    "Lars", "Laura", "Leila", "Liam", "Lucas", "Maya", "Mateo", "Mei", "Mohammed", "Nadia", "Naveen", "Nia",
    "Noah", "Olga", "Omar", "Oscar", "Priya", "Rafael", "Rahul", "Rosa", "Ruth", "Sakura", "Samuel", "Sara",
    "Sebastian", "Sofia", "Soren", "Tariq", "Thandiwe", "Tomas", "Valentina", "Victor", "Wei", "Yara",
    "Yusuf",
    "Zanele", "Zoe", "Arjun", "Beatriz", "Connor", "Dalia", "Eitan", "Freya", "Gustavo", "Hugo", "Ines",
)

LAST_NAMES = (
    "Abara", "Andersson", "Bauer", "Becker", "Bianchi", "Chatterjee", "Chen", "Costa", "Dubois", "Eriksen",
    "Fernandes", "Fischer", "Garcia", "Gupta", "Haddad", "Hansen", "Hernandez", "Ito", "Ivanova", "Jansen",
    "Jovanovic", "Kaur", "Kim", "Kowalski", "Larsen", "Lee", "Lopez", "Mahlangu", "Martin", "Mehta", "Meyer",
    "Moreau", "Murphy", "Nakamura", "Nguyen", "Novak", "Okafor", "Olsen", "Park", "Patel", "Perez", "Petrov",
    "Popescu", "Rahman", "Reyes", "Rossi", "Sato", "Schmidt", "Silva", "Singh", "Sokolova", "Suzuki",
    "Tanaka",
    "Torres", "Van der Berg", "Varga", "Wagner", "Walsh", "Wang", "Weber", "Yamamoto", "Yilmaz", "Zhang",
)

COMPANY_FIRST = (
    "Acme", "Aurora", "Bluefin", "Brightpath", "Cascade", "Cedar", "Cobalt", "Copperleaf", "Crescent",
    "Driftwood",
    "Ember", "Evergreen", "Falcon", "Fjord", "Granite", "Harbor", "Helix", "Horizon", "Ironclad", "Juniper",
    "Keystone", "Lakeshore", "Lumen", "Maple", "Meridian", "Monarch", "Nimbus", "Northwind", "Oakridge",
    "Orbit",
    "Pinnacle", "Polaris", "Quantum", "Redwood", "Riverbend", "Saffron", "Sapphire", "Sequoia", "Silverline",
    "Solstice", "Summit", "Tidewater", "Trident", "Vanguard", "Vertex", "Willow", "Zenith", "Atlas", "Beacon",
    "Catalyst", "Delta", "Echo", "Fulcrum", "Greenfield", "Highland", "Indigo", "Kestrel", "Lighthouse",
)

COMPANY_SECOND = (
    "Analytics", "Bank", "Biotech", "Capital", "Clinics", "Cloud", "Commerce", "Consulting", "Dynamics",
    "Energy", "Foods", "Freight", "Games", "Health", "Hotels", "Insurance", "Labs", "Learning", "Logistics",
    "Media", "Motors", "Networks", "Partners", "Pharma", "Retail", "Robotics", "Software", "Systems",
    "Telecom", "Travel", "Ventures", "Works", "Mobility", "Payments", "Security", "Studios",
)

COMPANY_SUFFIX = ("", "", "", " Inc.", " Ltd", " GmbH", " Group", " Co.", " AG", " S.A.", " Pty Ltd", " KK")

EMAIL_TLDS = (".example.com", ".example.com", ".example.net", ".example.org", ".example")

# Region -> IANA time zones customers there use, with rough weights by share of the customer base.
REGIONS: dict[str, tuple[float, tuple[str, ...]]] = {
    "us-east": (0.28, ("America/New_York", "America/Toronto", "America/Chicago", "America/Detroit")),
    "us-west": (0.16, ("America/Los_Angeles", "America/Denver", "America/Phoenix", "America/Vancouver")),
    "eu-west": (0.22, ("Europe/London", "Europe/Dublin", "Europe/Paris", "Europe/Madrid", "Europe/Lisbon")),
    "eu-central": (0.14, ("Europe/Berlin", "Europe/Amsterdam", "Europe/Stockholm", "Europe/Warsaw",
                          "Europe/Zurich", "Europe/Vienna")),
    "apac": (0.14, ("Asia/Tokyo", "Asia/Singapore", "Asia/Kolkata", "Australia/Sydney", "Asia/Seoul",
                    "Pacific/Auckland", "Asia/Hong_Kong")),
    "latam": (0.06, ("America/Sao_Paulo", "America/Mexico_City", "America/Bogota",
                     "America/Argentina/Buenos_Aires", "America/Santiago")),
}

# Where the support organisation itself sits (follow-the-sun).
STAFF_TIMEZONES = ("America/New_York", "America/Los_Angeles", "Europe/Dublin", "Europe/Berlin",
                   "Asia/Kolkata", "Australia/Sydney", "Asia/Singapore")

CONTACT_ROLES = ("it", "ops", "devops", "admin", "finance", "eng", "platform", "data", "security")
