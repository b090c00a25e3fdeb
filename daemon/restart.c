/* SPDX-License-Identifier: GPL-2.0-or-later */
/* restart.c: telling, on SIGTERM, a restart of the service from a stop.
 *
 * systemd sends the same SIGTERM for both. While the daemon handles it, the unit's job is
 * still running: its type says which it is. */

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>
#include <unistd.h>

#include "macro.h"
#include "restart.h"

#define SYSTEMD "org.freedesktop.systemd1"

/* sd-bus.h defines sd_bus_flush_close_unrefp and sd_bus_message_unrefp for _cleanup_. */
static void bus_error_freep(sd_bus_error *e) {
        sd_bus_error_free(e);
}

int restart_in_progress(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *unit = NULL, *job = NULL;
        _cleanup_(bus_error_freep) sd_bus_error error = SD_BUS_ERROR_NULL;
        _cleanup_(freep) char *job_type = NULL;
        const char *unit_path, *job_path;
        uint32_t job_id;
        int r;

        /* Set by systemd for every process it starts as a service. */
        if (!getenv("INVOCATION_ID"))
                return -ENOMEDIUM;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        /* At shutdown the bus may be going away: a stop is the safe answer, soon. */
        r = sd_bus_set_method_call_timeout(bus, 2 * 1000 * 1000);
        if (r < 0)
                return r;

        r = sd_bus_call_method(bus, SYSTEMD, "/org/freedesktop/systemd1", SYSTEMD ".Manager", "GetUnitByPID",
                               &error, &unit, "u", (uint32_t) getpid());
        if (r >= 0)
                r = sd_bus_message_read(unit, "o", &unit_path);
        if (r >= 0)
                r = sd_bus_get_property(bus, SYSTEMD, unit_path, SYSTEMD ".Unit", "Job", &error, &job, "(uo)");
        if (r >= 0)
                r = sd_bus_message_read(job, "(uo)", &job_id, &job_path);
        if (r < 0)
                return r;
        if (job_id == 0)
                return 0; /* no job: a plain signal, as good as a stop */

        r = sd_bus_get_property_string(bus, SYSTEMD, job_path, SYSTEMD ".Job", "JobType", &error, &job_type);
        if (r < 0)
                return r;
        return strstr(job_type, "restart") != NULL;
}
