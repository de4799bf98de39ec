// SPDX-License-Identifier: GPL-2.0
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kernel/libc.h"

#define FUNC_MAX_BYTES 4096 /* an exec function longer than this is not scanned */

/* mov $nr,%eax; syscall */
static const unsigned char execve_insns[] = {0xb8, 0x3b, 0x00, 0x00, 0x00, 0x0f, 0x05};
static const unsigned char execveat_insns[] = {0xb8, 0x42, 0x01, 0x00, 0x00, 0x0f, 0x05};

/*
 * Functions whose own syscall instructions are the library's exec calls. Each probed page
 * is copied into every process that maps the library, at its start: execveat(3), called
 * directly by few (fexecve's own execveat is in fexecve), would add a page of its own.
 */
static const char *const exec_functions[] = {"execve", "fexecve"};

/* Whether a /proc/PID/maps path names a C library: glibc's libc.so.N, musl's loader. */
static bool is_libc(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return !strncmp(base, "libc.so.", 8) || !strncmp(base, "libc-", 5) ||
	       !strncmp(base, "ld-musl-", 8);
}

static unsigned int add_unique(char paths[][PATH_MAX], dev_t *devs, ino_t *inos, unsigned int n,
			       unsigned int max, const char *path)
{
	struct stat st;

	if (n >= max || stat(path, &st))
		return n;
	for (unsigned int i = 0; i < n; i++)
		if (devs[i] == st.st_dev && inos[i] == st.st_ino)
			return n;
	memcpy(paths[n], path, strlen(path) + 1); /* shorter than PATH_MAX: stat() took it */
	devs[n] = st.st_dev;
	inos[n] = st.st_ino;
	return n + 1;
}

unsigned int libc__find(char paths[][PATH_MAX], unsigned int max)
{
	static const char *const owners[][2] = {{"/proc/self/maps", ""},
						{"/proc/1/maps", "/proc/1/root"}};
	dev_t devs[LIBC_MAX_FILES];
	ino_t inos[LIBC_MAX_FILES];
	unsigned int n = 0;
	char line[PATH_MAX + 128], path[PATH_MAX];

	if (max > LIBC_MAX_FILES)
		max = LIBC_MAX_FILES;
	for (unsigned int o = 0; o < sizeof(owners) / sizeof(owners[0]); o++) {
		FILE *f = fopen(owners[o][0], "re");

		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *file = strchr(line, '/');

			if (!file)
				continue;
			file[strcspn(file, "\n")] = '\0';
			if (!is_libc(file) || strstr(file, " (deleted)"))
				continue;
			if (snprintf(path, sizeof(path), "%s%s", owners[o][1], file) >=
			    (int)sizeof(path))
				continue;
			n = add_unique(paths, devs, inos, n, max, path);
		}
		fclose(f);
	}
	return n;
}

/* File offset of virtual address vaddr in an executable PT_LOAD segment, or 0. */
static uint64_t file_offset(const Elf64_Phdr *ph, unsigned int nph, uint64_t vaddr)
{
	for (unsigned int i = 0; i < nph; i++)
		if (ph[i].p_type == PT_LOAD && (ph[i].p_flags & PF_X) && vaddr >= ph[i].p_vaddr &&
		    vaddr < ph[i].p_vaddr + ph[i].p_filesz)
			return vaddr - ph[i].p_vaddr + ph[i].p_offset;
	return 0;
}

/* The sites inside one function's bytes at file offset off. */
static unsigned int scan_function(int fd, uint64_t off, uint64_t size, struct libc_site *out,
				  unsigned int n, unsigned int max)
{
	unsigned char code[FUNC_MAX_BYTES];
	size_t len = sizeof(execve_insns);
	ssize_t got;

	if (!size || size > sizeof(code))
		return n;
	got = pread(fd, code, size, (off_t)off);
	if (got < (ssize_t)len)
		return n;
	for (size_t i = 0; i + len <= (size_t)got && n < max; i++) {
		enum libc_call call;
		bool dup = false;

		if (!memcmp(code + i, execve_insns, len))
			call = LIBC_EXECVE;
		else if (!memcmp(code + i, execveat_insns, len))
			call = LIBC_EXECVEAT;
		else
			continue;
		/* aliases (execve, __execve) share their code */
		for (unsigned int k = 0; k < n; k++)
			dup |= out[k].offset == off + i + len;
		if (!dup)
			out[n++] = (struct libc_site){.offset = off + i + len, .call = call};
	}
	return n;
}

int libc__sites(const char *path, struct libc_site *out, unsigned int max)
{
	Elf64_Ehdr eh;
	Elf64_Phdr *ph = NULL;
	Elf64_Shdr *sh = NULL;
	Elf64_Sym *syms = NULL;
	char *names = NULL;
	unsigned int n = 0;
	int fd, err = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) ||
	    eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_type != ET_DYN ||
	    eh.e_machine != EM_X86_64 || eh.e_phentsize != sizeof(*ph) ||
	    eh.e_shentsize != sizeof(*sh) || !eh.e_phnum || !eh.e_shnum) {
		err = -ENOEXEC;
		goto out;
	}
	ph = calloc(eh.e_phnum, sizeof(*ph));
	sh = calloc(eh.e_shnum, sizeof(*sh));
	if (!ph || !sh) {
		err = -ENOMEM;
		goto out;
	}
	if (pread(fd, ph, eh.e_phnum * sizeof(*ph), (off_t)eh.e_phoff) !=
		(ssize_t)(eh.e_phnum * sizeof(*ph)) ||
	    pread(fd, sh, eh.e_shnum * sizeof(*sh), (off_t)eh.e_shoff) !=
		(ssize_t)(eh.e_shnum * sizeof(*sh))) {
		err = -ENOEXEC;
		goto out;
	}
	for (unsigned int s = 0; s < eh.e_shnum && !err; s++) {
		const Elf64_Shdr *str;
		size_t nsyms;

		if (sh[s].sh_type != SHT_DYNSYM || sh[s].sh_link >= eh.e_shnum ||
		    sh[s].sh_entsize != sizeof(*syms) || sh[s].sh_size > (64u << 20))
			continue;
		str = &sh[sh[s].sh_link];
		if (str->sh_size > (64u << 20))
			continue;
		nsyms = sh[s].sh_size / sizeof(*syms);
		syms = malloc(sh[s].sh_size);
		names = malloc(str->sh_size + 1);
		if (!syms || !names) {
			err = -ENOMEM;
			break;
		}
		if (pread(fd, syms, sh[s].sh_size, (off_t)sh[s].sh_offset) !=
			(ssize_t)sh[s].sh_size ||
		    pread(fd, names, str->sh_size, (off_t)str->sh_offset) !=
			(ssize_t)str->sh_size) {
			err = -ENOEXEC;
			break;
		}
		names[str->sh_size] = '\0';
		for (size_t i = 0; i < nsyms; i++) {
			const char *name;
			uint64_t off;

			if (ELF64_ST_TYPE(syms[i].st_info) != STT_FUNC || !syms[i].st_value ||
			    syms[i].st_name >= str->sh_size)
				continue;
			name = names + syms[i].st_name;
			for (unsigned int f = 0;
			     f < sizeof(exec_functions) / sizeof(exec_functions[0]); f++) {
				if (strcmp(name, exec_functions[f]))
					continue;
				off = file_offset(ph, eh.e_phnum, syms[i].st_value);
				if (off)
					n = scan_function(fd, off, syms[i].st_size, out, n, max);
			}
		}
		free(syms);
		free(names);
		syms = NULL;
		names = NULL;
	}
out:
	free(syms);
	free(names);
	free(ph);
	free(sh);
	close(fd);
	return err ? err : (int)n;
}
