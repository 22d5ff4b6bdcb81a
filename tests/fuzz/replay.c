/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * replay.c - run a fuzz target's LLVMFuzzerTestOneInput over every file in
 * the given directories (sorted, dot files skipped) and print TAP, so that
 * the corpus is a regression suite under any compiler, libFuzzer or not.
 * A target reports a broken invariant by aborting; the case it died on is
 * then printed as "not ok" before the process goes down.
 */
#include "fuzz.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

/* Set by the sanitizer runtimes only; NULL in a plain build. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

static char dying_line[4096]; /* "not ok N - FILE\n" for the input being run */
static size_t dying_len;

static void say_dying(void)
{
	if (dying_len && write(STDOUT_FILENO, dying_line, dying_len) < 0)
		dying_len = 0;
}

static void on_fatal_signal(int signo)
{
	say_dying();
	signal(signo, SIG_DFL);
	raise(signo);
}

static void watch_deaths(void)
{
	if (__sanitizer_set_death_callback) {
		/* Leave SIGSEGV to the sanitizer, which reports the stack. */
		__sanitizer_set_death_callback(say_dying);
		signal(SIGABRT, on_fatal_signal);
		return;
	}
	signal(SIGABRT, on_fatal_signal);
	signal(SIGSEGV, on_fatal_signal);
	signal(SIGBUS, on_fatal_signal);
	signal(SIGFPE, on_fatal_signal);
	signal(SIGILL, on_fatal_signal);
}

static int read_file(const char *path, uint8_t **data, size_t *size)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	size_t len = 0, cap = 0, got;

	if (!f)
		return -1;
	do {
		if (len == cap) {
			uint8_t *grown = realloc(buf, cap ? cap * 2 : 4096);

			if (!grown) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = grown;
			cap = cap ? cap * 2 : 4096;
		}
		got = fread(buf + len, 1, cap - len, f);
		len += got;
	} while (got);
	if (ferror(f)) {
		free(buf);
		fclose(f);
		return -1;
	}
	fclose(f);
	/* An exact-size copy, as libFuzzer hands it over: ASan sees over-reads. */
	*data = malloc(len ? len : 1);
	if (!*data) {
		free(buf);
		return -1;
	}
	if (len)
		memcpy(*data, buf, len);
	*size = len;
	free(buf);
	return 0;
}

static int skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Replay one directory; returns the number of failed cases. */
static int replay_dir(const char *dir, int *n)
{
	struct dirent **names;
	int count = scandir(dir, &names, skip_dot, alphasort), failed = 0;

	if (count < 0) {
		printf("not ok %d - %s: cannot read the directory\n", ++*n, dir);
		return 1;
	}
	if (count == 0) {
		printf("not ok %d - %s: no corpus files\n", ++*n, dir);
		free(names);
		return 1;
	}
	for (int i = 0; i < count; i++) {
		char path[4000];
		struct stat st;
		uint8_t *data;
		size_t size;
		int len = snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);

		free(names[i]);
		if (len < 0 || (size_t)len >= sizeof(path) || stat(path, &st) < 0 ||
			!S_ISREG(st.st_mode))
			continue;
		++*n;
		if (read_file(path, &data, &size) < 0) {
			printf("not ok %d - %s: cannot read\n", *n, path);
			failed++;
			continue;
		}
		len = snprintf(dying_line, sizeof(dying_line), "not ok %d - %s\n", *n, path);
		dying_len = len > 0 && (size_t)len < sizeof(dying_line) ? (size_t)len : 0;
		fflush(stdout);
		LLVMFuzzerTestOneInput(data, size);
		dying_len = 0;
		free(data);
		printf("ok %d - %s\n", *n, path);
	}
	free(names);
	return failed;
}

int main(int argc, char **argv)
{
	int n = 0, failed = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s CORPUS_DIR...\n", argv[0]);
		return 2;
	}
	watch_deaths();
	for (int i = 1; i < argc; i++)
		failed += replay_dir(argv[i], &n);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
