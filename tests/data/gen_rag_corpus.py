"""Writes tests/data/rag_corpus.txt and tests/data/rag_questions.tsv for gate
G1, "RAG in five lines" (embed.md §10).

The corpus has 500 passages separated by blank lines:
  - 20 answer passages, one per question, written by hand;
  - 40 near-miss passages written by hand, two per answer topic, about the
    same subject but answering a different question (the hard negatives);
  - 440 filler passages generated here from small templates with a fixed
    seed (recipes, weather, sports, products, history, travel), so the index
    has the size the gate asks for.
rag_questions.tsv holds the 20 paraphrased questions with the index of the
passage each must find in the top 3. Run from anywhere:
    python3 tests/data/gen_rag_corpus.py
"""

from __future__ import annotations

import random
from pathlib import Path

# (answer passage, near miss 1, near miss 2, paraphrased question)
TOPICS = [
    (
        "To rotate an API key, create a second key, roll it out to every client, watch the "
        "logs until the old key sees no traffic, then revoke the old key.",
        "API keys are shown only once when they are created; store them in a secrets manager "
        "rather than in source control.",
        "Each API key carries scopes that limit which endpoints it may call, such as read-only "
        "or billing access.",
        "What is the safe way to swap out an access token without breaking running services?",
    ),
    (
        "TLS certificates from the internal authority expire after ninety days; the renewal job "
        "requests a new one thirty days before expiry and reloads the web server.",
        "A certificate chain lists the server certificate first, then each intermediate, and "
        "never the root certificate itself.",
        "Mutual TLS requires clients to present their own certificate, which the server checks "
        "against a trusted authority.",
        "How long before my HTTPS certificate lapses does it get replaced automatically?",
    ),
    (
        "To restore the database from a nightly backup, stop the application, load the dump "
        "with pg_restore into a fresh database, then point the service at it.",
        "Backups are encrypted with a key held by the security team and kept for thirty-five "
        "days in a separate region.",
        "Read replicas lag the primary by a few seconds and must never receive writes.",
        "Our data got corrupted; what are the steps to bring back last night's copy?",
    ),
    (
        "A pod stuck in CrashLoopBackOff keeps restarting because its container exits; read "
        "kubectl logs with --previous to see why the last run died.",
        "Horizontal pod autoscaling adds replicas when average CPU stays above the target for "
        "several minutes.",
        "Kubernetes namespaces separate teams' workloads and carry their own resource quotas.",
        "My container keeps dying and restarting in the cluster; how do I find out what went wrong?",
    ),
    (
        "Rebase rewrites your branch so its commits sit on top of main, giving a straight "
        "history; merge keeps both lines and records a merge commit.",
        "A pull request needs two approvals and a green build before it can be merged.",
        "Git tags mark release points and are pushed separately with git push --tags.",
        "What is the difference between replaying my commits onto the main line and joining "
        "the branches?",
    ),
    (
        "Users who forget their password click Forgot password on the sign-in page and receive "
        "a reset link by email that works for one hour.",
        "Passwords must be at least twelve characters and are stored as salted Argon2 hashes.",
        "Accounts lock for fifteen minutes after ten failed sign-in attempts.",
        "Someone can't remember their login secret; how do they set a new one?",
    ),
    (
        "To connect to the office network from home, install the WireGuard client, import the "
        "profile from the IT portal and switch the tunnel on.",
        "The guest Wi-Fi is isolated from internal systems and its password changes every Monday.",
        "Split tunnelling sends only company traffic through the encrypted link.",
        "How can I reach internal systems while working remotely?",
    ),
    (
        "Application logs are kept for thirty days in hot storage and then archived for one "
        "year before they are deleted.",
        "Log lines are structured JSON with a timestamp, level, service name and request id.",
        "Debug logging can be enabled per service for one hour from the admin console.",
        "How long do we hold on to service logs before they are thrown away?",
    ),
    (
        "A 429 Too Many Requests response means the client passed its rate limit; wait for the "
        "number of seconds in Retry-After and back off exponentially.",
        "The gateway returns 503 when every upstream instance is unhealthy.",
        "Requests larger than ten megabytes are rejected with 413 Payload Too Large.",
        "The server keeps telling me I'm calling it too often; what should my client do?",
    ),
    (
        "To track down a memory leak, take two heap snapshots some minutes apart and compare "
        "which object types keep growing between them.",
        "The service is given two gigabytes of memory and is killed by the kernel when it uses more.",
        "Garbage collection pauses are logged when they exceed fifty milliseconds.",
        "RAM usage climbs steadily until the process crashes; how do I find the culprit?",
    ),
    (
        "After changing a DNS record, resolvers may keep the old answer until its TTL runs out, "
        "so lower the TTL a day before a planned move.",
        "Our domains are registered for five years and renew automatically.",
        "MX records tell other mail servers where to deliver email for the domain.",
        "Why do some people still reach the old server after I pointed the name at a new address?",
    ),
    (
        "Generate an SSH key with ssh-keygen -t ed25519, keep the private half on your laptop "
        "and upload only the .pub file to your profile.",
        "SSH sessions to production go through the bastion host and are recorded.",
        "The SSH daemon refuses password logins; only keys are accepted.",
        "How do I make a key pair for logging into servers from a terminal?",
    ),
    (
        "A cron line has five time fields, minute, hour, day of month, month and weekday, so "
        "30 2 * * 1 runs at 02:30 every Monday.",
        "Scheduled jobs send their output to the team channel when they fail.",
        "The batch cluster pauses all jobs during the monthly maintenance window.",
        "How do I write the schedule for a task that should run early every Monday morning?",
    ),
    (
        "Shrink a Docker image with a multi-stage build: compile in a full image, then copy only "
        "the binary into a slim base image.",
        "Images are scanned for known vulnerabilities before they may be deployed.",
        "Containers run as a non-root user with a read-only root filesystem.",
        "My container image is huge; how do I make it smaller?",
    ),
    (
        "Store timestamps in UTC and convert to the user's local time zone only when showing "
        "them, so daylight-saving changes never corrupt data.",
        "Dates in the API use ISO 8601 with an explicit offset.",
        "The reporting week starts on Monday in every region.",
        "What is the right way to save times when users live in different parts of the world?",
    ),
    (
        "Normalise text to Unicode NFC before comparing strings, because an accented letter may "
        "be stored as one code point or as a letter plus a combining mark.",
        "All files in the repository are encoded as UTF-8 without a byte order mark.",
        "Emoji can take four bytes in UTF-8 and count as two units in UTF-16.",
        "Why do two words that look identical fail an equality check, and how do I fix it?",
    ),
    (
        "When a product's price changes, the service deletes its cache entry so the next read "
        "fetches the fresh value from the database.",
        "The cache holds entries for at most ten minutes and evicts the least recently used.",
        "Cache hit rates are shown per endpoint on the performance dashboard.",
        "How do we keep stale values from being served after the source data is updated?",
    ),
    (
        "New features ship behind a flag that is switched on for one percent of users, then "
        "ten, then everyone, while error rates are watched.",
        "Flags that have been fully on for ninety days must be removed from the code.",
        "Each flag has an owner who is paged if it causes an incident.",
        "How do we release something new gradually to a small share of customers first?",
    ),
    (
        "If the on-call engineer does not acknowledge a page within ten minutes, it escalates "
        "to the secondary and then to the engineering manager.",
        "On-call shifts last one week and hand over on Tuesday mornings.",
        "Incidents get a written review within five working days.",
        "What happens when nobody responds to an alert?",
    ),
    (
        "Cold storage costs a fraction of the standard tier per gigabyte but charges for each "
        "retrieval and may take hours to return data.",
        "Buckets are private by default and public links expire after seven days.",
        "Object versioning keeps earlier copies when a file is overwritten.",
        "Is the cheap archive tier really cheaper if I need my files back quickly?",
    ),
]

FOODS = ["lentil soup", "mushroom risotto", "banana bread", "tomato salad", "fish curry",
         "apple pie", "vegetable stir fry", "pancakes", "chili", "roast chicken"]
CITIES = ["Lisbon", "Oslo", "Nairobi", "Lima", "Hanoi", "Perth", "Denver", "Krakow", "Quito",
          "Osaka", "Tunis", "Halifax"]
SPORTS = ["football", "basketball", "cricket", "hockey", "volleyball", "rugby", "handball"]
PRODUCTS = ["desk lamp", "office chair", "electric kettle", "backpack", "bicycle light",
            "coffee grinder", "standing desk", "water bottle", "rain jacket", "headphones"]
ERAS = ["the twelfth century", "the Renaissance", "the industrial revolution", "the 1920s",
        "the late Bronze Age", "the Enlightenment", "the early Middle Ages"]
THINGS = ["a bridge", "a cathedral", "a canal", "a library", "a harbour", "a university",
          "a printing house", "an observatory"]


def filler(rng: random.Random) -> str:
    kind = rng.randrange(6)
    if kind == 0:
        food, mins = rng.choice(FOODS), rng.randrange(15, 120, 5)
        return (f"This {food} recipe serves {rng.randrange(2, 9)} people and takes about {mins} "
                f"minutes; season it with {rng.choice(['salt', 'pepper', 'cumin', 'basil'])} at the end.")
    if kind == 1:
        city = rng.choice(CITIES)
        return (f"The forecast for {city} on day {rng.randrange(1, 29)} calls for "
                f"{rng.choice(['sunshine', 'light rain', 'snow showers', 'strong wind', 'fog'])} "
                f"with a high of {rng.randrange(-5, 36)} degrees.")
    if kind == 2:
        sport, a, b = rng.choice(SPORTS), rng.choice(CITIES), rng.choice(CITIES)
        return (f"In the {sport} league, {a} beat {b} {rng.randrange(1, 9)} to "
                f"{rng.randrange(0, 5)} after a late surge in the second half.")
    if kind == 3:
        prod = rng.choice(PRODUCTS)
        return (f"The {prod} weighs {rng.randrange(1, 40) / 10:.1f} kilograms, comes in "
                f"{rng.choice(['black', 'grey', 'green', 'blue'])} and has a "
                f"{rng.randrange(1, 6)}-year warranty.")
    if kind == 4:
        return (f"During {rng.choice(ERAS)}, {rng.choice(THINGS)} was built in "
                f"{rng.choice(CITIES)} and became a centre of local trade.")
    city = rng.choice(CITIES)
    return (f"Travellers to {city} can take the {rng.choice(['night train', 'ferry', 'bus', 'tram'])} "
            f"from the airport; a ticket costs about {rng.randrange(2, 40)} euros.")


def main() -> None:
    here = Path(__file__).resolve().parent
    rng = random.Random(20261207)
    passages = []
    questions = []
    for answer, near1, near2, question in TOPICS:
        questions.append((question, len(passages)))
        passages += [answer, near1, near2]
    seen = set(passages)
    while len(passages) < 500:
        p = filler(rng)
        if p not in seen:
            seen.add(p)
            passages.append(p)
    # shuffle so answers are not all at the front; keep the question indexes
    order = list(range(len(passages)))
    rng.shuffle(order)
    where = {old: new for new, old in enumerate(order)}
    shuffled = [passages[old] for old in order]
    (here / "rag_corpus.txt").write_text("\n\n".join(shuffled) + "\n", encoding="utf-8")
    with open(here / "rag_questions.tsv", "w", encoding="utf-8") as f:
        for q, idx in questions:
            f.write(f"{where[idx]}\t{q}\n")


if __name__ == "__main__":
    main()
