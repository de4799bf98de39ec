// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <linux/types.h>
#include "naming/tools.h"
#include "toolwatch.h"

/* A string literal holding argv words: its size without the literal's own closing NUL. */
#define ARGV(lit) lit, sizeof(lit) - 1

/*
 * Runs tool__name with argv and comm in heap buffers of exactly their size, so that a read
 * past args_size or past the 16-byte comm shows up under ASan or valgrind.
 */
static void name_of(const char *filename, const char *comm, const char *args, size_t args_size,
		    char *out, size_t out_size)
{
	char *args_copy = NULL, *comm_copy = NULL;

	if (args_size) {
		args_copy = malloc(args_size);
		assert_non_null(args_copy);
		memcpy(args_copy, args, args_size);
	}
	if (comm) {
		comm_copy = calloc(1, 16);
		assert_non_null(comm_copy);
		strncpy(comm_copy, comm, 15);
	}
	memset(out, 'X', out_size);
	tool__name(filename, comm_copy, args_copy, args_size, out, out_size);
	free(args_copy);
	free(comm_copy);
}

static void assert_name(const char *filename, const char *comm, const char *args, size_t args_size,
			const char *want)
{
	char out[TOOL_NAME_MAX];

	name_of(filename, comm, args, args_size, out, sizeof(out));
	if (strcmp(out, want))
		fail_msg("filename '%s': got '%s', want '%s'", filename ? filename : "(null)", out,
			 want);
}

static void test_tool_name_plain_binary(void **state)
{
	(void)state;
	assert_name("/usr/bin/curl", "curl", ARGV("curl\0-s\0https://example.com\0"), "curl");
	assert_name("/usr/local/bin/terraform", "terraform", ARGV("terraform\0plan\0"),
		    "terraform");
	assert_name("relative/dir/make", "make", ARGV("make\0"), "make");
	/* argv[0] can be anything; the exec'd file decides */
	assert_name("/usr/bin/gcc-12", "gcc-12", ARGV("cc\0-c\0x.c\0"), "gcc-12");
}

static void test_tool_name_lookalike_is_not_interpreter(void **state)
{
	(void)state;
	assert_name("/usr/bin/pythonista", "pythonista", ARGV("pythonista\0x.py\0"), "pythonista");
	assert_name("/usr/bin/python3-config", "python3-config", ARGV("python3-config\0--libs\0"),
		    "python3-config");
	assert_name("/usr/bin/bashful", "bashful", ARGV("bashful\0x.sh\0"), "bashful");
	assert_name("/usr/bin/javac", "javac", ARGV("javac\0Main.java\0"), "javac");
	assert_name("/usr/bin/node-gyp", "node-gyp", ARGV("node-gyp\0build\0"), "node-gyp");
}

static void test_tool_name_shell_script(void **state)
{
	(void)state;
	assert_name("/bin/bash", "bash", ARGV("bash\0script.sh\0"), "script.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0/opt/ci/run-tests.sh\0--fast\0"),
		    "run-tests.sh");
	assert_name("/bin/sh", "sh", ARGV("sh\0-e\0./build.sh\0"), "build.sh");
	assert_name("/usr/bin/dash", "dash", ARGV("dash\0-x\0/etc/init.d/foo\0start\0"), "foo");
	assert_name("/usr/bin/zsh", "zsh", ARGV("zsh\0-f\0setup.zsh\0"), "setup.zsh");
	assert_name("/bin/ksh", "ksh", ARGV("ksh\0job.ksh\0"), "job.ksh");
	assert_name("/bin/mksh", "mksh", ARGV("mksh\0job.sh\0"), "job.sh");
	assert_name("/bin/ash", "ash", ARGV("ash\0job.sh\0"), "job.sh");
}

static void test_tool_name_shell_options_with_arguments(void **state)
{
	(void)state;
	/* -o and -O take the next word, also inside a cluster */
	assert_name("/bin/bash", "bash", ARGV("bash\0-euo\0pipefail\0deploy.sh\0"), "deploy.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0-o\0errexit\0+o\0xtrace\0a.sh\0"), "a.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0-O\0extglob\0b.sh\0"), "b.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0--rcfile\0/etc/rc\0c.sh\0"), "c.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0--norc\0--posix\0d.sh\0"), "d.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0--\0-weird.sh\0"), "-weird.sh");
	assert_name("/bin/sh", "sh", ARGV("sh\0-\0e.sh\0"), "e.sh");
}

static void test_tool_name_shell_inline_or_stdin_keeps_shell(void **state)
{
	(void)state;
	assert_name("/bin/bash", "bash", ARGV("bash\0-c\0echo hi; ./x.sh\0"), "bash");
	assert_name("/bin/bash", "bash", ARGV("bash\0-lc\0make\0"), "bash");
	assert_name("/bin/sh", "sh", ARGV("sh\0-ec\0true\0name\0"), "sh");
	assert_name("/bin/sh", "sh", ARGV("sh\0-s\0arg1\0"), "sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0"), "bash");
	assert_name("/bin/bash", "bash", ARGV("-bash\0"), "bash");
	assert_name("/bin/bash", "bash", ARGV("bash\0-x\0"), "bash");
	assert_name("/bin/bash", "bash", ARGV("bash\0-o\0"), "bash");
}

static void test_tool_name_python_module(void **state)
{
	(void)state;
	assert_name("/usr/bin/python3", "python3",
		    ARGV("python3\0-m\0http.server\0"
			 "8000\0"),
		    "http.server");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-mpip\0install\0x\0"), "pip");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-Bm\0pytest\0-q\0"), "pytest");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-m\0"), "python3");
}

static void test_tool_name_python_script(void **state)
{
	(void)state;
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-W\0ignore\0tool.py\0"),
		    "tool.py");
	assert_name("/usr/bin/python3.11", "python3.11", ARGV("python3.11\0/opt/x/y.py\0"), "y.py");
	assert_name("/usr/bin/python3", "python3",
		    ARGV("python3\0-u\0-Wignore\0-X\0dev\0-OO\0/srv/app.py\0--port\0"
			 "1\0"),
		    "app.py");
	assert_name("/usr/bin/python3", "python3",
		    ARGV("python3\0--check-hash-based-pycs\0never\0s.py\0"), "s.py");
	assert_name("/usr/bin/python2.7", "python2.7", ARGV("python\0-Q\0new\0old.py\0"), "old.py");
	assert_name("/usr/bin/python", "python", ARGV("python\0--\0t.py\0"), "t.py");
	assert_name("/usr/bin/pypy3", "pypy3", ARGV("pypy3\0bench.py\0"), "bench.py");
	assert_name("/usr/bin/pypy3.10", "pypy3.10", ARGV("pypy3.10\0bench.py\0"), "bench.py");
}

static void test_tool_name_python_inline_keeps_interpreter(void **state)
{
	(void)state;
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-c\0import x.py\0"), "python3");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-Ic\0print(1)\0"), "python3");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-\0a.py\0"), "python3");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0"), "python3");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-u\0"), "python3");
}

static void test_tool_name_node(void **state)
{
	(void)state;
	assert_name("/usr/bin/node", "node", ARGV("node\0--require\0x\0app.js\0"), "app.js");
	assert_name("/usr/bin/node", "node", ARGV("node\0-r\0dotenv/config\0srv/app.js\0"),
		    "app.js");
	assert_name("/usr/bin/node", "node",
		    ARGV("node\0--max-old-space-size=4096\0--import\0tsx\0main.mjs\0"), "main.mjs");
	assert_name("/usr/bin/nodejs", "nodejs", ARGV("nodejs\0inspect\0dbg.js\0"), "dbg.js");
	assert_name("/usr/bin/node", "node", ARGV("node\0-e\0require('./x.js')\0"), "node");
	assert_name("/usr/bin/node", "node", ARGV("node\0--eval=1\0"), "node");
	assert_name("/usr/bin/node", "node",
		    ARGV("node\0--eval\0"
			 "1\0"),
		    "node");
	assert_name("/usr/bin/node", "node",
		    ARGV("node\0-pe\0"
			 "1+1\0"),
		    "node");
	assert_name("/usr/bin/node", "node", ARGV("node\0"), "node");
}

static void test_tool_name_perl(void **state)
{
	(void)state;
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-e\0print 1\0"), "perl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-lne\0print\0file.txt\0"), "perl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-i.bak\0-pe\0s/a/b/\0f\0"), "perl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-w\0-I\0lib\0script.pl\0"), "script.pl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-Mstrict\0-d:NYTProf\0p.pl\0"), "p.pl");
	assert_name("/usr/bin/perl5.36.0", "perl5.36.0", ARGV("perl5.36.0\0x.pl\0"), "x.pl");
}

static void test_tool_name_ruby(void **state)
{
	(void)state;
	assert_name("/usr/bin/ruby", "ruby", ARGV("ruby\0-I\0lib\0app.rb\0"), "app.rb");
	assert_name("/usr/bin/ruby3.2", "ruby3.2", ARGV("ruby3.2\0-rjson\0x.rb\0"), "x.rb");
	assert_name("/usr/bin/ruby", "ruby", ARGV("ruby\0--disable\0gems\0y.rb\0"), "y.rb");
	assert_name("/usr/bin/ruby", "ruby", ARGV("ruby\0-W0\0z.rb\0"), "z.rb");
	assert_name("/usr/bin/ruby", "ruby", ARGV("ruby\0-e\0puts 1\0"), "ruby");
}

static void test_tool_name_java(void **state)
{
	(void)state;
	assert_name("/usr/bin/java", "java", ARGV("java\0-jar\0/opt/app.jar\0--serve\0"),
		    "app.jar");
	assert_name("/usr/bin/java", "java", ARGV("java\0-cp\0a.jar\0com.Main\0"), "com.Main");
	assert_name("/usr/lib/jvm/bin/java", "java",
		    ARGV("java\0-Xmx1g\0-Dx=y\0-classpath\0a:b\0com.example.Server\0run\0"),
		    "com.example.Server");
	assert_name("/usr/bin/java", "java", ARGV("java\0--class-path\0c.jar\0Main\0"), "Main");
	assert_name("/usr/bin/java", "java", ARGV("java\0--class-path=c.jar\0Main\0"), "Main");
	assert_name("/usr/bin/java", "java", ARGV("java\0-m\0app.core/app.core.Main\0"),
		    "app.core");
	assert_name("/usr/bin/java", "java", ARGV("java\0-version\0"), "java");
	assert_name("/usr/bin/java", "java", ARGV("java\0-cp\0"), "java");
}

static void test_tool_name_busybox(void **state)
{
	(void)state;
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0sh\0-e\0x.sh\0"), "x.sh");
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0wget\0-q\0url\0"), "wget");
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0sh\0"), "sh");
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0--list\0"), "busybox");
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0"), "busybox");
}

static void test_tool_name_long_option_value_after_equals(void **state)
{
	(void)state;
	/* `--name=value` carries its value: the next word is the script */
	assert_name("/bin/bash", "bash", ARGV("bash\0--rcfile=/etc/rc\0c.sh\0"), "c.sh");
	assert_name("/usr/bin/python3", "python3",
		    ARGV("python3\0--check-hash-based-pycs=never\0s.py\0"), "s.py");
	assert_name("/usr/bin/node", "node", ARGV("node\0--require=x\0app.js\0"), "app.js");
	assert_name("/usr/bin/node", "node", ARGV("node\0--print=1\0"), "node");
	assert_name("/usr/bin/ruby", "ruby", ARGV("ruby\0--disable=gems\0y.rb\0"), "y.rb");
	/* unknown long options take no value */
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0--unknown\0p.pl\0"), "p.pl");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0--\0"), "python3");
}

static void test_tool_name_shell_option_clusters(void **state)
{
	(void)state;
	/* each o/O of a cluster takes the next word */
	assert_name("/bin/bash", "bash", ARGV("bash\0-oO\0errexit\0extglob\0x.sh\0"), "x.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0-oO\0errexit\0"), "bash");
	/* c and s only in a '-' cluster: `+c` is a flag */
	assert_name("/bin/bash", "bash", ARGV("bash\0+c\0y.sh\0"), "y.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0-oc\0pipefail\0z.sh\0"), "bash");
	assert_name("/bin/bash", "bash", ARGV("bash\0--rcfile\0"), "bash");
	assert_name("/bin/rbash", "rbash", ARGV("rbash\0r.sh\0"), "r.sh");
	assert_name("/bin/ksh93", "ksh93", ARGV("ksh93\0k.sh\0"), "k.sh");
}

static void test_tool_name_option_values_of_each_interpreter(void **state)
{
	(void)state;
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-m\0a/b\0"), "b");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-W\0"), "python3");
	assert_name("/usr/bin/node", "node", ARGV("node\0-rdotenv/config\0a.js\0"), "a.js");
	assert_name("/usr/bin/node", "node", ARGV("node\0-\0a.js\0"), "node");
	assert_name("/usr/bin/node", "node", ARGV("node\0inspect\0inspect\0"), "inspect");
	assert_name("/usr/bin/node", "node", ARGV("node\0--print\0"), "node");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-0777\0-ne\0print\0f\0"), "perl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-0777\0s.pl\0"), "s.pl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-l0\0t.pl\0"), "t.pl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-E\0say 1\0"), "perl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-Ilib\0-x\0u.pl\0"), "u.pl");
	assert_name("/usr/bin/ruby", "ruby", ARGV("ruby\0-Eutf-8\0-x\0v.rb\0"), "v.rb");
	assert_name("/usr/bin/ruby", "ruby", ARGV("ruby\0-\0w.rb\0"), "ruby");
}

static void test_tool_name_java_words(void **state)
{
	(void)state;
	assert_name("/usr/bin/java", "java", ARGV("java\0--module=app.core/app.Main\0"),
		    "app.core");
	/* `--module=` names nothing; single-dash words never carry `=value` */
	assert_name("/usr/bin/java", "java", ARGV("java\0--module=\0Main\0"), "Main");
	assert_name("/usr/bin/java", "java", ARGV("java\0-m=x\0Main\0"), "Main");
	assert_name("/usr/bin/java", "java", ARGV("java\0-jar=x\0Main\0"), "Main");
	assert_name("/usr/bin/java", "java", ARGV("java\0-jar\0"), "java");
	assert_name("/usr/bin/java", "java", ARGV("java\0--module\0"), "java");
	/* argument files and `--` are options; -jar keeps the jar's path whole */
	assert_name("/usr/bin/java", "java", ARGV("java\0@opts\0--\0Main\0"), "Main");
	assert_name("/usr/bin/java", "java", ARGV("java\0-jar\0lib/a/app.jar\0"), "app.jar");
}

static void test_tool_name_busybox_shells_only(void **state)
{
	(void)state;
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0/bin/ash\0x.sh\0"), "x.sh");
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0hush\0-c\0true\0"), "hush");
	/* dash is no busybox applet: its arguments are not read */
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0dash\0x.sh\0"), "dash");
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0python3\0x.py\0"), "python3");
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0-\0sh\0"), "busybox");
	assert_name("/bin/busybox", "busybox", ARGV("busybox\0/\0"), "busybox");
}

static void test_tool_name_shebang_uses_script(void **state)
{
	(void)state;
	/* the kernel exec'd the script: filename is the script, argv[0] the interpreter */
	assert_name("./tool.py", "tool.py", ARGV("/usr/bin/python3\0./tool.py\0"), "tool.py");
	/* through env the script is named at the interpreter's exec: the env step is env */
	assert_name("/opt/bin/sync", "sync", ARGV("/usr/bin/env\0python3\0/opt/bin/sync\0"), "env");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0/opt/bin/sync\0"), "sync");
	assert_name("/usr/local/bin/deploy.sh", "deploy.sh",
		    ARGV("/bin/bash\0-e\0/usr/local/bin/deploy.sh\0prod\0"), "deploy.sh");
}

static void test_tool_name_env_shebang_is_env_once(void **state)
{
	(void)state;
	/* an asdf/pyenv-style shim `python3` with `#!/usr/bin/env bash` */
	assert_name("/shims/python3", "python3",
		    ARGV("/usr/bin/env\0bash\0/shims/python3\0-c\0pass\0"), "env");
	assert_name("/usr/bin/bash", "bash", ARGV("bash\0/shims/python3\0-c\0pass\0"), "python3");
	/* `#!/usr/bin/env -S bash -e`: one argument of the #! line */
	assert_name("./s.sh", "s.sh", ARGV("/usr/bin/env\0-S bash -e\0./s.sh\0"), "env");
	/* env run by hand is env too */
	assert_name("/usr/bin/env", "env", ARGV("env\0FOO=1\0make\0"), "env");
	/* argv[0] "env" but not a shebang step: the file exec'd names it */
	assert_name("/usr/bin/foo", "foo", ARGV("env\0a\0b\0c\0"), "foo");
	/* a script with another interpreter keeps its own name */
	assert_name("./x.sh", "x.sh", ARGV("/bin/bash\0./x.sh\0"), "x.sh");
	/* launchers that exec a program are themselves: the program is the next execution */
	assert_name("/usr/bin/nice", "nice",
		    ARGV("nice\0-n\0"
			 "5\0python3\0x.py\0"),
		    "nice");
	assert_name("/usr/bin/nohup", "nohup", ARGV("nohup\0./x.sh\0"), "nohup");
	assert_name("/usr/bin/timeout", "timeout",
		    ARGV("timeout\0"
			 "5\0sleep\0"
			 "1\0"),
		    "timeout");
}

static void test_tool_name_fd_and_memfd_images_use_argv0(void **state)
{
	(void)state;
	assert_name("/dev/fd/3", "stress-ng",
		    ARGV("stress-ng\0--exec\0"
			 "1\0"),
		    "stress-ng");
	assert_name("/proc/self/fd/12", "x", ARGV("/opt/bin/runc\0init\0"), "runc");
	assert_name("/proc/4242/fd/7", "x", ARGV("/opt/bin/runc\0"), "runc");
	assert_name("/memfd:sealed-91173221a7ea (deleted)", "runc", ARGV("runc\0init\0"), "runc");
	assert_name("/memfd:x (deleted)", "runc", NULL, 0, "runc");
	assert_name("/dev/fd/3", "comm-name", ARGV("memfd:foo\0"), "comm-name");
	/* no argv: comm */
	assert_name("/dev/fd/3", "stress-ng", NULL, 0, "stress-ng");
	/* a comm of digits is an fd number (older kernels): never a name */
	assert_name("/dev/fd/3", "3", NULL, 0, "unknown");
	assert_name("", "3", NULL, 0, "unknown");
	assert_name("", "3d", NULL, 0, "3d");
	/* a deleted regular file keeps its name without the suffix */
	assert_name("/tmp/tool (deleted)", "tool", NULL, 0, "tool");
	/* a path relative to an fd names a file */
	assert_name("/dev/fd/3/bin/ls", "ls", ARGV("ls\0"), "ls");
	/* not an fd: digits elsewhere */
	assert_name("/dev/fd/3x", "x", NULL, 0, "3x");
	assert_name("/opt/3", "x", NULL, 0, "3");
	/* an interpreter reading its script from an fd keeps its name */
	assert_name("/usr/bin/bash", "bash", ARGV("bash\0/dev/fd/3\0"), "bash");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0/proc/self/fd/63\0"), "python3");
	/* fexecve of an env script: the env step is still env */
	assert_name("/dev/fd/4", "x", ARGV("/usr/bin/env\0bash\0/dev/fd/4\0"), "env");
}

static void test_tool_name_perl_zero_option_is_octal_or_hex(void **state)
{
	(void)state;
	/* -0 takes octal digits or x and hex digits: -0e is -0 then -e (inline code) */
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-0e\0code\0"), "perl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-0xABe\0s.pl\0"), "s.pl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-0777e\0code\0"), "perl");
	assert_name("/usr/bin/perl", "perl", ARGV("perl\0-00\0p.pl\0"), "p.pl");
}

static void test_tool_name_truncated_argv(void **state)
{
	(void)state;
	/* the last word lost its NUL and its end: it is used as far as it goes */
	assert_name("/bin/bash", "bash", ARGV("bash\0/opt/scripts/deploy.sh"), "deploy.sh");
	assert_name("/bin/bash", "bash", ARGV("bash\0/opt/scripts/depl"), "depl");
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-m\0http.ser"), "http.ser");
	/* cut inside the interpreter's options: no script seen */
	assert_name("/usr/bin/python3", "python3", ARGV("python3\0-W"), "python3");
	assert_name("/usr/bin/java", "java", ARGV("java\0-cp\0/very/long/class:pa"), "java");
	assert_name("/bin/bash", "bash", ARGV("bash\0/opt/"), "opt");
	/* a single word without NUL */
	assert_name("", "x", ARGV("/usr/bin/rsync"), "rsync");
}

static void test_tool_name_empty_filename_falls_back(void **state)
{
	(void)state;
	assert_name("", "cron", NULL, 0, "cron");
	assert_name(NULL, "cron", NULL, 0, "cron");
	assert_name("", "sshd", ARGV("/usr/sbin/sshd\0-D\0"), "sshd");
	assert_name("", "bash", ARGV("-bash\0"), "bash");
	/* argv[0] of an interpreter still leads to its script */
	assert_name("", "python3", ARGV("python3\0/srv/job.py\0"), "job.py");
	assert_name("", "python3", ARGV("\0/srv/job.py\0"), "job.py"); /* via comm */
	/* comm is used as it is: kernel-style names keep their slash */
	assert_name("", "kworker/0:1", NULL, 0, "kworker/0:1");
	assert_name("/", "", NULL, 0, "unknown");
	assert_name("", "", ARGV("\0\0"), "unknown");
	assert_name(NULL, NULL, NULL, 0, "unknown");
	assert_name("/usr/bin/", "x", NULL, 0, "bin");
}

static void test_tool_name_comm_read_at_most_16_bytes(void **state)
{
	char comm[16];
	char out[TOOL_NAME_MAX];

	(void)state;
	memset(comm, 'c', sizeof(comm)); /* no NUL at all: must not read past 16 bytes */
	tool__name("", comm, NULL, 0, out, sizeof(out));
	assert_string_equal(out, "cccccccccccccccc");
}

static void test_tool_name_long_name_truncated_at_utf8_boundary(void **state)
{
	char path[256], want[TOOL_NAME_MAX], out[TOOL_NAME_MAX];

	(void)state;
	/* plain ASCII: cut to 63 bytes */
	memset(path, 'a', 100);
	path[100] = '\0';
	memset(want, 'a', TOOL_NAME_MAX - 1);
	want[TOOL_NAME_MAX - 1] = '\0';
	assert_name(path, "a", NULL, 0, want);

	/* 62 bytes + a 2-byte "é" would need 64: the whole sequence is dropped */
	memset(path, 'a', 62);
	strcpy(path + 62, "\xc3\xa9tail");
	want[62] = '\0';
	assert_name(path, "a", NULL, 0, want);

	/* 61 bytes + "é" is exactly 63 */
	memset(path, 'a', 61);
	strcpy(path + 61, "\xc3\xa9tail");
	memcpy(want, path, 63);
	want[63] = '\0';
	assert_name(path, "a", NULL, 0, want);
	name_of(path, "a", NULL, 0, out, sizeof(out));
	assert_int_equal(strlen(out), 63);

	/* a 4-byte emoji straddling the limit goes as a whole */
	memset(path, 'b', 60);
	strcpy(path + 60, "\xf0\x9f\x9a\x80");
	memset(want, 'b', 60);
	want[60] = '\0';
	assert_name(path, "b", NULL, 0, want);

	/* invalid bytes stand alone and may be cut anywhere */
	memset(path, 'c', 62);
	strcpy(path + 62, "\xff\xfe\xfd");
	memcpy(want, path, 63);
	want[63] = '\0';
	assert_name(path, "c", NULL, 0, want);

	/* small buffers */
	name_of("/bin/\xe2\x82\xac\xe2\x82\xac", "x", NULL, 0, out, 4);
	assert_string_equal(out, "\xe2\x82\xac");
	name_of("/bin/\xe2\x82\xac\xe2\x82\xac", "x", NULL, 0, out, 3);
	assert_string_equal(out, "");
	name_of("/bin/tool", "x", NULL, 0, out, 1);
	assert_string_equal(out, "");
	out[0] = 'Z';
	tool__name("/bin/tool", "x", NULL, 0, out, 0);
	assert_int_equal(out[0], 'Z');
}

/* xorshift: deterministic junk */
static uint64_t next_random(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void test_tool_name_hostile_input_stays_bounded(void **state)
{
	static const char *const interpreters[] = {
	    "/bin/bash",     "/usr/bin/python3", "/usr/bin/node", "/usr/bin/perl",
	    "/usr/bin/ruby", "/usr/bin/java",	 "/bin/busybox",  ""};
	size_t args_size = 1 << 20, i, round;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	char *args = malloc(args_size);
	char out[TOOL_NAME_MAX + 8];

	(void)state;
	assert_non_null(args);
	for (round = 0; round < 64; round++) {
		size_t size = round % 2 ? args_size : (size_t)(next_random(&seed) % 4096);
		const char *filename = interpreters[round % 8];

		for (i = 0; i < size; i++) {
			uint64_t r = next_random(&seed);

			/* mostly option-like and control bytes, some NULs, no NUL at the end */
			args[i] = (char)(r % 5 == 0 ? '-' : r % 7 == 0 ? '\0' : (r >> 8) & 0xff);
		}
		if (size)
			args[size - 1] = 'x';
		memset(out, 'X', sizeof(out));
		tool__name(filename, "comm", args, size, out, TOOL_NAME_MAX);
		assert_true(strlen(out) > 0);
		assert_true(strlen(out) < TOOL_NAME_MAX);
		assert_int_equal(out[TOOL_NAME_MAX], 'X'); /* nothing written past out_size */
	}
	/* one huge script word without NUL */
	memcpy(args, "sh\0", 3);
	memset(args + 3, '/', args_size / 2 - 3);
	memset(args + args_size / 2, 'z', args_size / 2);
	tool__name("/bin/sh", "sh", args, args_size, out, TOOL_NAME_MAX);
	assert_int_equal(strlen(out), TOOL_NAME_MAX - 1);
	assert_int_equal(out[0], 'z');
	free(args);
}

/* Whether key is among the keys tool__argv_keys() gives. */
static bool argv_key_listed(const char key[TOOL_COMM_LEN])
{
	char keys[64][TOOL_COMM_LEN];
	size_t n = tool__argv_keys(keys, 64);

	assert_true(n <= 64);
	for (size_t i = 0; i < n; i++) {
		if (!memcmp(keys[i], key, TOOL_COMM_LEN))
			return true;
	}
	return false;
}

static void test_tool_argv_key_strips_versions(void **state)
{
	char key[TOOL_COMM_LEN], want[TOOL_COMM_LEN] = {0};

	(void)state;
	tool__argv_key("python3.11", key);
	memcpy(want, "python", 6);
	assert_memory_equal(key, want, sizeof(key));
	tool__argv_key("3", key);
	memset(want, 0, sizeof(want));
	assert_memory_equal(key, want, sizeof(key));
	/* at most 16 bytes read: a comm need not end in a NUL */
	tool__argv_key("abcdefghijklmnop1234", key);
	assert_memory_equal(key, "abcdefghijklmnop", sizeof(key));
	tool__argv_key("x264", key);
	memset(want, 0, sizeof(want));
	want[0] = 'x';
	assert_memory_equal(key, want, sizeof(key));
	assert_false(argv_key_listed(key));
}

/*
 * The kernel leaves argv out of an exec record unless a script or an fd was exec'd, or the
 * key of its comm (the basename's first 15 bytes) is listed: for every such basename,
 * argv must not change the name (nor whether it runs a shell).
 */
static void test_tool_argv_keys_cover_every_name_argv_changes(void **state)
{
	static const char *const bases[] = {
	    "sh",
	    "bash",
	    "rbash",
	    "dash",
	    "zsh",
	    "ash",
	    "ksh",
	    "ksh93",
	    "mksh",
	    "pdksh",
	    "hush",
	    "python",
	    "python3",
	    "python3.11",
	    "python3.11.4",
	    "pypy",
	    "pypy3",
	    "pypy3.10",
	    "node",
	    "nodejs",
	    "perl",
	    "perl5.36.0",
	    "ruby",
	    "ruby3.1",
	    "java",
	    "busybox",
	    "3",
	    "17",
	    "python3.1234567890123",
	    "grep",
	    "x264",
	    "env",
	    "make",
	    "gcc-12",
	    "python-config",
	    "bashbug",
	    "shasum",
	    "node_exporter",
	    "javac",
	    "rubyx",
	    "perl-x",
	    "a.sh",
	    "busybox1",
	    "ksh2020",
	};
	static const char argv_words[] = "interp\0-x\0script.py\0arg";
	char path[64], comm[TOOL_COMM_LEN + 1], key[TOOL_COMM_LEN];
	char with[TOOL_NAME_MAX], without[TOOL_NAME_MAX];
	int listed = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++) {
		snprintf(path, sizeof(path), "/usr/bin/%s", bases[i]);
		snprintf(comm, sizeof(comm), "%.15s", bases[i]);
		tool__argv_key(comm, key);
		if (argv_key_listed(key)) {
			listed++;
			continue;
		}
		name_of(path, comm, argv_words, sizeof(argv_words) - 1, with, sizeof(with));
		name_of(path, comm, NULL, 0, without, sizeof(without));
		assert_string_equal(with, without);
		assert_false(tool__is_shell(comm));
	}
	/*
	 * listed: the 26 interpreter names above, the 2 fd numbers, the long python and (a
	 * harmless excess: their argv is copied, not read) busybox1 and ksh2020
	 */
	assert_int_equal(listed, 31);
}

/*
 * handle_exec tests a comm key's bit in a 256-bit filter of the argv keys before looking it
 * up (tw_comm_key_bit()): every key's bit is set, and few other commands' are (the hash
 * spreads them).
 */
static void test_tool_argv_filter_passes_every_key_and_few_others(void **state)
{
	static const char *const others[] = {
	    "true",	   "false",
	    "ls",	   "cat",
	    "grep",	   "sed",
	    "awk",	   "sort",
	    "uniq",	   "head",
	    "tail",	   "cut",
	    "tr",	   "wc",
	    "find",	   "xargs",
	    "make",	   "gcc",
	    "cc1",	   "as",
	    "ld",	   "git",
	    "curl",	   "tar",
	    "gzip",	   "ssh",
	    "cp",	   "mv",
	    "rm",	   "mkdir",
	    "chmod",	   "date",
	    "sleep",	   "touch",
	    "kubectl",	   "docker",
	    "runc",	   "containerd-shim",
	    "static_true", "go",
	    "rustc",	   "cargo",
	    "clang",	   "id",
	    "env",	   "test",
	    "dirname",	   "basename",
	    "readlink",	   "stat",
	    "nmap",	   "tcpdump",
	};
	char keys[TW_ARGV_COMMS_MAX][TOOL_COMM_LEN], key[TOOL_COMM_LEN];
	__u64 filter[TW_ARGV_FILTER_WORDS] = {0};
	size_t n = tool__argv_keys(keys, TW_ARGV_COMMS_MAX);
	int passed = 0;
	__u32 bit;

	(void)state;
	assert_true(n > 1 && n <= TW_ARGV_COMMS_MAX);
	for (size_t i = 0; i < n; i++) {
		bit = tw_comm_key_bit((const struct tw_comm_key *)keys[i]);
		filter[bit >> 6] |= 1ULL << (bit & 63);
	}
	for (size_t i = 0; i < n; i++) {
		bit = tw_comm_key_bit((const struct tw_comm_key *)keys[i]);
		assert_true(filter[bit >> 6] & (1ULL << (bit & 63)));
	}
	for (size_t i = 0; i < sizeof(others) / sizeof(others[0]); i++) {
		tool__argv_key(others[i], key);
		assert_false(argv_key_listed(key));
		bit = tw_comm_key_bit((const struct tw_comm_key *)key);
		passed += !!(filter[bit >> 6] & (1ULL << (bit & 63)));
	}
	print_message("argv filter: %zu keys, %d of %zu other commands pass\n", n, passed,
		      sizeof(others) / sizeof(others[0]));
	/* one bit per key in 256: about n / 256 of the others pass; at most twice that */
	assert_true((size_t)passed * 256 <= 2 * n * (sizeof(others) / sizeof(others[0])));
}

static void test_tool_table_ids_dense_in_first_appearance_order(void **state)
{
	struct tool_table *t = tool_table__new(10);

	(void)state;
	assert_non_null(t);
	assert_int_equal(tool_table__count(t), 1);
	assert_int_equal(tool_table__intern(t, "make"), 1);
	assert_int_equal(tool_table__intern(t, "gcc"), 2);
	assert_int_equal(tool_table__intern(t, "make"), 1);
	assert_int_equal(tool_table__intern(t, "ld"), 3);
	assert_int_equal(tool_table__count(t), 4);
	assert_string_equal(tool_table__name(t, 1), "make");
	assert_string_equal(tool_table__name(t, 2), "gcc");
	assert_string_equal(tool_table__name(t, 3), "ld");
	assert_null(tool_table__name(t, 4));
	assert_null(tool_table__name(t, UINT_MAX));
	assert_int_equal(tool_table__lookup(t, "gcc"), 2);
	assert_int_equal(tool_table__lookup(t, "clang"), -1);
	assert_int_equal(tool_table__overflows(t), 0);
	tool_table__free(t);
}

static void test_tool_table_other_is_id_zero(void **state)
{
	struct tool_table *t = tool_table__new(2);

	(void)state;
	assert_non_null(t);
	assert_string_equal(tool_table__name(t, TOOL_OTHER_ID), "other");
	assert_int_equal(tool_table__intern(t, "other"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__lookup(t, "other"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__intern(t, NULL), TOOL_OTHER_ID);
	assert_int_equal(tool_table__lookup(t, NULL), -1);
	assert_int_equal(tool_table__overflows(t), 0);
	assert_int_equal(tool_table__count(t), 1);
	/* "other" does not use up a slot */
	assert_int_equal(tool_table__intern(t, "a"), 1);
	assert_int_equal(tool_table__intern(t, "b"), 2);
	tool_table__free(t);
}

static void test_tool_table_cap_sends_new_names_to_other(void **state)
{
	struct tool_table *t = tool_table__new(3);

	(void)state;
	assert_non_null(t);
	assert_int_equal(tool_table__intern(t, "a"), 1);
	assert_int_equal(tool_table__intern(t, "b"), 2);
	assert_int_equal(tool_table__intern(t, "c"), 3);
	assert_int_equal(tool_table__intern(t, "d"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__overflows(t), 1);
	/* names already held keep their ids */
	assert_int_equal(tool_table__intern(t, "a"), 1);
	assert_int_equal(tool_table__intern(t, "c"), 3);
	assert_int_equal(tool_table__overflows(t), 1);
	/* every call for an untracked name counts */
	assert_int_equal(tool_table__intern(t, "d"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__intern(t, "e"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__overflows(t), 3);
	assert_int_equal(tool_table__intern(t, "other"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__overflows(t), 3);
	assert_int_equal(tool_table__count(t), 4);
	assert_int_equal(tool_table__lookup(t, "d"), -1);
	assert_null(tool_table__name(t, 4));
	tool_table__free(t);
}

static void test_tool_table_zero_cap_tracks_nothing(void **state)
{
	struct tool_table *t = tool_table__new(0);

	(void)state;
	assert_non_null(t);
	assert_int_equal(tool_table__intern(t, "a"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__overflows(t), 1);
	assert_int_equal(tool_table__count(t), 1);
	tool_table__free(t);
}

static void test_tool_table_keeps_own_copy(void **state)
{
	struct tool_table *t = tool_table__new(4);
	char name[] = "rsync";

	(void)state;
	assert_non_null(t);
	assert_int_equal(tool_table__intern(t, name), 1);
	name[0] = 'x';
	assert_string_equal(tool_table__name(t, 1), "rsync");
	assert_int_equal(tool_table__lookup(t, "rsync"), 1);
	assert_int_equal(tool_table__lookup(t, name), -1);
	assert_int_equal(tool_table__intern(t, ""), 2); /* empty is a name like any other */
	tool_table__free(t);
}

static void test_tool_table_rejects_bad_cap(void **state)
{
	(void)state;
	errno = 0;
	assert_null(tool_table__new((unsigned int)INT_MAX + 1));
	assert_int_equal(errno, EINVAL);
	tool_table__free(NULL);
}

#define MANY_NAMES 100000

static void test_tool_table_100k_names(void **state)
{
	struct tool_table *t = tool_table__new(MANY_NAMES);
	char name[32];
	unsigned int i;

	(void)state;
	assert_non_null(t);
	for (i = 0; i < MANY_NAMES; i++) {
		snprintf(name, sizeof(name), "tool-%u", i);
		assert_int_equal(tool_table__intern(t, name), i + 1);
	}
	assert_int_equal(tool_table__count(t), MANY_NAMES + 1);
	for (i = 0; i < MANY_NAMES; i++) {
		snprintf(name, sizeof(name), "tool-%u", i);
		assert_int_equal(tool_table__intern(t, name), i + 1);
		assert_int_equal(tool_table__lookup(t, name), (int)i + 1);
	}
	for (i = 1; i <= MANY_NAMES; i += 9973) {
		snprintf(name, sizeof(name), "tool-%u", i - 1);
		assert_string_equal(tool_table__name(t, i), name);
	}
	assert_int_equal(tool_table__overflows(t), 0);
	assert_int_equal(tool_table__intern(t, "one-too-many"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__overflows(t), 1);
	assert_int_equal(tool_table__lookup(t, "tool-100000"), -1);
	tool_table__free(t);
}

static void test_tool_normalize_random_words(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
	    {"stress-ng-exec-19474-0-2271060608", "stress-ng-exec-*-0-*"},
	    {"memfd:sealed-91173221a7ea", "memfd:sealed-*"},
	    {"tmp_deadbeef1", "tmp_*"},
	    {"python3.11", "python3.11"},
	    {"sha256sum", "sha256sum"},
	    {"x86_64-linux-gnu-gcc-12", "x86_64-linux-gnu-gcc-12"},
	    {"deadbeef", "deadbeef"}, /* hex without a digit is a word */
	    {"2to3", "2to3"},
	    {"1234", "*"},
	    {"", ""},
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		strcpy(buf, cases[i].in);
		assert_int_equal(tool__normalize(buf), strcmp(cases[i].in, cases[i].want) != 0);
		assert_string_equal(buf, cases[i].want);
	}
}

static void test_tool_table_evict_frees_room_and_reuses_ids(void **state)
{
	struct tool_table *t = tool_table__new(2);
	unsigned int a, b, c;

	(void)state;
	a = tool_table__intern(t, "a");
	b = tool_table__intern(t, "b");
	assert_int_equal(tool_table__intern(t, "c"), TOOL_OTHER_ID);
	assert_int_equal(tool_table__evict(t, a), 0);
	assert_int_equal(tool_table__evict(t, a), -ENOENT);
	assert_int_equal(tool_table__evict(t, TOOL_OTHER_ID), -ENOENT);
	assert_int_equal(tool_table__evict(t, 99), -ENOENT);
	assert_null(tool_table__name(t, a));
	assert_int_equal(tool_table__lookup(t, "a"), -1);
	c = tool_table__intern(t, "c");
	assert_int_equal(c, a); /* the evicted id */
	assert_string_equal(tool_table__name(t, c), "c");
	assert_int_equal(tool_table__lookup(t, "b"), (int)b);
	assert_int_equal(tool_table__live(t), 2);
	assert_int_equal(tool_table__count(t), 3);
	assert_int_equal(tool_table__evictions(t), 1);
	assert_int_equal(tool_table__overflows(t), 1);
	tool_table__free(t);
}

/* Random interns and evictions against a plain array: the index never loses a name. */
static void test_tool_table_evict_keeps_index_consistent(void **state)
{
	enum { NAMES = 3000, CAP = 700 };
	struct tool_table *t = tool_table__new(CAP);
	static int id_of[NAMES];
	unsigned int seed = 7, live = 0;
	char name[32];

	(void)state;
	memset(id_of, 0, sizeof(id_of));
	for (int step = 0; step < 200000; step++) {
		int n;

		seed = seed * 1103515245u + 12345u;
		n = (int)((seed >> 8) % NAMES);
		snprintf(name, sizeof(name), "tool-%d", n);
		if (id_of[n] && (seed >> 20) % 3 == 0) {
			assert_int_equal(tool_table__evict(t, (unsigned int)id_of[n]), 0);
			id_of[n] = 0;
			live--;
		} else if (!id_of[n]) {
			unsigned int id = tool_table__intern(t, name);

			assert_true(id != TOOL_OTHER_ID || live == CAP);
			if (id) {
				id_of[n] = (int)id;
				live++;
			}
		}
		if (step % 5000 == 0) {
			for (int i = 0; i < NAMES; i++) {
				snprintf(name, sizeof(name), "tool-%d", i);
				assert_int_equal(tool_table__lookup(t, name),
						 id_of[i] ? id_of[i] : -1);
			}
		}
	}
	assert_int_equal(tool_table__live(t), live);
	assert_true(tool_table__count(t) <= CAP + 1);
	tool_table__free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_tool_name_plain_binary),
	    cmocka_unit_test(test_tool_argv_key_strips_versions),
	    cmocka_unit_test(test_tool_argv_keys_cover_every_name_argv_changes),
	    cmocka_unit_test(test_tool_argv_filter_passes_every_key_and_few_others),
	    cmocka_unit_test(test_tool_name_lookalike_is_not_interpreter),
	    cmocka_unit_test(test_tool_name_shell_script),
	    cmocka_unit_test(test_tool_name_shell_options_with_arguments),
	    cmocka_unit_test(test_tool_name_shell_inline_or_stdin_keeps_shell),
	    cmocka_unit_test(test_tool_name_python_module),
	    cmocka_unit_test(test_tool_name_python_script),
	    cmocka_unit_test(test_tool_name_python_inline_keeps_interpreter),
	    cmocka_unit_test(test_tool_name_node),
	    cmocka_unit_test(test_tool_name_perl),
	    cmocka_unit_test(test_tool_name_ruby),
	    cmocka_unit_test(test_tool_name_java),
	    cmocka_unit_test(test_tool_name_busybox),
	    cmocka_unit_test(test_tool_name_long_option_value_after_equals),
	    cmocka_unit_test(test_tool_name_shell_option_clusters),
	    cmocka_unit_test(test_tool_name_option_values_of_each_interpreter),
	    cmocka_unit_test(test_tool_name_java_words),
	    cmocka_unit_test(test_tool_name_busybox_shells_only),
	    cmocka_unit_test(test_tool_name_shebang_uses_script),
	    cmocka_unit_test(test_tool_name_env_shebang_is_env_once),
	    cmocka_unit_test(test_tool_name_fd_and_memfd_images_use_argv0),
	    cmocka_unit_test(test_tool_name_perl_zero_option_is_octal_or_hex),
	    cmocka_unit_test(test_tool_name_truncated_argv),
	    cmocka_unit_test(test_tool_normalize_random_words),
	    cmocka_unit_test(test_tool_table_evict_frees_room_and_reuses_ids),
	    cmocka_unit_test(test_tool_table_evict_keeps_index_consistent),
	    cmocka_unit_test(test_tool_name_empty_filename_falls_back),
	    cmocka_unit_test(test_tool_name_comm_read_at_most_16_bytes),
	    cmocka_unit_test(test_tool_name_long_name_truncated_at_utf8_boundary),
	    cmocka_unit_test(test_tool_name_hostile_input_stays_bounded),
	    cmocka_unit_test(test_tool_table_ids_dense_in_first_appearance_order),
	    cmocka_unit_test(test_tool_table_other_is_id_zero),
	    cmocka_unit_test(test_tool_table_cap_sends_new_names_to_other),
	    cmocka_unit_test(test_tool_table_zero_cap_tracks_nothing),
	    cmocka_unit_test(test_tool_table_keeps_own_copy),
	    cmocka_unit_test(test_tool_table_rejects_bad_cap),
	    cmocka_unit_test(test_tool_table_100k_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
