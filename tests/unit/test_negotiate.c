// SPDX-License-Identifier: GPL-2.0
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "negotiate.h"

#define PB "application/vnd.google.protobuf;proto=io.prometheus.client.MetricFamily"

static void test_negotiate_prometheus_native_header(void **state)
{
	/* what Prometheus 2.42 sends with --enable-feature=native-histograms */
	assert_int_equal(exposition__negotiate(PB ";encoding=delimited;q=0.7,text/plain;"
						  "version=0.0.4;q=0.3,*/*;q=0.2"),
			 EXPOSITION_FORMAT_PROTOBUF);
	/* spaces, quotes and case as RFC 9110 allows */
	assert_int_equal(exposition__negotiate("Application/Vnd.Google.Protobuf ; proto=\""
					       "io.prometheus.client.MetricFamily\" ; encoding="
					       "delimited ; q=1 , text/plain;q=0.5"),
			 EXPOSITION_FORMAT_PROTOBUF);
}

static void test_negotiate_text_by_default(void **state)
{
	/* without the feature flag */
	assert_int_equal(exposition__negotiate("application/openmetrics-text;version=1.0.0,"
					       "application/openmetrics-text;version=0.0.1;q=0.75,"
					       "text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
			 EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate(NULL), EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate(""), EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate("*/*"), EXPOSITION_FORMAT_TEXT);
}

static void test_negotiate_q_values(void **state)
{
	/* text preferred */
	assert_int_equal(exposition__negotiate(PB ";encoding=delimited;q=0.3,text/plain;q=0.7"),
			 EXPOSITION_FORMAT_TEXT);
	/* q=0: not acceptable */
	assert_int_equal(exposition__negotiate(PB ";encoding=delimited;q=0"),
			 EXPOSITION_FORMAT_TEXT);
	/* a tie: the first listed */
	assert_int_equal(exposition__negotiate(PB ";encoding=delimited;q=0.5,*/*;q=0.5"),
			 EXPOSITION_FORMAT_PROTOBUF);
	assert_int_equal(exposition__negotiate("*/*;q=0.5," PB ";encoding=delimited;q=0.5"),
			 EXPOSITION_FORMAT_TEXT);
	/* only protobuf listed */
	assert_int_equal(exposition__negotiate(PB ";encoding=delimited"),
			 EXPOSITION_FORMAT_PROTOBUF);
}

static void test_negotiate_malformed_gets_text(void **state)
{
	/* other encodings and messages are not what we send */
	assert_int_equal(exposition__negotiate(PB ";encoding=text"), EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate(PB), EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate("application/vnd.google.protobuf;proto=foo.Bar;"
					       "encoding=delimited"),
			 EXPOSITION_FORMAT_TEXT);
	/* bad q-values count for nothing */
	assert_int_equal(exposition__negotiate(PB ";encoding=delimited;q=2"),
			 EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate(PB ";encoding=delimited;q=0.12345"),
			 EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate(PB ";encoding=delimited;q=abc"),
			 EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate(";;;,,,=\"\",\"q=1"), EXPOSITION_FORMAT_TEXT);
	assert_int_equal(exposition__negotiate("garbage"), EXPOSITION_FORMAT_TEXT);
	assert_string_equal(exposition_format__name(EXPOSITION_FORMAT_PROTOBUF), "protobuf");
	assert_string_equal(exposition_format__name(EXPOSITION_FORMAT_TEXT), "text");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_negotiate_prometheus_native_header),
	    cmocka_unit_test(test_negotiate_text_by_default),
	    cmocka_unit_test(test_negotiate_q_values),
	    cmocka_unit_test(test_negotiate_malformed_gets_text),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
