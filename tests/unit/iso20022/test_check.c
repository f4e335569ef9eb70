/* Field checks of the ISO 20022 codec (src/iso20022/iso_check.c). */
#include <criterion/criterion.h>
#include <string.h>

#include "corridor/iso20022.h"

Test(iso20022_check, bic)
{
    cr_assert(cor_iso_bic_valid("DEUTDEFF"));
    cr_assert(cor_iso_bic_valid("DEUTDEFF500"));
    cr_assert(cor_iso_bic_valid("CDEFUS01XXX"));
    cr_assert_not(cor_iso_bic_valid("WRONGUS33XXX")); /* 12 characters */
    cr_assert_not(cor_iso_bic_valid("NOTABIC"));
    cr_assert_not(cor_iso_bic_valid("DEUT1EFF")); /* country must be letters */
    cr_assert_not(cor_iso_bic_valid("deutdeff"));
    cr_assert_not(cor_iso_bic_valid(""));
    cr_assert_not(cor_iso_bic_valid(NULL));
}

Test(iso20022_check, iban_mod97)
{
    cr_assert(cor_iso_iban_valid("DE89370400440532013000"));
    cr_assert(cor_iso_iban_valid("GB82WEST12345698765432"));
    cr_assert(cor_iso_iban_valid("GB29NWBK60161331926819"));
    cr_assert_not(cor_iso_iban_valid("DE89370400440532013001")); /* check digits */
    cr_assert_not(cor_iso_iban_valid("DE8937040044053201300"));
    cr_assert_not(cor_iso_iban_valid("D189370400440532013000"));
    cr_assert_not(cor_iso_iban_valid("DE89 3704 0044 0532 0130 00"));
}

Test(iso20022_check, lei_mod97)
{
    cr_assert(cor_iso_lei_valid("5493001KJTIIGC8Y1R12"));
    cr_assert_not(cor_iso_lei_valid("5493001KJTIIGC8Y1R13"));
    cr_assert_not(cor_iso_lei_valid("5493001KJTIIGC8Y1R1"));
    cr_assert_not(cor_iso_lei_valid("5493001kjtiigc8y1r12"));
}

Test(iso20022_check, uetr_v4)
{
    cr_assert(cor_iso_uetr_valid("8a562c67-ca16-48ba-b074-65581be6f001"));
    cr_assert_not(cor_iso_uetr_valid("8a562c67-ca16-38ba-b074-65581be6f001")); /* version 3 */
    cr_assert_not(cor_iso_uetr_valid("8a562c67-ca16-48ba-c074-65581be6f001")); /* variant */
    cr_assert_not(cor_iso_uetr_valid("8A562C67-CA16-48BA-B074-65581BE6F001")); /* upper */
    cr_assert_not(cor_iso_uetr_valid("8a562c67ca1648bab07465581be6f001"));
}

Test(iso20022_check, dates)
{
    cr_assert(cor_iso_date_valid("2024-02-29"));
    cr_assert_not(cor_iso_date_valid("2023-02-29"));
    cr_assert_not(cor_iso_date_valid("2026-13-01"));
    cr_assert_not(cor_iso_date_valid("0001-01-01"));
    cr_assert(cor_iso_datetime_valid("2026-07-02T10:30:00"));
    cr_assert(cor_iso_datetime_valid("2026-07-02T10:30:00.123Z"));
    cr_assert(cor_iso_datetime_valid("2026-07-02T10:30:00-05:00"));
    cr_assert_not(cor_iso_datetime_valid("2026-07-02T24:30:00Z"));
    cr_assert_not(cor_iso_datetime_valid("2026-07-02 10:30:00"));
    cr_assert_not(cor_iso_datetime_valid("2026-07-02T10:30:00+5"));
}

Test(iso20022_check, currencies_and_minor_units)
{
    cr_assert_eq(cor_iso_currency_exponent("EUR"), 2);
    cr_assert_eq(cor_iso_currency_exponent("IRR"), 2);
    cr_assert_eq(cor_iso_currency_exponent("RUB"), 2);
    cr_assert_eq(cor_iso_currency_exponent("JPY"), 0);
    cr_assert_eq(cor_iso_currency_exponent("KWD"), 3);
    cr_assert_eq(cor_iso_currency_exponent("CLF"), 4);
    cr_assert_eq(cor_iso_currency_exponent("XYZ"), -1);
    cr_assert_eq(cor_iso_currency_exponent("eur"), -1);
}

Test(iso20022_check, amounts_exact)
{
    cor_u128 minor = 0;
    cr_assert(cor_iso_amount_parse("1250.5", 6, "EUR", &minor));
    cr_assert(minor == 125050);
    cr_assert(cor_iso_amount_parse("79255.00", 8, "JPY", &minor)); /* zeros fit */
    cr_assert(minor == 79255);
    cr_assert_not(cor_iso_amount_parse("100.01", 6, "JPY", &minor));
    cr_assert_not(cor_iso_amount_parse("1.234", 5, "EUR", &minor));
    cr_assert(cor_iso_amount_parse("1.234", 5, "KWD", &minor));
    cr_assert(minor == 1234);
    cr_assert_not(cor_iso_amount_parse("-1.00", 5, "EUR", &minor));
    cr_assert_not(cor_iso_amount_parse("1e3", 3, "EUR", &minor));
    cr_assert_not(cor_iso_amount_parse(".5", 2, "EUR", &minor));
    cr_assert_not(cor_iso_amount_parse("1.", 2, "EUR", &minor));
    cr_assert_not(cor_iso_amount_parse("1.00", 4, "XYZ", &minor));
    cr_assert(cor_iso_amount_parse("9999999999999999.99", 19, "EUR", &minor)); /* 18 digits */
    cr_assert_not(cor_iso_amount_parse("99999999999999999.99", 20, "EUR", &minor));
    char text[64];
    cr_assert_eq(cor_iso_amount_format(125050, "EUR", text, sizeof(text)), 7);
    cr_assert_str_eq(text, "1250.50");
    cor_iso_amount_format(5, "EUR", text, sizeof(text));
    cr_assert_str_eq(text, "0.05");
    cor_iso_amount_format(500, "JPY", text, sizeof(text));
    cr_assert_str_eq(text, "500");
    cr_assert_eq(cor_iso_amount_format(1, "XYZ", text, sizeof(text)), 0);
}

Test(iso20022_check, code_tables_from_codesets)
{
    cr_assert(cor_iso_status_reason_known("AC01"));
    cr_assert(cor_iso_status_reason_known("AM04"));
    cr_assert(cor_iso_status_reason_known("FF01"));
    cr_assert(cor_iso_status_reason_known("DUPL"));
    cr_assert(cor_iso_status_reason_known("RR04"));
    cr_assert_not(cor_iso_status_reason_known("ZZ99"));
    cr_assert(cor_iso_tx_status_known("ACSC"));
    cr_assert(cor_iso_tx_status_known("RJCT"));
    cr_assert_not(cor_iso_tx_status_known("AB01"));
    cr_assert(cor_iso_group_status_known("PART"));
    cr_assert(cor_iso_return_reason_known("AC04"));
    cr_assert(cor_iso_cancellation_reason_known("DUPL"));
    cr_assert(cor_iso_investigation_status_known("RJCR"));
}
