/* Logging: stderr, with <N> priority prefixes when stderr is the journal. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

static const char	*log_progname = "shmd";
static enum log_level	 log_current = LOG_LEVEL_INFO;
static int		 log_journal;

static const struct {
	const char	*name;
	enum log_level	 level;
} log_levels[] = {
	{ "err", LOG_LEVEL_ERR },
	{ "warning", LOG_LEVEL_WARNING },
	{ "notice", LOG_LEVEL_NOTICE },
	{ "info", LOG_LEVEL_INFO },
	{ "debug", LOG_LEVEL_DEBUG },
};

void
log_init(const char *progname, enum log_level level)
{
	log_progname = progname;
	log_current = level;
	/* systemd sets JOURNAL_STREAM when stderr is connected to journald. */
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

void
log_set_level(enum log_level level)
{
	log_current = level;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	size_t	i;

	for (i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++) {
		if (strcmp(s, log_levels[i].name) == 0) {
			*out = log_levels[i].level;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	size_t	i;

	for (i = 0; i < sizeof log_levels / sizeof log_levels[0]; i++)
		if (log_levels[i].level == level)
			return log_levels[i].name;
	return "?";
}

/*
 * Control characters as \xNN: text a client sent (a method name, say)
 * can neither end a line nor start a forged one. One event, one line.
 */
static void
log_escape(const char *in, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)in;
	size_t			 o = 0;

	for (; *s != '\0' && o + 5 < outlen; s++) {
		if (*s < 0x20 || *s == 0x7f) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[*s >> 4];
			out[o++] = hex[*s & 0xf];
		} else
			out[o++] = (char)*s;
	}
	out[o] = '\0';
}

static void
log_vwrite(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	char	raw[1024], line[4 * sizeof raw];

	if (level > log_current)
		return;
	vsnprintf(raw, sizeof raw, fmt, ap);
	log_escape(raw, line, sizeof line);
	if (log_journal)
		fprintf(stderr, "<%d>%s%s%s\n", (int)level, line,
		    suffix ? ": " : "", suffix ? suffix : "");
	else
		fprintf(stderr, "%s: %s%s%s\n", log_progname, line,
		    suffix ? ": " : "", suffix ? suffix : "");
	fflush(stderr);
}

#define LOG_FUNCTION(fn, level)					\
void								\
fn(const char *fmt, ...)					\
{								\
	va_list	ap;						\
								\
	va_start(ap, fmt);					\
	log_vwrite(level, NULL, fmt, ap);			\
	va_end(ap);						\
}

LOG_FUNCTION(log_debug, LOG_LEVEL_DEBUG)
LOG_FUNCTION(log_info, LOG_LEVEL_INFO)
LOG_FUNCTION(log_notice, LOG_LEVEL_NOTICE)
LOG_FUNCTION(log_warnx, LOG_LEVEL_WARNING)
LOG_FUNCTION(log_errx, LOG_LEVEL_ERR)

void
log_warn(const char *fmt, ...)
{
	va_list	ap;
	int	saved = errno;

	va_start(ap, fmt);
	log_vwrite(LOG_LEVEL_WARNING, strerror(saved), fmt, ap);
	va_end(ap);
	errno = saved;
}
