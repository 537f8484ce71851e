"""What bench.intake asks of the comparison site, run with the benchmark's own virtualenv:

    HELPDESK_DB_NAME=... var/bench/helpdesk-venv/bin/python -m bench.helpdesk_site.tasks \
        prepare 48 8
    ... -m bench.helpdesk_site.tasks verify IDS.json

prepare: migrate (django-helpdesk's migrations load its e-mail templates), make `queues` queues
and `users` staff members with a DRF token and an address each, count the statements of one
ticket created through the API (the second of two, through the test client), then empty the
ticket tables and the mail folder; prints JSON: the filers, the queue ids, the statements.

verify: the tickets in the database against the ids of the 2xx answers (a JSON list in
IDS.json), their opening follow-ups and the mails written; prints JSON.
"""

import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.helpdesk_site.settings")

import django

TRANSACTION_CONTROL = {"BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE"}


def ticket_body(filer: dict, queue: int, serial: str) -> dict:
    return {
        "queue": queue,
        "title": f"Street light out at the corner ({serial})",
        "description": f"The street light at the corner has been out for a week ({serial}).",
        "submitter_email": filer["email"],
        "priority": 3,
    }


def _empty() -> None:
    from django.conf import settings
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE helpdesk_ticket RESTART IDENTITY CASCADE")
    shutil.rmtree(settings.EMAIL_FILE_PATH, ignore_errors=True)
    Path(settings.EMAIL_FILE_PATH).mkdir(parents=True, exist_ok=True)


def prepare(users: int, queues: int) -> dict:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from helpdesk.models import Queue
    from rest_framework.authtoken.models import Token

    call_command("migrate", verbosity=0)
    queue_ids = []
    for number in range(queues):
        queue, _created = Queue.objects.get_or_create(
            slug=f"bench{number}",
            defaults={"title": f"Bench queue {number}", "allow_public_submission": False},
        )
        queue_ids.append(queue.pk)
    user_model = get_user_model()
    filers = []
    for number in range(users):
        user, _created = user_model.objects.get_or_create(
            username=f"bench-staff-{number}",
            defaults={"email": f"bench-staff-{number}@example.org", "is_staff": True},
        )
        token, _created = Token.objects.get_or_create(user=user)
        filers.append({"token": token.key, "email": user.email})

    client = Client(HTTP_AUTHORIZATION=f"Token {filers[0]['token']}")
    statements = 0
    for attempt in range(2):
        with CaptureQueriesContext(connection) as queries:
            response = client.post(
                "/api/tickets/",
                data=json.dumps(ticket_body(filers[0], queue_ids[0], f"count {attempt}")),
                content_type="application/json",
            )
        if response.status_code != 201:
            raise SystemExit(f"/api/tickets/: {response.status_code} {response.content[:500]!r}")
        statements = sum(
            1
            for query in queries.captured_queries
            if query["sql"].split(None, 1)[0].upper() not in TRANSACTION_CONTROL
        )
    _empty()
    return {"filers": filers, "queues": queue_ids, "statements": statements}


def verify(ids_path: str) -> dict:
    from django.conf import settings
    from helpdesk.models import FollowUp, Ticket

    answered = json.loads(Path(ids_path).read_text())
    tickets = set(Ticket.objects.values_list("pk", flat=True))
    problems = []
    if len(set(answered)) != len(answered):
        problems.append(f"{len(answered) - len(set(answered))} ticket ids answered twice")
    if tickets != set(answered):
        problems.append(
            f"{len(tickets)} tickets in the database for {len(set(answered))} 2xx ticket answers "
            f"({len(tickets - set(answered))} unanswered, {len(set(answered) - tickets)} missing)"
        )
    followups = FollowUp.objects.count()
    opened = FollowUp.objects.values("ticket").distinct().count()
    if followups != len(tickets) or opened != len(tickets):
        problems.append(f"{followups} follow-ups on {opened} of {len(tickets)} tickets")
    mails = 0
    for path in Path(settings.EMAIL_FILE_PATH).glob("*.log"):
        with path.open("rb") as handle:
            mails += sum(1 for line in handle if line.startswith(b"Message-ID: "))
    if mails != len(tickets):
        problems.append(f"{mails} mails written for {len(tickets)} tickets")
    return {"tickets": len(tickets), "followups": followups, "mails": mails, "problems": problems}


def main(argv: list[str]) -> int:
    django.setup()
    if argv[0] == "prepare":
        result = prepare(int(argv[1]), int(argv[2]))
    elif argv[0] == "verify":
        result = verify(argv[1])
    else:
        raise SystemExit(__doc__)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
