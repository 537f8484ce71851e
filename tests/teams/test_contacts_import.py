"""Users' alert addresses imported from a county's file (teams.contacts): CSV in UTF-8, UTF-8
with a BOM or GB18030, XLSX; only existing users updated, only their contact fields; all or
nothing; the admin's import and export pages and `manage.py import_contacts`."""

import io
import re

import openpyxl
import pytest
from django.contrib.auth.models import Permission
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from teams.contacts import import_contacts, read_contacts_file
from teams.models import Membership, User
from tests.factories import MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADERS = ("username", "phone", "email", "dingtalk_userid", "wecom_userid")
CHINESE = ("用户名", "手机号", "邮箱", "钉钉用户ID", "企业微信用户ID")


@pytest.fixture(autouse=True)
def _fast_hashing_in_english(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # Messages and the command's output in English unless a test asks for Chinese (the pages
    # follow the browser's language).
    settings.LANGUAGE_CODE = "en"


@pytest.fixture
def officers() -> tuple[User, User]:
    zhang = UserFactory(username="zhang", phone="", email="zhang@old.test")
    li = UserFactory(username="li", phone="010-1", email="li@old.test", wecom_userid="old-li")
    return zhang, li


ROWS = [
    ("zhang", "13800138000", "zhang@county.test", "ding-zhang", "wecom-zhang"),
    ("li", "+8613900139000", "li@county.test", "ding-li", "wecom-li"),
]


def csv_text(rows, headers=HEADERS) -> str:
    lines = [",".join(headers)] + [",".join(row) for row in rows]
    return "\r\n".join(lines) + "\r\n"


def xlsx_bytes(rows, headers=HEADERS) -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(headers))
    for row in rows:
        # A spreadsheet keeps a mobile number typed as a number.
        sheet.append([int(value) if value.isdigit() else value for value in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def run(data: bytes, name: str = "contacts.csv", *, dry_run: bool = False):
    return import_contacts(dataset=read_contacts_file(data=data, file_name=name), dry_run=dry_run)


def contacts(username: str) -> tuple[str, str, str, str]:
    user = User.objects.get(username=username)
    return (user.phone, user.email, user.dingtalk_userid, user.wecom_userid)


def assert_imported() -> None:
    for row in ROWS:
        assert contacts(row[0]) == row[1:]


@pytest.mark.parametrize(
    ("data", "name"),
    [
        pytest.param(csv_text(ROWS).encode("utf-8"), "c.csv", id="utf-8"),
        pytest.param(csv_text(ROWS).encode("utf-8-sig"), "c.csv", id="utf-8-bom"),
        pytest.param(csv_text(ROWS, CHINESE).encode("gb18030"), "c.csv", id="gb18030-chinese"),
        pytest.param(csv_text(ROWS, CHINESE).encode("utf-8-sig"), "c.csv", id="bom-chinese"),
        pytest.param(xlsx_bytes(ROWS), "c.xlsx", id="xlsx"),
        pytest.param(xlsx_bytes(ROWS, CHINESE), "c.XLSX", id="xlsx-chinese"),
    ],
)
def test_every_encoding_and_format_updates_the_users(officers, data, name):
    report = run(data, name)
    assert report.ok, report.errors
    assert (report.updated, report.unchanged) == (2, 0)
    assert_imported()


def test_gb18030_names_in_values_are_read(officers):
    rows = [("zhang", "13800138000", "zhang@county.test", "张三-钉钉", "")]
    report = run(csv_text(rows, CHINESE).encode("gb18030"))
    assert report.ok, report.errors
    assert User.objects.get(username="zhang").dingtalk_userid == "张三-钉钉"


def test_other_fields_of_the_user_are_untouched(officers):
    zhang, _li = officers
    zhang.is_staff = True
    zhang.first_name = "三"
    zhang.save()
    MembershipFactory(user=zhang)
    password = User.objects.get(pk=zhang.pk).password
    assert run(csv_text(ROWS).encode()).ok
    zhang = User.objects.get(pk=zhang.pk)
    assert (zhang.password, zhang.is_staff, zhang.first_name, zhang.is_active) == (
        password,
        True,
        "三",
        True,
    )
    assert Membership.objects.filter(user=zhang).count() == 1
    assert zhang.check_password("correct-horse-battery")


def test_a_missing_column_is_left_as_it_is(officers):
    data = b"username,phone\r\nli,13900139000\r\n"
    assert run(data).ok
    assert contacts("li") == ("13900139000", "li@old.test", "", "old-li")


def test_reimporting_the_same_file_changes_nothing(officers):
    data = csv_text(ROWS).encode()
    assert run(data).updated == 2
    before = list(User.objects.order_by("pk").values())
    again = run(data)
    assert again.ok
    assert (again.updated, again.unchanged) == (0, 2)
    assert list(User.objects.order_by("pk").values()) == before


def test_unknown_users_and_bad_phones_are_all_listed_and_nothing_is_written(officers):
    rows = [
        ROWS[0],
        ("wang", "13700137000", "", "", ""),
        ("li", "call me", "li@county.test", "", ""),
        ("zhao", "1", "", "", ""),
        ("li", "123", "not-a-mail", "", ""),
    ]
    before = list(User.objects.order_by("pk").values())
    report = run(csv_text(rows).encode())
    assert not report.ok
    text = "\n".join(report.errors)
    assert "line 3: no such user wang" in text
    assert "line 4, column phone: not a phone number" in text
    assert "line 5: no such user zhao" in text
    assert "line 6, column phone: not a phone number" in text
    assert "line 6, column email:" in text
    assert len(report.errors) == 5
    assert list(User.objects.order_by("pk").values()) == before
    assert not User.objects.filter(username__in=["wang", "zhao"]).exists()


def test_a_chinese_file_names_the_column_as_written(officers):
    rows = [("li", "电话", "", "", "")]
    report = run(csv_text(rows, CHINESE).encode("gb18030"))
    assert report.errors == ["line 2, column 手机号: not a phone number"]


@pytest.mark.parametrize("phone", ["12345", "+8613800138000", "01012345678901234567"])
def test_phones_of_5_to_20_characters_are_accepted(officers, phone):
    assert run(csv_text([("li", phone, "", "", "")]).encode()).ok
    assert User.objects.get(username="li").phone == phone


@pytest.mark.parametrize("phone", ["1234", "+123", "123456789012345678901", "138 0013", "1+2345"])
def test_other_phones_are_refused(officers, phone):
    assert not run(csv_text([("li", phone, "", "", "")]).encode()).ok
    assert User.objects.get(username="li").phone == "010-1"


def test_a_file_without_the_username_column_is_refused(officers):
    report = run(b"phone\r\n13800138000\r\n")
    assert not report.ok
    assert "username" in report.errors[0]


def test_the_dry_run_writes_nothing(officers):
    before = list(User.objects.order_by("pk").values())
    report = run(csv_text(ROWS).encode(), dry_run=True)
    assert report.ok and report.updated == 2
    assert list(User.objects.order_by("pk").values()) == before


# The command ----------------------------------------------------------------------------------


def test_the_command_imports_and_reports(officers, tmp_path):
    path = tmp_path / "contacts.xlsx"
    path.write_bytes(xlsx_bytes(ROWS))
    out, err = io.StringIO(), io.StringIO()
    call_command("import_contacts", str(path), stdout=out, stderr=err)
    assert "2 user(s) updated, 0 unchanged" in out.getvalue()
    assert err.getvalue() == ""
    assert_imported()


def test_the_command_dry_run_writes_nothing(officers, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_text(ROWS).encode("gb18030"))
    out = io.StringIO()
    call_command("import_contacts", str(path), "--dry-run", stdout=out)
    assert "dry run" in out.getvalue()
    assert contacts("zhang") == ("", "zhang@old.test", "", "")


def test_the_command_lists_errors_and_exits_non_zero(officers, tmp_path):
    path = tmp_path / "contacts.csv"
    path.write_bytes(csv_text([ROWS[0], ("wang", "13700137000", "", "", "")]).encode())
    err = io.StringIO()
    # manage.py prints a CommandError and exits with its return code.
    with pytest.raises(CommandError, match=r"1 error\(s\): nothing was written") as error:
        call_command("import_contacts", str(path), stderr=err)
    assert error.value.returncode == 1
    assert err.getvalue().splitlines() == ["line 3: no such user wang"]
    assert contacts("zhang") == ("", "zhang@old.test", "", "")


def test_the_command_refuses_an_unreadable_file(tmp_path):
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_contacts", str(tmp_path / "missing.csv"))
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    with pytest.raises(CommandError, match="cannot read"):
        call_command("import_contacts", str(bad))


# The admin ------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, admin_user, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    client.force_login(admin_user)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def waiting_uploads() -> list[str]:
    if not default_storage.exists("django-import-export"):
        return []
    return default_storage.listdir("django-import-export")[1]


def upload(client, data: bytes, name: str, format_index: int):
    return client.post(
        reverse("admin:teams_user_import"),
        {
            "resource": "0",
            "format": str(format_index),
            "import_file": SimpleUploadedFile(name, data),
        },
    )


@pytest.mark.parametrize(
    ("data", "name", "format_index"),
    [
        pytest.param(csv_text(ROWS, CHINESE).encode("gb18030"), "c.csv", 0, id="csv-gb18030"),
        pytest.param(csv_text(ROWS).encode("utf-8-sig"), "c.csv", 0, id="csv-bom"),
        pytest.param(xlsx_bytes(ROWS), "c.xlsx", 1, id="xlsx"),
    ],
)
def test_the_admin_import_uploads_then_confirms(officers, admin_client, data, name, format_index):
    page = admin_client.get(reverse("admin:teams_user_import"))
    assert page.status_code == 200
    response = upload(admin_client, data, name, format_index)
    assert response.status_code == 200
    confirm = response.context["confirm_form"]
    assert confirm is not None
    # The dry run wrote nothing; the upload waits in the shared media storage.
    assert contacts("zhang") == ("", "zhang@old.test", "", "")
    assert len(waiting_uploads()) == 1
    response = admin_client.post(
        reverse("admin:teams_user_process_import"),
        dict(confirm.initial),
    )
    assert response.status_code == 302
    assert_imported()
    assert waiting_uploads() == []


def test_a_row_gone_bad_after_the_preview_writes_nothing_at_confirm(officers, admin_client):
    response = upload(admin_client, csv_text(ROWS).encode(), "c.csv", 0)
    confirm = response.context["confirm_form"]
    User.objects.filter(username="li").delete()
    response = admin_client.post(reverse("admin:teams_user_process_import"), dict(confirm.initial))
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:teams_user_import")
    assert contacts("zhang") == ("", "zhang@old.test", "", "")


def test_the_admin_import_lists_errors_and_offers_no_confirmation(officers, admin_client):
    rows = [ROWS[0], ("wang", "13700137000", "", "", ""), ("li", "x", "", "", "")]
    response = upload(admin_client, csv_text(rows).encode(), "c.csv", 0)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    html = response.content.decode()
    assert "line 3: no such user wang" in html
    assert "line 4, column phone: not a phone number" in html
    assert contacts("zhang") == ("", "zhang@old.test", "", "")
    # The upload, never to be confirmed, is not kept.
    assert waiting_uploads() == []


def test_the_admin_export_gives_the_same_columns(officers, admin_client):
    response = admin_client.post(
        reverse("admin:teams_user_export"),
        {"format": "0", "resource": "0", **{f"usercontactresource_{f}": "on" for f in HEADERS}},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf")
    header = body.decode("utf-8-sig").splitlines()[0]
    assert header.split(",") == list(HEADERS)
    # An office edits the file and imports it back: nothing changes.
    report = run(body, "export.csv")
    assert report.ok and report.updated == 0


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_the_import_and_export_pages_and_buttons_show(admin_client, language):
    admin_client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    changelist = admin_client.get(reverse("admin:teams_user_changelist")).content.decode()
    assert reverse("admin:teams_user_import") in changelist
    assert reverse("admin:teams_user_export") in changelist
    page = admin_client.get(reverse("admin:teams_user_import"))
    assert page.status_code == 200
    assert "dingtalk_userid" in page.content.decode()
    assert admin_client.get(reverse("admin:teams_user_export")).status_code == 200


def test_a_non_staff_user_is_refused(officers, client):
    client.force_login(UserFactory(username="worker"))
    for name in ("admin:teams_user_import", "admin:teams_user_export"):
        response = client.get(reverse(name))
        assert response.status_code == 302
        assert re.search(r"/login/", response["Location"])
    response = upload(client, csv_text(ROWS).encode(), "c.csv", 0)
    assert response.status_code == 302
    assert contacts("zhang") == ("", "zhang@old.test", "", "")


def test_staff_without_the_change_permission_is_refused(officers, client):
    clerk = UserFactory(username="clerk", is_staff=True)
    clerk.user_permissions.add(Permission.objects.get(codename="view_user"))
    client.force_login(clerk)
    assert client.get(reverse("admin:teams_user_import")).status_code == 403
    assert client.get(reverse("admin:teams_user_export")).status_code == 403
    assert upload(client, csv_text(ROWS).encode(), "c.csv", 0).status_code == 403
    assert contacts("zhang") == ("", "zhang@old.test", "", "")
