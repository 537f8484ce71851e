"""Users: who signs in, with their names and alert addresses. Never a password: a new user
gets an unusable one and sets their own through the password reset."""

from django.contrib.auth.hashers import make_password
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from rollout.common import Plan, Problems, batches, differs, finish, first_lines
from rollout.files import Column, Table
from rollout.report import ImportReport
from teams.contacts import phone_validator
from teams.models import User

COLUMNS = [
    Column("username", "用户名", required=True),
    Column("first_name", "名"),
    Column("last_name", "姓"),
    Column("email", "邮箱"),
    Column("phone", "手机号"),
    Column("dingtalk_userid", "钉钉用户ID"),
    Column("wecom_userid", "企业微信用户ID"),
    Column("is_active", "启用"),
]
FIELDS = [c.name for c in COLUMNS[1:]]
TEXT_FIELDS = FIELDS[:-1]
EXAMPLE = ["zhangsan", "三", "张", "zhangsan@example.gov.cn", "13800000000", "", "", "true"]

_username = UnicodeUsernameValidator()
_email = EmailValidator()


def dump() -> list[list[str]]:
    return [
        [
            u.username,
            *(getattr(u, name) for name in TEXT_FIELDS),
            "true" if u.is_active else "false",
        ]
        for u in User.objects.order_by("username")
    ]


def _existing(usernames: list[str]) -> dict[str, User]:
    found: dict[str, User] = {}
    for chunk in batches(usernames, 2000):
        found.update({u.username: u for u in User.objects.filter(username__in=chunk)})
    return found


def _check(problems: Problems, row, name: str, value: str, validator, before: str) -> None:
    """Only a value the file changes is checked: an old "010-1234" exported goes back in."""
    if not value or value == before:
        return
    try:
        validator(value)
    except ValidationError as error:
        problems.add(row, name, error.messages[0])


def load(*, source: Table, report: ImportReport, progress) -> None:
    problems = Problems(source)
    first_lines(source, problems, lambda row: row.values["username"], "username")
    existing = _existing([row.values["username"] for row in source.rows if row.values["username"]])
    plan = Plan()
    new: list[User] = []
    updates: list[User] = []
    for row in source.rows:
        username = problems.text(row, "username", max_length=150, required=True)
        current = existing.get(username)
        # A column the file leaves out is left as it is; so is a blank is_active.
        values = {
            name: problems.text(row, name, max_length=User._meta.get_field(name).max_length)
            for name in TEXT_FIELDS
            if name in source.headers
        }
        values["is_active"] = problems.boolean(
            row, "is_active", default=current.is_active if current else True
        )
        _check(problems, row, "username", username, _username, getattr(current, "username", ""))
        for name, validator in (("email", _email), ("phone", phone_validator)):
            if name in values:
                _check(problems, row, name, values[name], validator, getattr(current, name, ""))
        if problems.errors or not username:
            continue
        if current is None:
            new.append(User(username=username, password=make_password(None), **values))
            plan.created.append(username)
        elif differs(current, values):
            for name, value in values.items():
                setattr(current, name, value)
            updates.append(current)
            plan.changed.append(username)
        else:
            plan.unchanged.append(username)

    def write() -> None:
        User.objects.bulk_create(new, batch_size=500)
        User.objects.bulk_update(updates, FIELDS, batch_size=500)

    finish(report=report, errors=problems.errors, plan=plan, write=write, progress=progress)
