"""Print the API's error codes (the OpenAPI ErrorCode enum) as a Markdown table, or write it into
docs/api.md between the markers."""
import re
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from thirdlane.api.errors import ERROR_CODES

START, END = "<!-- error-codes:start -->", "<!-- error-codes:end -->"


def table() -> str:
    lines = ["| code | status | meaning |", "| --- | --- | --- |"]
    for code in sorted(ERROR_CODES.values(), key=lambda c: (c.status, c.code)):
        lines.append(f"| `{code.code}` | {code.status} | {code.title} |")
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Print every registered API error code as Markdown, or update docs/api.md with --write."

    def add_arguments(self, parser):
        parser.add_argument("--write", action="store_true", help="Replace the table in docs/api.md.")

    def handle(self, *args, write, **options):
        if not write:
            self.stdout.write(table())
            return
        path = Path(settings.BASE_DIR) / "docs" / "api.md"
        text = path.read_text()
        if START not in text or END not in text:
            raise CommandError(f"{path} has no {START} ... {END} markers")
        text = re.sub(re.escape(START) + ".*?" + re.escape(END), f"{START}\n{table()}\n{END}", text, flags=re.S)
        path.write_text(text)
        self.stdout.write(f"Wrote {len(ERROR_CODES)} codes to {path}")
