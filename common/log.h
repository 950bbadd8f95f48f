/* Logging for the daemon and shmdctl: one line per event on stderr. */
#ifndef SHMD_LOG_H
#define SHMD_LOG_H

#include <stdarg.h>
#include <stddef.h>

/* Levels are syslog priorities, so they double as journal prefixes. */
enum log_level {
	LOG_LEVEL_ERR = 3,
	LOG_LEVEL_WARNING = 4,
	LOG_LEVEL_NOTICE = 5,
	LOG_LEVEL_INFO = 6,
	LOG_LEVEL_DEBUG = 7,
};

void	log_init(const char *progname, enum log_level level);
void	log_set_level(enum log_level level);
int	log_level_parse(const char *s, enum log_level *out);
const char *log_level_name(enum log_level level);

/* Whether a line of this level is written now. */
int	log_enabled(enum log_level level);
/* One line of this level (what log_info() and the others write). */
void	log_vlog(enum log_level level, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));
/*
 * Copy in to out (outlen bytes, NUL included; 6 times in's length is
 * always enough), escaped as every logged line is (shmd(8), LOGGING).
 */
void	log_escape(const char *in, char *out, size_t outlen);

void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
