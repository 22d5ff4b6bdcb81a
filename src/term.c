/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * term.c - the interactive terminal of connect and single-peer listen.
 *
 * Each line typed goes to the peer with "\n" (or "\r\n" with --crlf); what
 * the peer sends is printed above the prompt, with control bytes and
 * invalid UTF-8 escaped (\x1b) so a peer can never drive the terminal.
 * With GNU readline (the only file that includes it) the line editor keeps
 * its history in $XDG_STATE_HOME/sockit/history; without it, or when stdin
 * or stdout is not a terminal (--interactive in a pipe), lines are read
 * plainly and the kernel's line discipline does the editing. readline is
 * opened with dlopen when a terminal session starts, not linked: every other
 * run of sockit (a pipe, a script, --version) is spared loading it and
 * libtinfo, which is most of the start-up time nc.openbsd does not pay.
 *
 * The loop drives everything: stdin readable -> one readline step, socket
 * readable -> print, socket writable -> send the queued line. While a line
 * waits to be sent no more input is read, so memory stays bounded.
 */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if CLI_HAVE_READLINE
#include <dlfcn.h>
#include <stddef.h>
#include <readline/history.h>
#include <readline/readline.h>

#define RL_STR(x) #x
#define RL_SONAME(major) "libreadline.so." RL_STR(major)
#define READLINE_SONAME RL_SONAME(RL_VERSION_MAJOR)

/* The part of readline the terminal uses, from the library opened at run time. */
static struct readline_api {
	__typeof__(add_history) *add_history;
	__typeof__(clear_history) *clear_history;
	__typeof__(history_get) *history_get;
	__typeof__(history_list) *history_list;
	__typeof__(stifle_history) *stifle_history;
	__typeof__(rl_bind_key) *rl_bind_key;
	__typeof__(rl_callback_handler_install) *rl_callback_handler_install;
	__typeof__(rl_callback_handler_remove) *rl_callback_handler_remove;
	__typeof__(rl_callback_read_char) *rl_callback_read_char;
	__typeof__(rl_clear_visible_line) *rl_clear_visible_line;
	__typeof__(rl_forced_update_display) *rl_forced_update_display;
	__typeof__(rl_insert) *rl_insert;
	__typeof__(rl_reset_screen_size) *rl_reset_screen_size;
	int *history_base, *history_length;
	int *rl_catch_signals, *rl_catch_sigwinch, *rl_change_environment;
	const char **rl_readline_name;
} rl;

#define RL_SYM(name) { #name, offsetof(struct readline_api, name) }

/* Open readline once; false (plain lines, then) when it is not installed or lacks a symbol. */
static bool readline_open(void)
{
	static const struct {
		const char *name;
		size_t offset;
	} syms[] = {
		RL_SYM(add_history), RL_SYM(clear_history), RL_SYM(history_get),
		RL_SYM(history_list), RL_SYM(stifle_history), RL_SYM(rl_bind_key),
		RL_SYM(rl_callback_handler_install), RL_SYM(rl_callback_handler_remove),
		RL_SYM(rl_callback_read_char), RL_SYM(rl_clear_visible_line),
		RL_SYM(rl_forced_update_display), RL_SYM(rl_insert), RL_SYM(rl_reset_screen_size),
		RL_SYM(history_base), RL_SYM(history_length), RL_SYM(rl_catch_signals),
		RL_SYM(rl_catch_sigwinch), RL_SYM(rl_change_environment), RL_SYM(rl_readline_name),
	};
	static int state; /* 0 not tried, 1 open, -1 unavailable */
	void *lib;

	if (state)
		return state > 0;
	state = -1;
	/* The major version of the headers compiled against names the ABI. */
	lib = dlopen(READLINE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!lib)
		return false;
	for (size_t i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
		void *addr = dlsym(lib, syms[i].name);

		if (!addr) {
			dlclose(lib);
			memset(&rl, 0, sizeof(rl));
			return false;
		}
		/* POSIX dlsym: a function's address fits a void *; copy it into its typed slot. */
		memcpy((char *)&rl + syms[i].offset, &addr, sizeof(addr));
	}
	state = 1;
	return true; /* kept open for the rest of the process */
}
#endif

#define PROMPT "> "
#define RECV_CHUNK (16 * 1024)
/* An unfinished line from the peer is shown once it holds this much text... */
#define PARTIAL_MAX 4096
/* ...or after this long without its newline (a "login: " prompt, say). */
#define PARTIAL_FLUSH_MS 200
/* Input read without a newline is sent as it is once this long. */
#define LINE_MAX_LEN (64 * 1024)
/* Worst case: every byte escaped as \xNN. */
#define TEXT_CAP (4 * (RECV_CHUNK + 4) + PARTIAL_MAX + 16)
#define HISTORY_MAX 1000

struct term {
	const struct cli_ctx *ctx;
	struct sk_loop *loop;
	int sock, socktype;
	const char *name;
	bool editor;     /* readline owns the terminal (stdin and stdout are TTYs) */
	bool in_handler; /* inside readline's line callback: the prompt is not on screen */
	bool tty_out;    /* the plain mode prints a prompt */
	bool prompted;   /* the plain mode's prompt is on screen */
	bool input_done; /* Ctrl-D or stdin EOF: no more lines */
	bool shut;       /* SHUT_WR sent */
	bool peer_eof;
	bool utf8;       /* the locale's charset is UTF-8: valid sequences print as they are */
	bool stopped;
	int status;
	struct sk_err err;
	enum cli_phase phase;
	/* to the peer: the queued line(s) */
	char *sendq;
	size_t send_head, send_len, send_cap;
	/* from the peer: escaped text; what follows the last '\n' is the unfinished line */
	char *text;
	size_t text_len;
	unsigned char held[4]; /* an incomplete UTF-8 sequence or a CR at a chunk's end */
	size_t nheld;
	int flush_timer, idle_timer;
	int64_t last_activity;
	struct cli_trace trace;
	/* the plain mode: the line being read */
	char *line;
	size_t line_len;
	char *history; /* NULL: no history file */
};

/* readline's callbacks take no userdata. */
static struct term *active;

static void update_interest(struct term *t);

static void stop(struct term *t, int status)
{
	t->stopped = true;
	t->status = status;
	sk_loop_stop(t->loop, 0);
}

static void stop_failed(struct term *t, enum cli_phase phase, int code, const char *verb)
{
	char why[256];

	t->phase = phase;
	t->err = (struct sk_err){ .code = code, .pos = -1 };
	snprintf(t->err.what, sizeof(t->err.what), "%s %.140s", verb, t->name);
	snprintf(t->err.why, sizeof(t->err.why), "%s", sk_strerror(code, why, sizeof(why)));
	stop(t, -1);
}

/* ---- the prompt: hidden while text is printed above it ------------------------------ */

static void prompt_hide(struct term *t)
{
	if (t->in_handler)
		return;
#if CLI_HAVE_READLINE
	if (t->editor) {
		rl.rl_clear_visible_line();
		fflush(stdout); /* before anything goes to stderr */
		return;
	}
#endif
	if (t->tty_out && !t->input_done)
		fputs("\r\033[K", stdout);
	t->prompted = false;
	fflush(stdout);
}

static void prompt_show(struct term *t)
{
	fflush(stdout);
	fflush(stderr);
	if (t->in_handler)
		return; /* readline shows the prompt after the handler */
#if CLI_HAVE_READLINE
	if (t->editor) {
		rl.rl_forced_update_display();
		return;
	}
#endif
	if (t->tty_out && !t->input_done && !t->prompted) {
		fputs(PROMPT, stdout);
		fflush(stdout);
		t->prompted = true;
	}
}

/* ---- from the peer ------------------------------------------------------------------ */

/*
 * Length of the UTF-8 sequence at p (n bytes available): > 0 when valid
 * and printable (not a C1 control, which some terminals obey), 0 when it
 * may yet be completed by more bytes, -1 when invalid.
 */
static int utf8_len(const unsigned char *p, size_t n)
{
	unsigned len, min;
	unsigned long c;

	if (p[0] >= 0xc2 && p[0] <= 0xdf) {
		len = 2, min = 0x80, c = p[0] & 0x1f;
	} else if ((p[0] & 0xf0) == 0xe0) {
		len = 3, min = 0x800, c = p[0] & 0x0f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4, min = 0x10000, c = p[0] & 0x07;
	} else {
		return -1;
	}
	for (unsigned i = 1; i < len; i++) {
		if (i >= n)
			return 0;
		if ((p[i] & 0xc0) != 0x80)
			return -1;
		c = c << 6 | (p[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff) || c <= 0x9f)
		return -1;
	return (int)len;
}

static void add_escaped(struct term *t, unsigned char b)
{
	static const char hex[] = "0123456789abcdef";

	t->text[t->text_len++] = '\\';
	t->text[t->text_len++] = 'x';
	t->text[t->text_len++] = hex[b >> 4];
	t->text[t->text_len++] = hex[b & 15];
}

/*
 * Append the peer's bytes to t->text as terminal-safe text. \r\n is a line
 * end like \n; a CR or an incomplete UTF-8 sequence at the very end is held
 * back until the next bytes (or the end) say what it is.
 */
static void take_bytes(struct term *t, const unsigned char *data, size_t len, bool final)
{
	unsigned char work[RECV_CHUNK + sizeof(t->held)];
	size_t n = t->nheld, i = 0;

	memcpy(work, t->held, t->nheld);
	if (len)
		memcpy(work + n, data, len);
	n += len;
	t->nheld = 0;
	while (i < n) {
		unsigned char b = work[i];
		int seq;

		if (b == '\r' && i + 1 == n && !final) {
			t->held[t->nheld++] = b;
			break;
		}
		if (b == '\r' && i + 1 < n && work[i + 1] == '\n') {
			i++;
			continue;
		}
		if (b == '\n' || b == '\t' || (b >= 0x20 && b < 0x7f)) {
			t->text[t->text_len++] = (char)b;
			i++;
			continue;
		}
		seq = b >= 0x80 && t->utf8 ? utf8_len(work + i, n - i) : -1;
		if (seq == 0 && !final) {
			memcpy(t->held, work + i, n - i);
			t->nheld = n - i;
			break;
		}
		if (seq > 0) {
			memcpy(t->text + t->text_len, work + i, (size_t)seq);
			t->text_len += (size_t)seq;
			i += (size_t)seq;
			continue;
		}
		add_escaped(t, b);
		i++;
	}
}

/* Print the complete lines of t->text, and the unfinished one too when told to or too long. */
static void print_text(struct term *t, bool whole)
{
	char *end = memrchr(t->text, '\n', t->text_len);
	size_t done = end ? (size_t)(end - t->text) + 1 : 0;

	if (t->text_len - done >= PARTIAL_MAX)
		whole = true;
	if (whole && t->text_len > done) {
		t->text[t->text_len++] = '\n';
		done = t->text_len;
	}
	if (done) {
		fwrite(t->text, 1, done, stdout);
		memmove(t->text, t->text + done, t->text_len - done);
		t->text_len -= done;
	}
	if (t->text_len == 0 && t->flush_timer > 0) {
		sk_loop_cancel_timer(t->loop, t->flush_timer);
		t->flush_timer = 0;
	}
}

static void on_flush_timer(struct sk_loop *loop, void *userdata)
{
	struct term *t = userdata;

	t->flush_timer = 0;
	prompt_hide(t);
	print_text(t, true);
	prompt_show(t);
}

static void finish_if_done(struct term *t);
static void input_end(struct term *t);

static void peer_done(struct term *t)
{
	t->peer_eof = true;
	take_bytes(t, NULL, 0, true);
	prompt_hide(t);
	print_text(t, true);
	if (!t->input_done)
		cli_log(t->ctx, 0, "connection closed by peer");
	/* The session ends with the peer: nobody is left to read what is typed. */
	input_end(t);
	finish_if_done(t);
	if (!t->stopped)
		prompt_show(t);
}

static void sock_read(struct term *t)
{
	unsigned char buf[RECV_CHUNK];
	ssize_t n = recv(t->sock, buf, sizeof(buf), MSG_DONTWAIT);

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n < 0) {
		stop_failed(t, CLI_TRANSFER, errno == EPIPE ? -ECONNRESET : -errno,
			"receive from");
		return;
	}
	if (n == 0 && t->socktype != SOCK_DGRAM) {
		peer_done(t);
		return;
	}
	t->last_activity = sk_loop_now(t->loop);
	prompt_hide(t);
	cli_trace(SK_PUMP_B_TO_A, buf, (size_t)n, &t->trace);
	take_bytes(t, buf, (size_t)n, false);
	/* A datagram is a message: it ends its line. */
	print_text(t, t->socktype == SOCK_DGRAM);
	prompt_show(t);
	if (t->text_len && t->flush_timer <= 0)
		t->flush_timer = sk_loop_add_timer(t->loop, PARTIAL_FLUSH_MS, on_flush_timer, t);
}

/* ---- to the peer -------------------------------------------------------------------- */

static void finish_if_done(struct term *t)
{
	if (!t->input_done || t->send_len > t->send_head || t->stopped)
		return;
	if (t->socktype == SOCK_DGRAM || t->peer_eof) {
		/* A datagram flow has no EOF to wait for. */
		stop(t, 0);
		return;
	}
	if (!t->shut) {
		shutdown(t->sock, SHUT_WR);
		t->shut = true;
	}
}

static void send_queued(struct term *t)
{
	while (t->send_len > t->send_head) {
		ssize_t n = send(t->sock, t->sendq + t->send_head, t->send_len - t->send_head,
			MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == ENOBUFS))
			return;
		if (n < 0) {
			stop_failed(t, CLI_TRANSFER, errno == EPIPE ? -ECONNRESET : -errno,
				"send to");
			return;
		}
		if (cli_trace_wanted(t->ctx)) {
			prompt_hide(t);
			cli_trace(SK_PUMP_A_TO_B, t->sendq + t->send_head, (size_t)n, &t->trace);
			prompt_show(t);
		}
		t->send_head += (size_t)n;
		t->last_activity = sk_loop_now(t->loop);
	}
	t->send_head = t->send_len = 0;
	finish_if_done(t);
}

/* Queue bytes for the peer; false when memory ran out (the session then stops). */
static bool queue(struct term *t, const char *data, size_t len)
{
	if (t->send_len + len > t->send_cap) {
		size_t cap = (t->send_len + len) * 2;
		char *p = realloc(t->sendq, cap);

		if (!p) {
			stop_failed(t, CLI_TRANSFER, -ENOMEM, "send to");
			return false;
		}
		t->sendq = p;
		t->send_cap = cap;
	}
	memcpy(t->sendq + t->send_len, data, len);
	t->send_len += len;
	return true;
}

/* One line typed; eol says whether it ended with Enter. */
static void send_line(struct term *t, const char *line, size_t len, bool eol)
{
	const char *end = t->ctx->stdio.crlf ? "\r\n" : "\n";

	if (!queue(t, line, len) || (eol && !queue(t, end, strlen(end))))
		return;
	send_queued(t);
}

static void editor_end(struct term *t);

/* No more input (Ctrl-D, stdin EOF, or the peer left): a plain unfinished line still goes. */
static void input_end(struct term *t)
{
	if (t->input_done)
		return;
	t->input_done = true;
	sk_loop_del_fd(t->loop, STDIN_FILENO);
	editor_end(t);
	if (t->line_len)
		send_line(t, t->line, t->line_len, false);
	t->line_len = 0;
}

/* ---- input: readline ---------------------------------------------------------------- */

#if CLI_HAVE_READLINE

/* Make each directory of path that is missing, mode 0700; true when the last is ours. */
static bool make_private_dir(char *path, size_t keep)
{
	struct stat st;

	for (char *p = path + keep; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(path, 0700) < 0 && errno != EEXIST) {
			*p = '/';
			return false;
		}
		*p = '/';
	}
	if (mkdir(path, 0700) < 0 && errno != EEXIST)
		return false;
	return lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_uid == geteuid();
}

/*
 * $XDG_STATE_HOME/sockit/history, else ~/.local/state/sockit/history. Only
 * an absolute path from the environment counts; without one there is no
 * history file (never a fallback under /tmp). Returns NULL or a malloc'd path.
 */
static char *history_path(void)
{
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	struct cli_text dir = { 0 };
	size_t keep;
	char *path = NULL;

	if (xdg && xdg[0] == '/') {
		cli_text_add(&dir, xdg);
		keep = 1; /* create XDG_STATE_HOME too */
	} else if (home && home[0] == '/') {
		cli_text_add(&dir, home);
		keep = dir.len; /* never create HOME itself */
		cli_text_add(&dir, "/.local/state");
	} else {
		return NULL;
	}
	cli_text_add(&dir, "/sockit");
	if (!dir.failed && make_private_dir(dir.text, keep)) {
		struct cli_text file = { 0 };

		cli_text_addf(&file, "%s/history", dir.text);
		path = file.failed ? NULL : file.text;
		if (!path)
			free(file.text);
	}
	free(dir.text);
	return path;
}

static int history_open(const char *path, int flags)
{
	int fd = open(path, flags | O_NOFOLLOW | O_CLOEXEC, 0600);
	struct stat st;

	if (fd >= 0 && (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid())) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Replace the file with the entries in memory (at most HISTORY_MAX), atomically. */
static void history_rewrite(const char *path)
{
	struct cli_text tmp = { 0 };
	HIST_ENTRY **list = rl.history_list();
	FILE *f;
	int fd;

	cli_text_addf(&tmp, "%s.new", path);
	if (tmp.failed)
		return;
	unlink(tmp.text);
	fd = history_open(tmp.text, O_WRONLY | O_CREAT | O_EXCL);
	f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		free(tmp.text);
		return;
	}
	for (size_t i = 0; list && list[i]; i++)
		fprintf(f, "%s\n", list[i]->line);
	if (fclose(f) == 0)
		rename(tmp.text, path);
	else
		unlink(tmp.text);
	free(tmp.text);
}

static void history_load(struct term *t)
{
	char *line = NULL;
	size_t cap = 0, lines = 0;
	ssize_t n;
	FILE *f;
	int fd;

	rl.stifle_history(HISTORY_MAX);
	t->history = history_path();
	if (!t->history)
		return;
	fd = history_open(t->history, O_RDONLY);
	f = fd >= 0 ? fdopen(fd, "r") : NULL;
	if (!f) {
		if (fd >= 0)
			close(fd);
		return;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[n - 1] = '\0';
		rl.add_history(line);
		lines++;
	}
	free(line);
	fclose(f);
	/* Appending one line at a time, the file is trimmed when it is twice the bound. */
	if (lines > 2 * HISTORY_MAX)
		history_rewrite(t->history);
}

/* Remember a line, in memory and at the end of the file. A line that starts
 * with a space is left out (as bash's ignorespace), and so is a repeat. */
static void history_keep(struct term *t, const char *line)
{
	int length = *rl.history_length;
	HIST_ENTRY *last = length > 0 ? rl.history_get(*rl.history_base + length - 1) : NULL;
	size_t len = strlen(line);
	int fd;

	if (!*line || *line == ' ' || (last && strcmp(last->line, line) == 0))
		return;
	rl.add_history(line);
	if (!t->history)
		return;
	fd = history_open(t->history, O_WRONLY | O_APPEND | O_CREAT);
	if (fd < 0)
		return;
	/* One write per entry, so concurrent sessions never interleave inside one. */
	char *rec = malloc(len + 1);

	if (rec) {
		memcpy(rec, line, len);
		rec[len] = '\n';
		if (write(fd, rec, len + 1) < 0)
			cli_log(t->ctx, 2, "history %s: %s", t->history, strerror(errno));
		free(rec);
	}
	close(fd);
}

static void on_readline_line(char *line)
{
	struct term *t = active;

	t->in_handler = true;
	if (!line) {
		/* Ctrl-D on an empty line: EOF to the peer, keep showing what it sends. */
		input_end(t);
		finish_if_done(t);
	} else {
		history_keep(t, line);
		send_line(t, line, strlen(line), true);
		free(line);
	}
	t->in_handler = false;
	update_interest(t);
}

static void editor_start(struct term *t)
{
	*rl.rl_readline_name = "sockit";
	/* Signals come through the loop's signalfd; readline installs no handlers. */
	*rl.rl_catch_signals = 0;
	*rl.rl_catch_sigwinch = 0;
	*rl.rl_change_environment = 0;
	/* Tab is data in a socket session, not file-name completion. */
	rl.rl_bind_key('\t', rl.rl_insert);
	history_load(t);
	rl.rl_callback_handler_install(PROMPT, on_readline_line);
}

static void editor_read(struct term *t)
{
	/* No SIGWINCH handler: pick up a resized window before each key. */
	rl.rl_reset_screen_size();
	rl.rl_callback_read_char();
}

/* Give the terminal back; a typed but unsent line stays visible. */
static void editor_end(struct term *t)
{
	if (!t->editor)
		return;
	/* In the handler (Ctrl-D) readline has finished the line itself. */
	if (!t->in_handler)
		fputc('\n', stdout);
	rl.rl_callback_handler_remove();
	t->editor = false;
	fflush(stdout);
}

static void editor_stop(struct term *t)
{
	editor_end(t);
	if (rl.clear_history) /* readline was opened: a session without a terminal never does */
		rl.clear_history();
}

#else /* !CLI_HAVE_READLINE */

#define READLINE_SONAME "libreadline"

static bool readline_open(void)
{
	return false;
}

static void editor_start(struct term *t)
{
}

static void editor_read(struct term *t)
{
}

static void editor_end(struct term *t)
{
}

static void editor_stop(struct term *t)
{
}

#endif

/* ---- input: plain lines ------------------------------------------------------------- */

static void plain_read(struct term *t)
{
	char buf[4096];
	ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		prompt_hide(t);
		input_end(t);
		finish_if_done(t);
		return;
	}
	for (ssize_t i = 0; i < n && !t->stopped; i++) {
		if (buf[i] == '\n') {
			t->prompted = false; /* the terminal echoed the newline */
			send_line(t, t->line, t->line_len, true);
			t->line_len = 0;
			prompt_show(t);
			continue;
		}
		t->line[t->line_len++] = buf[i];
		if (t->line_len == LINE_MAX_LEN) {
			send_line(t, t->line, t->line_len, false);
			t->line_len = 0;
		}
	}
}

/* ---- the loop ----------------------------------------------------------------------- */

static void update_interest(struct term *t)
{
	bool sending = t->send_len > t->send_head;

	if (t->stopped)
		return;
	if (!t->input_done)
		sk_loop_mod_fd(t->loop, STDIN_FILENO, sending ? 0 : SK_EV_IN);
	sk_loop_mod_fd(t->loop, t->sock, (t->peer_eof ? 0 : SK_EV_IN) | (sending ? SK_EV_OUT : 0));
}

static void on_stdin(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct term *t = userdata;

	if (t->editor)
		editor_read(t);
	else
		plain_read(t);
	update_interest(t);
}

static void on_sock(struct sk_loop *loop, int fd, unsigned events, void *userdata)
{
	struct term *t = userdata;

	if (events & SK_EV_OUT)
		send_queued(t);
	if (!t->stopped && !t->peer_eof && (events & (SK_EV_IN | SK_EV_HUP | SK_EV_ERR)))
		sock_read(t);
	update_interest(t);
}

static void on_idle(struct sk_loop *loop, void *userdata)
{
	struct term *t = userdata;
	int64_t quiet = sk_loop_now(loop) - t->last_activity;

	t->idle_timer = 0;
	if (quiet < t->ctx->idle_timeout_ms) {
		t->idle_timer = sk_loop_add_timer(loop, t->ctx->idle_timeout_ms - quiet, on_idle, t);
		return;
	}
	t->phase = CLI_TRANSFER;
	t->err = (struct sk_err){ .code = SK_EIDLE, .pos = -1 };
	snprintf(t->err.what, sizeof(t->err.what), "session with %.140s", t->name);
	snprintf(t->err.why, sizeof(t->err.why), "no data for the idle timeout");
	stop(t, -1);
}

bool cli_term_wanted(const struct cli_ctx *ctx)
{
	return ctx->stdio.interactive || (isatty(STDIN_FILENO) && isatty(STDOUT_FILENO));
}

static int term_setup(struct term *t)
{
	t->text = malloc(TEXT_CAP);
	t->line = malloc(LINE_MAX_LEN);
	if (!t->text || !t->line)
		return -ENOMEM;
	setlocale(LC_CTYPE, "");
	t->tty_out = isatty(STDOUT_FILENO);
	t->editor = isatty(STDIN_FILENO) && t->tty_out && readline_open();
	if (t->editor)
		editor_start(t);
	else if (CLI_HAVE_READLINE && isatty(STDIN_FILENO) && t->tty_out)
		cli_log(t->ctx, 1, "GNU readline (%s) could not be opened: plain line input",
			READLINE_SONAME);
	t->utf8 = strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
	t->last_activity = sk_loop_now(t->loop);
	if (sk_loop_add_fd(t->loop, STDIN_FILENO, SK_EV_IN, on_stdin, t) < 0 ||
		sk_loop_add_fd(t->loop, t->sock, SK_EV_IN, on_sock, t) < 0)
		return -ENOMEM;
	if (t->ctx->idle_timeout_ms > 0)
		t->idle_timer = sk_loop_add_timer(t->loop, t->ctx->idle_timeout_ms, on_idle, t);
	if (!t->editor)
		prompt_show(t);
	return 0;
}

static void term_teardown(struct term *t)
{
	/* Stopped by a signal: leave the shell a fresh line. */
	if (!t->stopped && !t->editor && t->tty_out && !t->input_done)
		fputc('\n', stdout);
	editor_stop(t);
	if (t->flush_timer > 0)
		sk_loop_cancel_timer(t->loop, t->flush_timer);
	if (t->idle_timer > 0)
		sk_loop_cancel_timer(t->loop, t->idle_timer);
	if (!t->input_done)
		sk_loop_del_fd(t->loop, STDIN_FILENO);
	sk_loop_del_fd(t->loop, t->sock);
	fflush(stdout);
	free(t->sendq);
	free(t->text);
	free(t->line);
	free(t->history);
	active = NULL;
}

int cli_term_run(const struct cli_ctx *ctx, struct sk_loop *loop, int sock, const char *name,
	int socktype, bool local_is_client)
{
	struct term t = {
		.ctx = ctx,
		.loop = loop,
		.sock = sock,
		.socktype = socktype,
		.name = name,
	};
	int rc;

	cli_trace_start(&t.trace, ctx, sock, local_is_client, SK_PUMP_A_TO_B);
	active = &t;
	rc = term_setup(&t);
	if (rc < 0) {
		term_teardown(&t);
		return cli_fail(ctx, CLI_SETUP, rc, NULL);
	}
	rc = sk_loop_run(loop);
	term_teardown(&t);
	if (!t.stopped)
		return rc; /* a signal: 128+N */
	if (t.status < 0)
		return cli_fail(ctx, t.phase, t.err.code, &t.err);
	return t.status;
}
