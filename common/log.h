/* Logging for the daemon and shmdctl: one line per event on stderr. */
#ifndef SHMD_LOG_H
#define SHMD_LOG_H

#include <stdarg.h>

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

void	log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_notice(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void	log_errx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
