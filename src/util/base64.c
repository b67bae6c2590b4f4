/* base64.c - base64 with the standard alphabet, strict on decoding (webhook
 * signatures and keys are compared byte for byte, so there is exactly one
 * accepted spelling of each value). */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/util.h"

static const char b64_alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

char *base64_encode(const unsigned char *data, size_t len)
{
	char *out, *o;
	size_t i;

	out = xmalloc((len + 2) / 3 * 4 + 1);
	o = out;
	for (i = 0; i + 3 <= len; i += 3) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8 | data[i + 2];
		*o++ = b64_alphabet[v >> 18 & 63];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = b64_alphabet[v >> 6 & 63];
		*o++ = b64_alphabet[v & 63];
	}
	if (len - i == 1) {
		uint32_t v = (uint32_t)data[i] << 16;
		*o++ = b64_alphabet[v >> 18 & 63];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = '=';
		*o++ = '=';
	} else if (len - i == 2) {
		uint32_t v = (uint32_t)data[i] << 16 | (uint32_t)data[i + 1] << 8;
		*o++ = b64_alphabet[v >> 18 & 63];
		*o++ = b64_alphabet[v >> 12 & 63];
		*o++ = b64_alphabet[v >> 6 & 63];
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

static int b64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/* Strict decoding: only the standard alphabet, no blanks, padding optional
 * but when present it must complete the last quantum ("YQ==" or "YQ", not
 * "YQ="), and the unused bits of the last character must be zero. */
unsigned char *base64_decode(const char *text, size_t *len)
{
	unsigned char *out = NULL;
	size_t n, pad = 0, i, o = 0, rem;
	uint32_t acc = 0;
	int bits = 0;

	if (len)
		*len = 0;
	if (!text)
		return NULL;
	n = strlen(text);
	while (pad < 2 && n > 0 && text[n - 1] == '=') {
		n--;
		pad++;
	}
	rem = n % 4;
	if (rem == 1)
		return NULL;
	if (pad > 0 && (rem == 0 || (n + pad) % 4 != 0))
		return NULL;
	out = xmalloc(n / 4 * 3 + 3);
	for (i = 0; i < n; i++) {
		int v = b64_value((unsigned char)text[i]);
		if (v < 0)
			goto bad;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits & 0xff);
		}
	}
	/* leftover bits (2 or 4) must be zero in a canonical encoding */
	if (bits > 0 && (acc & ((1u << bits) - 1)) != 0)
		goto bad;
	if (len)
		*len = o;
	return out;
bad:
	free(out);
	return NULL;
}
