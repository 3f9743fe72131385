"""Party identifiers with real check digits (GB 11643 ID numbers, GB 32100 credit code) and phone
numbers, shared by the case tests (lifecycle, pages, API)."""

from disputes.validators import id_check_digit


def valid_id(prefix17: str) -> str:
    return prefix17 + id_check_digit(prefix17)


PERSON_1 = valid_id("62010219850312123")
PERSON_2 = valid_id("62010219900101456")
PHONE_1 = "13800138000"
PHONE_2 = "13912345678"
USCC = "91350100M000100Y43"
