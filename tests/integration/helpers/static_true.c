// SPDX-License-Identifier: GPL-2.0
/* Benchmark workload: the cheapest program there is; linked -static so exec maps one file. */
int main(void)
{
	return 0;
}
