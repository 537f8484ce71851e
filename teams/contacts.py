"""Users' alert addresses (phone, mail, DingTalk and WeCom ids) imported from a county's file.

A county office keeps its officers' phones and work-messaging ids in a spreadsheet; the admin's
import page and `manage.py import_contacts` both run UserContactResource, which only UPDATES
existing users, by username, and only these four fields. All or nothing: one bad row and no
row is written.
"""

from dataclasses import dataclass, field
from pathlib import Path

import tablib
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator, RegexValidator
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from import_export import resources
from import_export.formats import base_formats

from teams.models import User

CONTACT_FIELDS = ("phone", "email", "dingtalk_userid", "wecom_userid")

# The headers a Chinese office writes, mapped to the field names used in the template.
CHINESE_HEADERS = {
    "用户名": "username",
    "手机号": "phone",
    "邮箱": "email",
    "钉钉用户ID": "dingtalk_userid",
    "企业微信用户ID": "wecom_userid",
}

# Digits with an optional leading +, 5 to 20 characters: landlines, mobiles, +86 numbers.
phone_validator = RegexValidator(r"^(?=.{5,20}$)\+?[0-9]+$", _("not a phone number"))

# Chinese offices' spreadsheets export CSV as UTF-8 (with or without a BOM) or GB18030.
CSV_ENCODINGS = ("utf-8-sig", "gb18030")


class ContactsCSV(base_formats.CSV):
    """CSV read as bytes and decoded by trying each of CSV_ENCODINGS, since the admin form
    offers no encoding choice; exported as UTF-8 with a BOM so that Excel reads it."""

    def is_binary(self) -> bool:
        # Binary: the admin keeps the upload's bytes and lets create_dataset decode them.
        return True

    def get_read_mode(self) -> str:
        return "rb"

    def create_dataset(self, in_stream: bytes | str, **kwargs) -> tablib.Dataset:
        return super().create_dataset(decode_csv(in_stream), **kwargs)

    def export_data(self, dataset: tablib.Dataset, **kwargs) -> bytes:
        return super().export_data(dataset, **kwargs).encode("utf-8-sig")


CONTACT_FORMATS = (ContactsCSV, base_formats.XLSX)


def decode_csv(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValueError(gettext("The file is neither UTF-8 nor GB18030 text."))


def file_line(row_number: int) -> int:
    """The spreadsheet's line of a data row: the headers are line 1."""
    return row_number + 1


class UserContactResource(resources.ModelResource):
    """Updates existing users' alert addresses by username; never creates a user and never
    touches any other field (password, roles, staff status)."""

    class Meta:
        model = User
        fields = ("username", *CONTACT_FIELDS)
        import_id_fields = ("username",)
        skip_unchanged = True
        report_skipped = True
        use_transactions = True
        # Only the listed fields are checked below; a full_clean() would check the password.
        clean_model_instances = False
        name = _("User contacts (phone, mail, DingTalk, WeCom)")

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._row_number = 0
        self._headers: dict[str, str] = {}

    def import_data(self, dataset: tablib.Dataset, **kwargs):
        # All or nothing, whoever calls: the admin's confirm step does not ask for it.
        kwargs["use_transactions"] = True
        kwargs["rollback_on_validation_errors"] = True
        return super().import_data(dataset, **kwargs)

    def before_import(self, dataset: tablib.Dataset, **kwargs) -> None:
        """Accept the Chinese headers and stray spaces around any header."""
        headers = [str(header or "").strip() for header in dataset.headers or []]
        renamed = [CHINESE_HEADERS.get(header, header) for header in headers]
        self._headers = dict(zip(renamed, headers, strict=True))
        dataset.headers = renamed

    def before_import_row(self, row: dict, **kwargs) -> None:
        self._row_number = kwargs.get("row_number", 0)
        for key, value in row.items():
            if isinstance(value, str):
                row[key] = value.strip()

    def _error(self, column: str, message: str) -> ValidationError:
        return ValidationError(
            {
                column: gettext("line %(line)d, column %(column)s: %(message)s")
                % {
                    "line": file_line(self._row_number),
                    "column": self._headers.get(column, column),
                    "message": message,
                }
            }
        )

    def get_or_init_instance(self, instance_loader, row: dict):
        instance = self.get_instance(instance_loader, row)
        if instance is None:
            raise ValidationError(
                {
                    "username": gettext("line %(line)d: no such user %(username)s")
                    % {"line": file_line(self._row_number), "username": row.get("username")}
                }
            )
        return instance, False

    def init_instance(self, row: dict | None = None):
        raise ValidationError(gettext("An import never creates a user."))

    def import_instance(self, instance: User, row: dict, **kwargs) -> None:
        before = {name: getattr(instance, name) for name in CONTACT_FIELDS}
        super().import_instance(instance, row, **kwargs)
        errors: dict[str, list[str]] = {}
        # Only what the file changes is checked: an exported file with an old "010-1234" in
        # it goes back in unchanged.
        if instance.phone and instance.phone != before["phone"]:
            try:
                phone_validator(instance.phone)
            except ValidationError as error:
                errors.update(self._error("phone", error.messages[0]).message_dict)
        if instance.email and instance.email != before["email"]:
            try:
                EmailValidator()(instance.email)
            except ValidationError as error:
                errors.update(self._error("email", error.messages[0]).message_dict)
        for name in CONTACT_FIELDS:
            limit = User._meta.get_field(name).max_length
            if len(getattr(instance, name) or "") > limit:
                message = gettext("longer than %(limit)d characters") % {"limit": limit}
                errors.update(self._error(name, message).message_dict)
        if errors:
            raise ValidationError(errors)

    def do_instance_save(self, instance: User, is_create: bool) -> None:
        # Only the contact fields: a password or role changed meanwhile is kept.
        instance.save(update_fields=list(CONTACT_FIELDS))


@dataclass
class ContactImportReport:
    updated: int = 0
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def read_contacts_file(*, data: bytes, file_name: str) -> tablib.Dataset:
    """A .xlsx workbook's first sheet, or CSV text in any of CSV_ENCODINGS."""
    if Path(file_name).suffix.lower() == ".xlsx":
        return base_formats.XLSX().create_dataset(data)
    return ContactsCSV().create_dataset(data)


def import_contacts(*, dataset: tablib.Dataset, dry_run: bool = False) -> ContactImportReport:
    """Update users' contact fields from a file's rows; any error and nothing is written."""
    result = UserContactResource().import_data(dataset, dry_run=dry_run, raise_errors=False)
    report = ContactImportReport(
        updated=result.totals["update"], unchanged=result.totals["skip"], dry_run=dry_run
    )
    for error in result.base_errors:
        report.errors.append(str(error.error))
    for row_number, errors in result.row_errors():
        for error in errors:
            report.errors.append(
                gettext("line %(line)d: %(error)s")
                % {"line": file_line(error.number or row_number), "error": error.error}
            )
    for invalid in result.invalid_rows:
        for messages in invalid.error_dict.values():
            report.errors.extend(str(message) for message in messages)
    return report
