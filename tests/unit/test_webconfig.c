// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

#include <cmocka.h>

#include "webconfig.h"

#define HASH "$2y$10$X0h1gDsPszWURQaxFN.bJeg/LtH9tMtKN0GE/VOWw5bBTLsHTm7Wa"

static struct webconfig cfg;
static char why[512];

static int parse(const char *text)
{
	return webconfig__parse(&cfg, "/etc/toolwatch/web.yml", text, strlen(text), why,
				sizeof(why));
}

static void assert_refused(const char *text, const char *key)
{
	if (parse(text) != -EINVAL)
		fail_msg("accepted: %s", text);
	if (!strstr(why, key))
		fail_msg("'%s' does not name '%s'", why, key);
	if (strchr(why, '\n'))
		fail_msg("two lines: '%s'", why);
}

static void test_webconfig_empty_is_plain_http(void **state)
{
	assert_int_equal(parse(""), 0);
	assert_false(cfg.tls);
	assert_int_equal(cfg.nr_users, 0);
	assert_int_equal(parse("# only a comment\n"), 0);
	assert_int_equal(parse("---\n"), 0);
}

static void test_webconfig_full_example(void **state)
{
	assert_int_equal(parse("tls_server_config:\n"
			       "  cert_file: server.crt\n"
			       "  key_file: /abs/server.key\n"
			       "  client_auth_type: RequireAndVerifyClientCert\n"
			       "  client_ca_file: ca.crt\n"
			       "  min_version: TLS12\n"
			       "  max_version: TLS13\n"
			       "  cipher_suites: [TLS_AES_128_GCM_SHA256]\n"
			       "http_server_config:\n"
			       "  http2: false\n"
			       "  headers:\n"
			       "    X-Frame-Options: deny\n"
			       "    Strict-Transport-Security: max-age=31536000\n"
			       "basic_auth_users:\n"
			       "  prometheus: " HASH "\n"),
			 0);
	assert_true(cfg.tls);
	assert_string_equal(cfg.cert_file, "/etc/toolwatch/server.crt");
	assert_string_equal(cfg.key_file, "/abs/server.key");
	assert_string_equal(cfg.client_ca_file, "/etc/toolwatch/ca.crt");
	assert_true(webconfig__verifies_clients(&cfg));
	assert_true(webconfig__requires_client_cert(&cfg));
	assert_int_equal(cfg.min_version, WEBCONFIG_TLS12);
	assert_int_equal(cfg.nr_cipher_suites, 1);
	assert_int_equal(cfg.nr_headers, 2);
	assert_string_equal(cfg.headers[0].name, "X-Frame-Options");
	assert_string_equal(webconfig__user_hash(&cfg, "prometheus"), HASH);
	assert_null(webconfig__user_hash(&cfg, "nobody"));
}

static void test_webconfig_refusals_name_the_key(void **state)
{
	assert_refused("tls_server_config:\n  cert_file: a.crt\n", "tls_server_config.key_file");
	assert_refused("tls_server_config:\n  key_file: a.key\n", "tls_server_config.cert_file");
	assert_refused("tls_server_config:\n  cert_file: a\n  key_file: b\n"
		       "  client_auth_type: Sometimes\n",
		       "tls_server_config.client_auth_type");
	assert_refused("tls_server_config:\n  cert_file: a\n  key_file: b\n"
		       "  client_auth_type: RequireAndVerifyClientCert\n",
		       "tls_server_config.client_ca_file");
	assert_refused("tls_server_config:\n  cert_file: a\n  key_file: b\n"
		       "  min_version: TLS13\n  max_version: TLS12\n",
		       "min_version");
	assert_refused("tls_server_config:\n  cert_file: a\n  key_file: b\n  min_version: SSL3\n",
		       "tls_server_config.min_version");
	assert_refused("tls_server_config:\n  cert_file: [a]\n  key_file: b\n",
		       "tls_server_config.cert_file");
	assert_refused("tls_server_config:\n  bogus: 1\n", "tls_server_config");
	assert_refused("basic_auth_users:\n  alice: secret\n", "basic_auth_users.alice");
	assert_refused("basic_auth_users: [alice]\n", "basic_auth_users");
	assert_refused("basic_auth_users:\n  alice: " HASH "\n  alice: " HASH "\n",
		       "basic_auth_users");
	assert_refused("http_server_config:\n  headers:\n    Set-Cookie: a\n",
		       "http_server_config.headers");
	assert_refused("http_server_config:\n  headers:\n    X-Content-Type-Options: sniff\n",
		       "X-Content-Type-Options");
	assert_refused("http_server_config:\n  http2: maybe\n", "http_server_config.http2");
	assert_refused("tls_config:\n  cert_file: a\n", "tls_config");
	assert_refused("- a\n- b\n", "(top level)");
	assert_refused("a: [\n", "YAML error");
	assert_refused("a: b: c\n", "YAML error");
}

/* Found by fuzz_webconfig: a quoted value with a newline made a two-line error. */
static void test_webconfig_errors_stay_one_line(void **state)
{
	(void)state;
	assert_refused("tls_server_config:\n  cert_file: c\n  key_file: k\n"
		       "  cipher_suites: [\"TLS_A\\nB\"]\n",
		       "cipher_suites: 'TLS_A?B'");
	assert_refused("basic_auth_users:\n  \"a\\nb\": x\n", "basic_auth_users");
}

static void test_webconfig_huge_file_refused(void **state)
{
	size_t n = WEBCONFIG_FILE_MAX + 1;
	char *big = malloc(n);

	assert_non_null(big);
	memset(big, '#', n);
	assert_int_equal(webconfig__parse(&cfg, "w.yml", big, n, why, sizeof(why)), -EINVAL);
	free(big);
}

/* garbage of every shape: never a crash (run under ASan by make test-asan) */
static void test_webconfig_fuzz_no_crash(void **state)
{
	static const char *const pieces[] = {
	    "tls_server_config:",
	    "\n  ",
	    "cert_file: ",
	    "basic_auth_users:",
	    "- ",
	    "[",
	    "]",
	    "{",
	    "}",
	    ": ",
	    "&a ",
	    "*a ",
	    "!!binary ",
	    "\"",
	    "'",
	    "\t",
	    "\xff",
	    "\0",
	    "? ",
	    "headers:",
	    "http_server_config:",
	    "client_auth_type: ",
	    "TLS12",
	    HASH,
	    "|\n",
	    ",",
	};
	char buf[256];
	unsigned int seed = 12345;

	for (int round = 0; round < 20000; round++) {
		size_t len = 0;
		int k = (int)(rand_r(&seed) % 24);

		for (int i = 0; i < k; i++) {
			const char *p =
			    pieces[rand_r(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];
			size_t pl = p[0] ? strlen(p) : 1;

			if (len + pl > sizeof(buf))
				break;
			memcpy(buf + len, p, pl);
			len += pl;
		}
		webconfig__parse(&cfg, "x/w.yml", buf, len, why, sizeof(why));
		assert_null(strchr(why, '\n'));
	}
}

static void test_webconfig_tls_priorities(void **state)
{
	char p[128];

	assert_int_equal(parse("tls_server_config:\n  cert_file: a\n  key_file: b\n"), 0);
	assert_int_equal(webconfig__tls_priorities(&cfg, p, sizeof(p)), 0);
	assert_string_equal(p, "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2");
	assert_int_equal(parse("tls_server_config:\n  cert_file: a\n  key_file: b\n"
			       "  max_version: TLS12\n  min_version: TLS10\n"),
			 0);
	assert_int_equal(webconfig__tls_priorities(&cfg, p, sizeof(p)), 0);
	assert_string_equal(p, "NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.1:+VERS-TLS1.0");
	/* Go suite names become GnuTLS cipher, MAC and key exchange lists */
	assert_int_equal(parse("tls_server_config:\n  cert_file: a\n  key_file: b\n"
			       "  max_version: TLS12\n  cipher_suites:\n"
			       "    - TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384\n"
			       "    - TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA\n"),
			 0);
	assert_int_equal(webconfig__tls_priorities(&cfg, p, sizeof(p)), 0);
	assert_string_equal(p, "NORMAL:-VERS-ALL:+VERS-TLS1.2:-CIPHER-ALL:+AES-256-GCM:"
			       "+AES-128-CBC:-MAC-ALL:+AEAD:+SHA1:-KX-ALL:+ECDHE-RSA:+ECDHE-ECDSA");
	assert_refused("tls_server_config:\n  cert_file: a\n  key_file: b\n"
		       "  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
		       "tls_server_config.cipher_suites");
	assert_refused("tls_server_config:\n  cert_file: a\n  key_file: b\n"
		       "  cipher_suites: [TLS_AES_128_GCM_SHA999]\n",
		       "TLS_AES_128_GCM_SHA999");
}

static void test_webconfig_downgrade_needs_the_key(void **state)
{
	static const char hash[] = "$2y$10$abcdefghijklmnopqrstuu1234567890123456789012345678901";
	struct webconfig auth, tls, none;
	char text[512];

	(void)state;
	snprintf(text, sizeof(text), "basic_auth_users:\n  prom: %s\n", hash);
	assert_int_equal(parse(text), 0);
	auth = cfg;
	assert_int_equal(parse("tls_server_config:\n  cert_file: c\n  key_file: k\n"
			       "  client_ca_file: ca\n"
			       "  client_auth_type: RequireAndVerifyClientCert\n"),
			 0);
	tls = cfg;
	/* an empty or torn file: no users, no TLS, and no say-so */
	assert_int_equal(parse(""), 0);
	none = cfg;
	assert_false(none.allow_downgrade);
	assert_string_equal(webconfig__downgrade(&auth, &none), "basic auth");
	assert_string_equal(webconfig__downgrade(&tls, &none), "TLS");
	assert_null(webconfig__downgrade(&none, &auth));
	assert_null(webconfig__downgrade(&auth, &auth));
	/* TLS kept, client certificates no longer required */
	assert_int_equal(parse("tls_server_config:\n  cert_file: c\n  key_file: k\n"), 0);
	assert_string_equal(webconfig__downgrade(&tls, &cfg), "client certificates");
	/* the key says so */
	assert_int_equal(parse("allow_downgrade: true\n"), 0);
	assert_true(cfg.allow_downgrade);
	assert_int_equal(parse("allow_downgrade: false\n"), 0);
	assert_false(cfg.allow_downgrade);
	assert_refused("allow_downgrade: yes\n", "allow_downgrade");
}

static void test_http_accepts_gzip_weights(void **state)
{
	assert_true(http_accepts_gzip("gzip"));
	assert_true(http_accepts_gzip("gzip, deflate"));
	assert_true(http_accepts_gzip("deflate, GZIP;q=0.5"));
	assert_true(http_accepts_gzip("*"));
	assert_true(http_accepts_gzip("identity;q=1, gzip ; q=0.001"));
	assert_false(http_accepts_gzip(NULL));
	assert_false(http_accepts_gzip(""));
	assert_false(http_accepts_gzip("identity"));
	assert_false(http_accepts_gzip("gzip;q=0"));
	assert_false(http_accepts_gzip("gzip;q=0.000"));
	assert_false(http_accepts_gzip("xgzip, gzipx"));
}

static void test_http_gzip_round_trip(void **state)
{
	struct strbuf out = {};
	char plain[20000], back[20000];
	z_stream z = {};

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = "toolwatch_exec_total{tool=\"x\"} 1\n"[i % 34];
	assert_int_equal(http_gzip(plain, sizeof(plain), &out), 0);
	assert_true(out.len < sizeof(plain) / 10);
	/* the body's own size, not deflateBound()'s: a kept page holds no more than it shows */
	assert_int_equal(out.cap, out.len + 1);
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = (Bytef *)out.buf;
	z.avail_in = (uInt)out.len;
	z.next_out = (Bytef *)back;
	z.avail_out = sizeof(back);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, sizeof(plain));
	assert_memory_equal(back, plain, sizeof(plain));
	inflateEnd(&z);
	strbuf__free(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_webconfig_empty_is_plain_http),
	    cmocka_unit_test(test_webconfig_full_example),
	    cmocka_unit_test(test_webconfig_refusals_name_the_key),
	    cmocka_unit_test(test_webconfig_errors_stay_one_line),
	    cmocka_unit_test(test_webconfig_huge_file_refused),
	    cmocka_unit_test(test_webconfig_fuzz_no_crash),
	    cmocka_unit_test(test_webconfig_tls_priorities),
	    cmocka_unit_test(test_webconfig_downgrade_needs_the_key),
	    cmocka_unit_test(test_http_accepts_gzip_weights),
	    cmocka_unit_test(test_http_gzip_round_trip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
