"""Compile locale/*/LC_MESSAGES/django.po to .mo with polib (no GNU gettext needed).

--check: fail if a .mo is missing or older in content than its .po, or if the .po has
untranslated or fuzzy entries — so the English UI never silently falls back to Chinese.
"""

import sys
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent


def main(check: bool) -> int:
    status = 0
    for po_path in sorted((ROOT / "locale").glob("*/LC_MESSAGES/django.po")):
        po = polib.pofile(str(po_path))
        mo_path = po_path.with_suffix(".mo")
        missing = [e.msgid for e in po if not e.obsolete and (not e.translated() or "fuzzy" in e.flags)]
        if missing:
            status = 1
            print(f"{po_path}: {len(missing)} untranslated or fuzzy entries, e.g. {missing[:3]}")
        if check:
            current = polib.mofile(str(mo_path)) if mo_path.exists() else None
            wanted = {
                (e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items())))
                for e in po.translated_entries()
            }
            found = (
                {(e.msgctxt, e.msgid): (e.msgstr, tuple(sorted(e.msgstr_plural.items()))) for e in current}
                if current
                else None
            )
            if found != wanted:
                status = 1
                print(f"{mo_path}: out of date; run `make messages`")
        else:
            po.save_as_mofile(str(mo_path))
            print(f"compiled {mo_path}")
    return status


if __name__ == "__main__":
    sys.exit(main(check="--check" in sys.argv))
