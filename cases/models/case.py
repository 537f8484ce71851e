"""A whistle (case), the dispatches handed to teams and departments, and its append-only trace."""

from collections.abc import Iterable
from datetime import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from cases.rejections import RejectionReason, reason_text
from checklists.models import Item
from teams.levels import level_choices, with_levels
from teams.models import Department, Grid, Region, Team


class Status(models.TextChoices):
    FILED = "filed", _("filed")
    VILLAGE_HANDLING = "village_handling", with_levels(_("handled by the %(village)s"))
    DISPATCHED = "dispatched", _("dispatched")
    IN_PROGRESS = "in_progress", _("in progress")
    IN_CONSULTATION = "in_consultation", _("in consultation")
    RESOLVED = "resolved", _("resolved")
    CLOSED = "closed", _("closed")
    REJECTED = "rejected", _("rejected")
    SUSPENDED = "suspended", _("suspended")


def status_choices() -> list[tuple[str, str]]:
    """The status field's choices (a callable: migrations keep it, never the level names)."""
    return [(status.value, status.label) for status in Status]


OPEN_STATUSES = (
    Status.FILED,
    Status.VILLAGE_HANDLING,
    Status.DISPATCHED,
    Status.IN_PROGRESS,
    Status.IN_CONSULTATION,
    Status.RESOLVED,
    Status.SUSPENDED,
)


class Level(models.TextChoices):
    VILLAGE = "village", _("village")
    TOWN = "town", _("town")
    CITY = "city", _("city")
    PREFECTURE = "prefecture", _("prefecture")  # four levels, its committee on the chain


# The levels above the town: a case there is its committee's, not the town's.
ABOVE_TOWN = frozenset({Level.CITY, Level.PREFECTURE})


class Source(models.TextChoices):
    GRID_WORKER = "grid_worker", _("grid worker")
    HOTLINE = "hotline", _("12345 hotline")
    CITIZEN = "citizen", _("citizen")
    INVESTIGATION = "investigation", _("comprehensive investigation")


class Priority(models.TextChoices):
    NORMAL = "normal", _("normal")
    URGENT = "urgent", _("urgent")


class Satisfaction(models.TextChoices):
    SATISFIED = "satisfied", _("satisfied")
    BASICALLY_SATISFIED = "basically_satisfied", _("basically satisfied")
    UNSATISFIED = "unsatisfied", _("unsatisfied")


class CaseSequence(models.Model):
    """The last number given per city and year, locked to hand out readable case numbers."""

    # The unique (city, year) constraint is its index.
    city = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+", db_index=False)
    year = models.PositiveSmallIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["city", "year"], name="case_sequence_unique_year")
        ]

    def __str__(self) -> str:
        return f"{self.city.code}-{self.year}: {self.last}"


class Case(models.Model):
    """One reported problem and everything done about it.

    `status` and `level` are written only by cases.transitions; `version` grows with every
    transition so that a form loaded before a change is refused as stale.
    """

    number = models.CharField(_("number"), max_length=32, unique=True)
    tracking_code = models.CharField(_("tracking code"), max_length=32, unique=True)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    # Foreign keys that lead an index in Meta.indexes get no index of their own (every
    # insert would maintain both).
    item = models.ForeignKey(
        Item,
        verbose_name=_("item"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    grid = models.ForeignKey(
        Grid,
        verbose_name=_("grid"),
        on_delete=models.PROTECT,
        related_name="cases",
        db_index=False,
    )
    # The grid's village, town and city, kept on the case for scope filters and rollups.
    village = models.ForeignKey(
        Region,
        verbose_name=_("village"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    town = models.ForeignKey(
        Region, verbose_name=_("town"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    city = models.ForeignKey(
        Region, verbose_name=_("city"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    address = models.CharField(_("address"), max_length=300, blank=True)
    description = models.TextField(_("description"))
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reporter"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reported_cases",
        db_index=False,
    )
    contact_name = models.CharField(_("contact name"), max_length=100, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    contact_email = models.EmailField(_("contact email"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=status_choices, default=Status.FILED, editable=False
    )
    level = models.CharField(
        _("level"), max_length=10, choices=level_choices, default=Level.VILLAGE, editable=False
    )
    status_before_suspension = models.CharField(
        max_length=20, choices=status_choices, blank=True, editable=False
    )
    # A request to suspend it (挂账) waits for the committee (cases.models.SuspensionRequest):
    # kept on the case so that the buttons of a list of cases cost no query per row.
    suspension_requested = models.BooleanField(
        _("suspension requested"), default=False, editable=False
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    rework_count = models.PositiveIntegerField(_("rework count"), default=0, editable=False)
    version = models.PositiveIntegerField(_("version"), default=1, editable=False)
    # The whistle's own words, address and photos reach the public (Open311, the tracking
    # page) only once someone who speaks for the case marks it public (publish_case).
    public = models.BooleanField(
        _("public"),
        default=False,
        editable=False,
        help_text=_("The public may read the whistle's text, address and photos."),
    )
    possible_duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("possible duplicate of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="possible_duplicates",
    )
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_cases",
    )
    # A system reason as a code (cases.rejections), put into words when read; the officer's own
    # words in `rejection_reason`.
    rejection_code = models.CharField(
        _("reason code for rejection"),
        max_length=20,
        choices=RejectionReason.choices,
        blank=True,
        editable=False,
    )
    rejection_reason = models.TextField(_("reason for rejection"), blank=True)
    redirect = models.TextField(_("where to go instead"), blank=True)
    resolution_note = models.TextField(_("resolution note"), blank=True)
    legal_instrument_number = models.CharField(
        _("legal instrument number"), max_length=64, blank=True
    )
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    resolved_level = models.CharField(
        _("level at which it was resolved"), max_length=10, choices=level_choices, blank=True
    )
    filed_at = models.DateTimeField(_("filed at"), db_index=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-filed_at", "-id"]
        indexes = [
            models.Index(fields=["village", "status", "-filed_at"]),
            models.Index(fields=["town", "status", "-filed_at"]),
            models.Index(fields=["city", "status", "-filed_at"]),
            models.Index(fields=["grid", "status", "-filed_at"]),
            models.Index(fields=["item", "grid", "filed_at"]),
            # A new whistle's duplicate check: same item, the last 72 h, then the box.
            models.Index(
                fields=["item", "filed_at", "latitude", "longitude"], name="case_duplicate_nearby"
            ),
            models.Index(fields=["reporter", "-filed_at"]),
            # The oldest open case (cases.timers.running_since): where reads of running clocks
            # across cases begin their months (cases.partitions).
            models.Index(
                fields=["filed_at"], name="case_open_filed", condition=Q(status__in=OPEN_STATUSES)
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=Status.values), name="case_status_known"),
            models.CheckConstraint(condition=Q(level__in=Level.values), name="case_level_known"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def reason_for_rejection(self) -> str:
        """Why it was not accepted, in the active language (the reader's)."""
        return reason_text(
            code=self.rejection_code,
            text=self.rejection_reason,
            merged_into=self.merged_into.number if self.merged_into_id else "",
        )


def origin_choices() -> list[tuple[str, str]]:
    """A dispatch's origins (a callable: migrations keep it, never the level names)."""
    return [(origin.value, origin.label) for origin in Dispatch.Origin]


class Dispatch(models.Model):
    """A case handed to one team or one department; it must report in within its limit."""

    class State(models.TextChoices):
        WAITING = "waiting", _("waiting for report-in")
        REPORTED = "reported", _("reported in")
        RESOLVED = "resolved", _("resolved")
        CANCELLED = "cancelled", _("cancelled")
        RETURNED = "returned", _("returned")

    # Still to be handled: on the handlers' boards while the case is open.
    ACTIVE_STATES = (State.WAITING.value, State.REPORTED.value)
    # Off the case: withdrawn by the town, or returned by its unit (docs/workflow.md).
    GONE_STATES = (State.CANCELLED.value, State.RETURNED.value)

    class Origin(models.TextChoices):
        WHISTLE = "whistle", _("whistle")
        ADDED = "added", with_levels(_("added by the %(town)s"))
        DECISION = "decision", _("consultation decision")
        OVERRULED = "overruled", _("return overruled")
        TRANSFER = "transfer", _("transferred from another unit")

    class ReturnReason(models.TextChoices):
        """Why a team or department hands a dispatch back before reporting in (退回)."""

        NOT_OUR_DUTY = "not_our_duty", _("not our duty")
        WRONG_PLACE = "wrong_place", _("wrong place")
        DUPLICATE = "duplicate", _("duplicate of another case")
        OTHER = "other", _("other")

    class ReturnRuling(models.TextChoices):
        UPHELD = "upheld", _("upheld: dispatch it elsewhere")
        OVERRULED = "overruled", _("overruled: the same unit handles it")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="dispatches"
    )
    # team, department and assignee lead indexes in Meta.indexes: no index of their own.
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispatches",
        db_index=False,
    )
    department = models.ForeignKey(
        Department,
        verbose_name=_("department"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dispatches",
        db_index=False,
    )
    origin = models.CharField(
        _("origin"), max_length=10, choices=origin_choices, default=Origin.WHISTLE
    )
    task = models.TextField(_("task"), blank=True)
    state = models.CharField(
        _("state"), max_length=10, choices=State.choices, default=State.WAITING, editable=False
    )
    dispatched_at = models.DateTimeField(_("dispatched at"))
    report_in_due = models.DateTimeField(_("report-in due"))
    reported_in_at = models.DateTimeField(_("reported in at"), null=True, blank=True)
    reported_in_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported in by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    late = models.BooleanField(_("reported in late"), default=False)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_dispatches",
        db_index=False,
    )
    handling_note = models.TextField(_("handling notes"), blank=True)
    handled_at = models.DateTimeField(_("handled at"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    due_at = models.DateTimeField(_("task deadline"), null=True, blank=True)
    # A return (退回): who handed it back, when and why, and the committee's ruling on it.
    returned_at = models.DateTimeField(_("returned at"), null=True, blank=True)
    returned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("returned by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    return_reason = models.CharField(
        _("reason for the return"), max_length=20, choices=ReturnReason.choices, blank=True
    )
    return_note = models.TextField(_("why it was returned"), blank=True)
    return_ruling = models.CharField(
        _("ruling on the return"), max_length=10, choices=ReturnRuling.choices, blank=True
    )
    return_ruled_at = models.DateTimeField(_("ruled at"), null=True, blank=True)
    return_ruled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("ruled by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # What the handlers' boards read, copied by cases.timers.sync_dispatch_board after every
    # change to the case's status, clocks or dispatches: whether the dispatch is on the boards
    # (waiting or reported in, on an open case), the clock it shows (cases.timers.
    # CURRENT_CLOCK_SQL) and its times. The board counts, filters and sorts by these columns
    # alone, from an index, instead of finding every dispatch's case and clock, and reads the
    # clocks of its page by id and month (the deadlines are partitioned, cases.partitions).
    on_board = models.BooleanField(
        _("on the board"), default=False, db_default=False, editable=False
    )
    clock_due_at = models.DateTimeField(_("clock due"), null=True, blank=True, editable=False)
    clock_warn_at = models.DateTimeField(
        _("clock yellow from"), null=True, blank=True, editable=False
    )
    clock_paused_at = models.DateTimeField(
        _("clock paused at"), null=True, blank=True, editable=False
    )
    # The id of that clock: no key, since a key cannot point into the partitioned deadlines.
    clock_deadline_id = models.BigIntegerField(
        _("clock shown"), null=True, blank=True, editable=False
    )

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        ordering = ["dispatched_at", "id"]
        indexes = [
            models.Index(fields=["team", "state"]),
            models.Index(fields=["department", "state"]),
            models.Index(fields=["assignee", "state"]),
            # A board: its lights counted from the index alone, its first page read in order.
            models.Index(
                fields=["team", "clock_due_at", "dispatched_at", "id"],
                name="dispatch_board_team",
                condition=Q(on_board=True),
                include=["clock_warn_at", "clock_paused_at", "assignee"],
            ),
            models.Index(
                fields=["department", "clock_due_at", "dispatched_at", "id"],
                name="dispatch_board_department",
                condition=Q(on_board=True),
                include=["clock_warn_at", "clock_paused_at"],
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(team__isnull=False) & Q(department__isnull=True))
                | (Q(team__isnull=True) & Q(department__isnull=False)),
                name="dispatch_one_handler",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case.number} → {self.handler}"

    @property
    def handler(self) -> Team | Department:
        return self.team or self.department


class CaseMonthQuerySet(models.QuerySet):
    """Rows partitioned by their case's filing month on PostgreSQL (the events and the
    deadlines, cases.partitions): reads that name the partition key, so they open only the
    months they need."""

    def of_case(self, case: "Case") -> "CaseMonthQuerySet":
        """The case's rows, read from its filing month's partition alone."""
        return self.filter(case_id=case.pk, case_filed_at=case.filed_at)

    def of_cases(self, cases: Iterable["Case"]) -> "CaseMonthQuerySet":
        """The rows of these cases, read from their filing months' partitions only."""
        cases = list(cases)
        return self.filter(
            case_id__in=[case.pk for case in cases],
            case_filed_at__in={case.filed_at for case in cases},
        )

    def by_ids(
        self, ids: Iterable[int], *, filed: Iterable[datetime] | None = None
    ) -> "CaseMonthQuerySet":
        """These rows by id; within the partitions of these filing times when they are known
        (else across every month)."""
        rows = self.filter(pk__in=list(ids))
        return rows if filed is None else rows.filter(case_filed_at__in=set(filed))


class EventQuerySet(CaseMonthQuerySet):
    """Events are the trace of what happened: they can be added, never changed or removed."""

    def update(self, **kwargs):
        raise TypeError("Case events are append-only.")

    def delete(self):
        raise TypeError("Case events are append-only.")


class Event(models.Model):
    """One thing that happened to a case: who, what, when, from and to, with its data."""

    # (case, created_at) in Meta.indexes serves it.
    case = models.ForeignKey(
        Case,
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="events",
        db_index=False,
    )
    dispatch = models.ForeignKey(
        Dispatch,
        verbose_name=_("dispatch"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="events",
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    actor_label = models.CharField(
        _("actor label"),
        max_length=64,
        blank=True,
        help_text=_("Who acted when it was not a user: the timer, the 12345 hotline."),
    )
    action = models.CharField(_("action"), max_length=32, db_index=True)
    from_status = models.CharField(_("from status"), max_length=20, blank=True)
    to_status = models.CharField(_("to status"), max_length=20, blank=True)
    from_level = models.CharField(_("from level"), max_length=10, blank=True)
    to_level = models.CharField(_("to level"), max_length=10, blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    public = models.BooleanField(_("shown to the citizen"), default=False)
    created_at = models.DateTimeField(_("time"), db_index=True)
    # The case's filing time, copied when the event is written: on PostgreSQL the log is
    # partitioned by it, a partition per month (cases.partitions), so a case's whole history
    # lies in one partition, is read from it alone and is archived with it.
    case_filed_at = models.DateTimeField(_("case filed at"), editable=False)
    # The link of the case's hash chain (cases.trace): this event's content and the previous
    # event's link. Blank only where a benchmark inserted events by SQL.
    chain_hash = models.CharField(
        _("chain hash"), max_length=64, blank=True, default="", db_default="", editable=False
    )

    objects = EventQuerySet.as_manager()

    class Meta:
        verbose_name = _("event")
        verbose_name_plural = _("events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["case", "created_at"])]

    def __str__(self) -> str:
        return f"{self.case_id} {self.action} @ {self.created_at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            raise TypeError("Case events are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise TypeError("Case events are append-only.")


class Attachment(models.Model):
    """A photo or document of a case, checked and (for images) re-encoded without EXIF.

    A photo is stored as it came and re-encoded by a Celery worker (cases.uploads), so that no
    web request decodes an image; until then it is PROCESSING and never served."""

    class State(models.TextChoices):
        PROCESSING = "processing", _("being processed")
        READY = "ready", _("ready")
        FAILED = "failed", _("unreadable")

    class Kind(models.TextChoices):
        PHOTO = "photo", _("photo")
        DOCUMENT = "document", _("document")

    class Purpose(models.TextChoices):
        FILING = "filing", _("filing")
        HANDLING = "handling", _("handling")
        EVIDENCE = "evidence", _("evidence of resolution")
        VERIFICATION = "verification", _("verification")
        UPDATE = "update", _("public update")

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="attachments"
    )
    # No database constraint: the log is partitioned on PostgreSQL (cases.partitions).
    event = models.ForeignKey(
        Event,
        verbose_name=_("event"),
        on_delete=models.PROTECT,
        db_constraint=False,
        null=True,
        blank=True,
        related_name="attachments",
    )
    dispatch = models.ForeignKey(
        Dispatch,
        verbose_name=_("dispatch"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="attachments",
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    purpose = models.CharField(_("purpose"), max_length=12, choices=Purpose.choices)
    file = models.FileField(_("file"), upload_to="cases/%Y/%m/")
    original_name = models.CharField(_("original name"), max_length=255, blank=True)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size in bytes"))
    width = models.PositiveIntegerField(_("width"), null=True, blank=True)
    height = models.PositiveIntegerField(_("height"), null=True, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    state = models.CharField(_("state"), max_length=10, choices=State.choices, default=State.READY)
    thumbnail = models.FileField(_("thumbnail"), upload_to="cases/thumbnails/%Y/%m/", blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    # The citizen's tracking page and Open311 show public attachments only; a whistle's own
    # photos and handling photos stay internal until someone on the case makes them public.
    public = models.BooleanField(_("shown to the citizen"), default=False)
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created_at", "id"]
        indexes = [
            # The beat's catch-up finds the few photos still waiting for a worker.
            models.Index(
                fields=["created_at"],
                condition=models.Q(state="processing"),
                name="attachment_processing",
            )
        ]

    def __str__(self) -> str:
        return self.original_name or self.file.name
