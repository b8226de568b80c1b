/* TCP connections for the probe: blocking sockets, with a receive/send
 * timeout so that a stuck peer ends a probe instead of hanging it. */
#ifndef RENEWAL_PROBE_NET_H
#define RENEWAL_PROBE_NET_H

/* Connects to host:port (numeric or a name) from local_port (0: any);
 * returns the fd or -1, and the local port used in *bound_port if not NULL. */
int tcp_connect(const char *host, const char *port, int timeout_ms, int local_port, int *bound_port);

/* Closes with a reset instead of a FIN: no TIME_WAIT on either side, so the
 * same local port (and so the same 4-tuple) can connect again at once. */
void tcp_abort(int fd);

/* 1 if host is an IPv4 or IPv6 literal (certificates name those as IP SANs). */
int is_ip_literal(const char *host);

#endif
