/* SPDX-License-Identifier: BSD-2-Clause */
/* commands.c - the command table: alphabetical, exact match only. */
#include "cli.h"

#include <string.h>

/* Keep alphabetical. A typo must never run a different command. */
const struct cli_cmd *const cli_commands[] = {
	&cmd_connect,
	&cmd_listen,
	&cmd_probe,
	&cmd_relay,
	&cmd_resolve,
	NULL,
};

const struct cli_cmd *cli_command_find(const char *name)
{
	for (size_t i = 0; cli_commands[i]; i++)
		if (strcmp(cli_commands[i]->name, name) == 0)
			return cli_commands[i];
	return NULL;
}
