/*
 * env_get.c: see env_get.h.
 */
#include "env_get.h"

#include <string.h>

extern char **environ;

const char *
env_get(char **env, const char *name)
{
	size_t n = strlen(name);
	char **e;

	for (e = env != NULL ? env : environ; e != NULL && *e != NULL; e++)
		if (strncmp(*e, name, n) == 0 && (*e)[n] == '=')
			return *e + n + 1;
	return NULL;
}
