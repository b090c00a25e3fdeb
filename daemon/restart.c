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

/* sd-bus.h defines sd_bus_flush_close_unrefp for _cleanup_. */
static void bus_error_freep(sd_bus_error *e) {
        sd_bus_error_free(e);
}

int restart_in_progress(void) {
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        _cleanup_(bus_error_freep) sd_bus_error error = SD_BUS_ERROR_NULL;
        sd_bus_message *reply = NULL;
        _cleanup_(freep) char *job_path = NULL, *job_type = NULL;
        const char *unit_path;
        uint32_t job_id;
        int r;

        /* Set by systemd for every process it starts as a service. */
        if (!getenv("INVOCATION_ID"))
                return -ENOMEDIUM;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;

        r = sd_bus_call_method(bus, SYSTEMD, "/org/freedesktop/systemd1", SYSTEMD ".Manager", "GetUnitByPID",
                               &error, &reply, "u", (uint32_t) getpid());
        if (r < 0)
                return r;
        r = sd_bus_message_read(reply, "o", &unit_path);
        if (r < 0) {
                sd_bus_message_unref(reply);
                return r;
        }

        {
                sd_bus_message *job = NULL;
                const char *p;

                r = sd_bus_get_property(bus, SYSTEMD, unit_path, SYSTEMD ".Unit", "Job", &error, &job, "(uo)");
                sd_bus_message_unref(reply);
                if (r < 0)
                        return r;
                r = sd_bus_message_read(job, "(uo)", &job_id, &p);
                if (r >= 0 && job_id != 0 && !(job_path = strdup(p)))
                        r = -ENOMEM;
                sd_bus_message_unref(job);
                if (r < 0)
                        return r;
        }
        if (job_id == 0)
                return 0; /* no job: a plain signal, as good as a stop */

        r = sd_bus_get_property_string(bus, SYSTEMD, job_path, SYSTEMD ".Job", "JobType", &error, &job_type);
        if (r < 0)
                return r;
        return strstr(job_type, "restart") != NULL;
}
