/* Logging: stderr, with <N> priority prefixes when stderr is the journal. */
#include "config.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "utf8.h"

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
 * Text a client sent (a name, a method) can neither end a line nor start
 * a forged one, nor carry bytes a log reader takes for a line break:
 * control characters (C0, DEL, C1) and bytes that are not UTF-8 as
 * \xNN, U+2028 and U+2029 as \u2028 and \u2029. One event, one line.
 */
void
log_escape(const char *in, char *out, size_t outlen)
{
	static const char	 hex[] = "0123456789abcdef";
	const unsigned char	*s = (const unsigned char *)in;
	uint32_t		 cp;
	size_t			 o = 0, n, left = strlen(in);

	if (outlen == 0)
		return;
	while (left > 0) {
		n = utf8_char((const char *)s, left, &cp);
		if (n == 0 || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			/* the byte, or the control character's number */
			if (o + 4 >= outlen)
				break;
			if (n == 0)
				cp = *s;
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[cp >> 4];
			out[o++] = hex[cp & 0xf];
			n = n == 0 ? 1 : n;
		} else if (cp == 0x2028 || cp == 0x2029) {
			if (o + 6 >= outlen)
				break;
			memcpy(out + o, cp == 0x2028 ? "\\u2028" : "\\u2029", 6);
			o += 6;
		} else {
			if (o + n >= outlen)
				break;
			memcpy(out + o, s, n);
			o += n;
		}
		s += n;
		left -= n;
	}
	out[o] = '\0';
}

static void
log_vwrite(enum log_level level, const char *suffix, const char *fmt,
    va_list ap)
{
	char	raw[1024], line[6 * sizeof raw];

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

int
log_enabled(enum log_level level)
{
	return level <= log_current;
}

void
log_vlog(enum log_level level, const char *fmt, va_list ap)
{
	log_vwrite(level, NULL, fmt, ap);
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
