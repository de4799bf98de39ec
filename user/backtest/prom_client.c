// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>

#include "backtest/prom_client.h"

int prom__load_history(const struct backtest_options *o, struct history *h, char *err,
		       size_t err_size)
{
	snprintf(err, err_size, "not yet");
	return -ENOSYS;
}
