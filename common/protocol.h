/* SPDX-License-Identifier: GPL-2.0-or-later */
/* protocol.h: the names execcountd and execcountctl share: the socket, the interfaces,
 * their methods and the errors io.execcount.varlink declares (test-docs checks that every
 * one declared there is here). */
#pragma once

#define EXECCOUNT_SOCKET_DEFAULT "/run/execcountd/io.execcount"

#define EXECCOUNT_INTERFACE "io.execcount"
#define EXECCOUNT_METHOD_GET_STATS EXECCOUNT_INTERFACE ".GetStats"
#define EXECCOUNT_METHOD_GET_LOGINS EXECCOUNT_INTERFACE ".GetLogins"
#define EXECCOUNT_METHOD_GET_UNITS EXECCOUNT_INTERFACE ".GetUnits"
#define EXECCOUNT_METHOD_GET_STATUS EXECCOUNT_INTERFACE ".GetStatus"
#define EXECCOUNT_METHOD_RESET EXECCOUNT_INTERFACE ".Reset"
#define EXECCOUNT_METHOD_RELOAD EXECCOUNT_INTERFACE ".Reload"
#define EXECCOUNT_METHOD_GET_EVENTS EXECCOUNT_INTERFACE ".GetEvents"
#define EXECCOUNT_METHOD_WATCH EXECCOUNT_INTERFACE ".Watch"

#define EXECCOUNT_ERROR_PROTOCOL EXECCOUNT_INTERFACE ".ProtocolError"
#define EXECCOUNT_ERROR_CONFIG EXECCOUNT_INTERFACE ".ConfigError"
#define EXECCOUNT_ERROR_KERNEL EXECCOUNT_INTERFACE ".KernelError"
#define EXECCOUNT_ERROR_LIMIT EXECCOUNT_INTERFACE ".LimitExceeded"
#define EXECCOUNT_ERROR_STATE EXECCOUNT_INTERFACE ".StateError"

#define VARLINK_SERVICE_INTERFACE "org.varlink.service"
#define VARLINK_SERVICE_METHOD_GET_INFO VARLINK_SERVICE_INTERFACE ".GetInfo"
#define VARLINK_SERVICE_METHOD_GET_INTERFACE_DESCRIPTION VARLINK_SERVICE_INTERFACE ".GetInterfaceDescription"
