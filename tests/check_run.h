/* Runs a Check suite and turns its result into an exit status. */
#ifndef TL_CHECK_RUN_H
#define TL_CHECK_RUN_H

#include <check.h>
#include <stdlib.h>

static inline int tl_check_run(Suite *s)
{
	SRunner *r = srunner_create(s);

	srunner_run_all(r, CK_NORMAL);
	int failed = srunner_ntests_failed(r);
	srunner_free(r);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
