// SPDX-License-Identifier: GPL-2.0
/* tw_spawn linked -static: its execv is its own code, no shared C library's. */
#include "tw_spawn.c"
