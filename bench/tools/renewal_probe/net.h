/* TCP connections for the probe: blocking sockets, with a receive/send
 * timeout so that a stuck peer ends a probe instead of hanging it. */
#ifndef RENEWAL_PROBE_NET_H
#define RENEWAL_PROBE_NET_H

/* Connects to host:port (numeric or a name); returns the fd or -1. */
int tcp_connect(const char *host, const char *port, int timeout_ms);

/* 1 if host is an IPv4 or IPv6 literal (certificates name those as IP SANs). */
int is_ip_literal(const char *host);

#endif
