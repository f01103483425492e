
/*
 * Copyright (C) tenant_guard authors
 *
 * tg_b64url_decode(): strict base64url as JWS uses it.
 */


#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "tt.h"
#include "tg_b64.h"


TAP_GLOBALS;


/* decodes text into a heap buffer of exactly TG_B64URL_DECODED_LEN bytes */
static long
decode(const char *text, size_t len, unsigned char *out)
{
    long            n;
    unsigned char  *buf;

    buf = malloc(TG_B64URL_DECODED_LEN(len));
    n = tg_b64url_decode(buf, (const unsigned char *) text, len);

    if (n > 0 && out != NULL) {
        memcpy(out, buf, (size_t) n);
    }

    free(buf);
    return n;
}


static long
dec(const char *text, unsigned char *out)
{
    return decode(text, strlen(text), out);
}


static void
test_lengths(void)
{
    unsigned char  out[16];

    is_int(dec("", out), 0, "length 0 decodes to nothing");
    is_int(dec("A", out), -1, "length 1 is refused");
    is_int(dec("QQ", out), 1, "length 2 decodes to 1 byte");
    ok(out[0] == 'A', "\"QQ\" is \"A\"");
    is_int(dec("QUI", out), 2, "length 3 decodes to 2 bytes");
    ok(memcmp(out, "AB", 2) == 0, "\"QUI\" is \"AB\"");
    is_int(dec("QUJD", out), 3, "length 4 decodes to 3 bytes");
    ok(memcmp(out, "ABC", 3) == 0, "\"QUJD\" is \"ABC\"");
    is_int(dec("QUJDR", out), -1, "length 5 is refused");
    is_int(dec("QUJDRA", out), 4, "length 6 decodes to 4 bytes");
    is_int(dec("QUJDREU", out), 5, "length 7 decodes to 5 bytes");
    is_int(dec("QUJDREVG", out), 6, "length 8 decodes to 6 bytes");
    is_int(dec("QUJDREVGR", out), -1, "length 9 is refused");
}


static void
test_alphabet(void)
{
    unsigned char  out[16];

    is_int(dec("-_-_", out), 3, "'-' and '_' are base64url digits");
    ok(out[0] == 0xfb && out[1] == 0xff && out[2] == 0xbf,
       "\"-_-_\" is fb ff bf");
    is_int(dec("+A", out), -1, "'+' is refused");
    is_int(dec("/A", out), -1, "'/' is refused");
    is_int(dec("AA+A", out), -1, "'+' inside a quad is refused");
    is_int(dec("AA/A", out), -1, "'/' inside a quad is refused");
    is_int(dec("QQ==", out), -1, "padding \"==\" is refused");
    is_int(dec("QUI=", out), -1, "padding \"=\" is refused");
    is_int(dec("QQ=", out), -1, "a lone '=' is refused");
    is_int(dec("QUJD\n", out), -1, "a trailing newline is refused");
    is_int(dec(" QUJD", out), -1, "a leading space is refused");
    is_int(dec("QU JD", out), -1, "a space inside is refused");
    is_int(dec("QUJD.QUJD", out), -1, "a dot is refused");
    is_int(decode("QU\0D", 4, out), -1, "a NUL byte is refused");
    is_int(dec("QUJ\xc3", out), -1, "a byte above 0x7f is refused");
    is_int(dec("QUJ\xff", out), -1, "0xff is refused");
}


/* the unused bits of the last character must be zero */

static void
test_trailing_bits(void)
{
    int             c, good2, good3;
    char            text[4];
    unsigned char   out[4];
    static const char  digits[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    is_int(dec("QR", out), -1, "\"QR\": a low bit set, refused");
    is_int(dec("QB", out), -1, "\"QB\": lowest bit set, refused");
    is_int(dec("QUJ", out), -1, "\"QUJ\": low 2 bits set, refused");
    is_int(dec("QUK", out), -1, "\"QUK\": bit 1 set, refused");
    is_int(dec("QUE", out), 2, "\"QUE\": low 2 bits clear, accepted");

    good2 = 0;
    good3 = 0;

    for (c = 0; c < 64; c++) {
        text[0] = 'Q';
        text[1] = digits[c];

        if (decode(text, 2, out) == 1) {
            good2++;
        }

        text[1] = 'U';
        text[2] = digits[c];

        if (decode(text, 3, out) == 2) {
            good3++;
        }
    }

    is_int(good2, 4, "of 64 last digits after one, only the 4 with "
           "low 4 bits clear decode");
    is_int(good3, 16, "of 64 last digits after two, only the 16 with "
           "low 2 bits clear decode");
}


static void
test_round_trips(void)
{
    int             bad, len, round;
    long            n;
    char           *text;
    unsigned char   data[80], out[80];

    bad = 0;

    for (round = 0; round < 20; round++) {
        for (len = 0; len <= 64; len++) {
            tt_random(data, (size_t) len);
            text = tt_b64url(data, (size_t) len);

            n = decode(text, strlen(text), out);

            if (n != len || memcmp(out, data, (size_t) len) != 0
                || strlen(text) != ((size_t) len * 4 + 2) / 3)
            {
                bad++;
                diag("round trip of %d bytes: got %ld", len, n);
            }
        }
    }

    is_int(bad, 0, "1300 random round trips, 0 to 64 bytes");

    /* every byte value in every position of a 3-byte group */

    bad = 0;

    for (len = 0; len < 256; len++) {
        data[0] = (unsigned char) len;
        data[1] = (unsigned char) (255 - len);
        data[2] = (unsigned char) (len * 7);
        text = tt_b64url(data, 3);

        if (decode(text, 4, out) != 3 || memcmp(out, data, 3) != 0) {
            bad++;
        }

        text = tt_b64url(data, 1);

        if (decode(text, 2, out) != 1 || out[0] != data[0]) {
            bad++;
        }
    }

    is_int(bad, 0, "every byte value round-trips");
}


/* the decoder writes no more than the macro says, nor past the input */

static void
test_bounds(void)
{
    size_t          len;
    long            n;
    int             bad;
    char           *text;
    unsigned char   data[64];

    bad = 0;

    for (len = 0; len < 48; len++) {
        tt_random(data, len);
        text = tt_b64url(data, len);

        /* exact-size heap copies: ASan sees any read past the input */
        n = decode(tt_strndup(text, strlen(text)), strlen(text), NULL);

        if (n != (long) len
            || (size_t) n > TG_B64URL_DECODED_LEN(strlen(text)))
        {
            bad++;
        }
    }

    is_int(bad, 0, "decoded length within TG_B64URL_DECODED_LEN");
}


int
main(void)
{
    test_lengths();
    test_alphabet();
    test_trailing_bits();
    test_round_trips();
    test_bounds();

    tt_free_all();
    return tap_done();
}
