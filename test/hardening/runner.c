/*
 * SPDX-License-Identifier: MIT
 *
 * The Check runner the hardening programs share. Apart from harden.c, which
 * the fuzz targets also build, so that they need no Check.
 */
#include <check.h>

#include "harden.h"

int harden_run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_ENV);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed;
}
