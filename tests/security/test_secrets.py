"""No secret is committed: the tracked files hold no private key, no literal SECRET_KEY, no
cloud or chat token; the places where secrets live (var/ with the generated development key,
.env) are ignored by git; and production reads its key from the environment."""

import re
import subprocess
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)

PATTERNS = {
    "private key": re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----"),
    "literal SECRET_KEY": re.compile(r"""SECRET_KEY\s*[=:]\s*["'][^"'$\s]{16,}["']"""),
    "AWS access key": re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b"),
    "GitHub token": re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36}\b"),
    "Slack token": re.compile(r"\bxox[abprs]-[A-Za-z0-9-]{10,}"),
    "Google API key": re.compile(r"\bAIza[0-9A-Za-z_-]{35}\b"),
    "API token in a header": re.compile(r"Authorization:\s*Token\s+[0-9a-f]{40,64}\b", re.I),
}
SECRET_FILE_NAMES = re.compile(r"(^|/)(\.env(\..*)?|id_rsa|id_ed25519|.*\.pem|.*\.key|secret_key)$")


def git(*args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout


def tracked_files() -> list[str]:
    return [name for name in git("ls-files", "-z").split("\0") if name]


def test_no_secret_in_the_tracked_files():
    files = tracked_files()
    assert len(files) > 100
    found = []
    for name in files:
        if SECRET_FILE_NAMES.search(name):
            found.append(f"{name}: a file that holds secrets")
        path = ROOT / name
        if not path.is_file() or path.stat().st_size > 2_000_000:
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue  # binary (images, compiled catalogues)
        for label, pattern in PATTERNS.items():
            for match in pattern.finditer(text):
                line = text.count("\n", 0, match.start()) + 1
                found.append(f"{name}:{line}: {label}")
    assert not found, "\n".join(found)


def test_the_patterns_catch_what_they_are_for():
    fake_key = "-----BEGIN RSA " + "PRIVATE KEY-----"
    assert PATTERNS["private key"].search(fake_key)
    assert PATTERNS["literal SECRET_KEY"].search("SECRET_KEY = '" + "k" * 50 + "'")
    assert not PATTERNS["literal SECRET_KEY"].search('SECRET_KEY="$PROD_KEY"')
    assert PATTERNS["AWS access key"].search("AKIA" + "ABCDEFGHIJKLMNOP")
    assert SECRET_FILE_NAMES.search("deploy/.env") and SECRET_FILE_NAMES.search("var/secret_key")


def test_secret_places_are_ignored_by_git():
    for path in ("var/", "var/secret_key", ".env", ".env.production", "media/x.jpg"):
        result = subprocess.run(
            ["git", "check-ignore", "--no-index", "-q", path], cwd=ROOT, check=False
        )
        assert result.returncode == 0, f"{path} is not ignored by git"


def test_the_key_comes_from_the_environment_or_var():
    source = (ROOT / "whistle" / "settings.py").read_text()
    assert 'SECRET_KEY = os.environ.get("SECRET_KEY") or _development_secret_key()' in source
