/* certsync.h: the C ABI of libcertsync.
 *
 * libcertsync watches Kubernetes TLS Secrets on a thread it owns, validates
 * every PEM bundle, and keeps the last good bundle of each Secret in a store
 * whose generation grows with every accepted change. Its caller (the Lua
 * plugin, through LuaJIT's FFI) pulls changes, status and log records; the
 * library never calls back into its caller.
 *
 * Conventions
 * - Handles are opaque pointers. Every object the library hands out has its
 *   own free function; strings it hands out are freed with certsync_free().
 * - Configuration keys and values are NUL-terminated strings. Byte strings the
 *   library hands out (PEM, ids, JSON) come as pointer + length and are not
 *   guaranteed to be NUL-terminated.
 * - Functions that can fail take `char **errptr` as their last argument. On
 *   failure they return NULL or a non-zero code and store a malloc()ed message
 *   in *errptr (the caller frees it with certsync_free()); *errptr must be
 *   NULL on entry. Messages never contain key material or tokens.
 * - No function waits on the network and no C++ exception crosses this ABI.
 *   certsync_new() reads the local files named in the configuration (CA,
 *   token) so that a bad path fails at creation, naming the file.
 * - All functions on one certsync_t may be called from any thread.
 *
 * The header holds no macros and no includes beyond the guard, so LuaJIT's
 * ffi.cdef reads it as is once preprocessor lines are dropped (the build
 * generates the Lua cdef module from this file). C++ callers include it
 * inside `extern "C" { }`.
 */
#ifndef CERTSYNC_H
#define CERTSYNC_H

#include <stddef.h>
#include <stdint.h>

typedef struct certsync_config_t certsync_config_t;
typedef struct certsync_t certsync_t;
typedef struct certsync_changes_t certsync_changes_t;
typedef struct certsync_status_t certsync_status_t;

/* Log levels of the records certsync_log_pop() returns (syslog order). */
enum {
  CERTSYNC_LOG_ERR = 3,
  CERTSYNC_LOG_WARN = 4,
  CERTSYNC_LOG_NOTICE = 5,
  CERTSYNC_LOG_INFO = 6,
  CERTSYNC_LOG_DEBUG = 7
};

/* One changed Secret, as seen by certsync_changes_get(). The pointers stay
 * valid until the certsync_changes_t they came from is freed, except
 * cert_pem and key_pem: the library keeps them packed and unpacks the one
 * asked for, so they stay valid until the next certsync_changes_get() on the
 * same set (or its free). Copy them before asking for another. */
typedef struct {
  const char *id;          /* "namespace/name" */
  size_t id_len;
  int removed;             /* 1: stop serving this id; the fields below are empty */
  const char *snis;        /* server names, lowercased, separated by one space */
  size_t snis_len;
  const char *cert_pem;    /* leaf first, then the chain */
  size_t cert_pem_len;
  const char *key_pem;     /* the leaf's private key; cleansed when freed */
  size_t key_pem_len;
  const char *serial;      /* leaf serial number, uppercase hex */
  size_t serial_len;
  int64_t not_before;      /* leaf notBefore, Unix seconds */
  int64_t not_after;       /* leaf notAfter, Unix seconds */
  const char *key_type;    /* "RSA-2048", "EC-P-256", "ED25519", ... */
  size_t key_type_len;
  int64_t observed_at_ms;  /* when the watcher received this version (Unix ms), 0 if unknown:
                              where the event-to-served latency starts */
} certsync_bundle_t;

/* Configuration ------------------------------------------------------------
 * All values are strings. certsync_config_set() checks a key and its value on
 * their own; certsync_new() checks the whole and reads the files it names.
 *
 * Connection, from exactly one source:
 *   server                    API server URL, e.g. "https://10.0.0.1:6443"
 *     ca_file                 CA of the API server (re-read when it changes)
 *     token_file              bearer token file (re-read before every request)
 *     client_cert_file, client_key_file   client certificate authentication
 *     tls_server_name         name to verify the server's certificate against
 *     insecure_skip_tls_verify  "true" turns verification off (tests only)
 *   in_cluster = "true"       the pod's service account; in_cluster_host and
 *                             in_cluster_port default to the environment's
 *                             KUBERNETES_SERVICE_HOST/_PORT, which nginx
 *                             workers only see when passed or declared (env);
 *                             service_account_dir overrides the files' place
 *   kubeconfig = PATH         a kubeconfig file; context picks one (default:
 *                             current-context). exec users are not supported.
 * Scope:
 *   namespaces                "a,b", or "*" for all namespaces (namespace is
 *                             accepted for one); default: the source's namespace
 *   label_selector            e.g. "app=web"
 *   secret_names              "ns/name,..." (or "name" with one namespace):
 *                             one watch per Secret, as RBAC resourceNames needs
 *   secret_types              "kubernetes.io/tls" (default) or a list such as
 *                             "kubernetes.io/tls,Opaque": the API server
 *                             filters by type (fieldSelector=type=...), so
 *                             other Secrets never cross the wire; one watch
 *                             per type per namespace or name. "*" alone:
 *                             every type, no type selector. cert-manager
 *                             keeps the type of a Secret that existed before:
 *                             name Opaque if its Secrets are Opaque
 * Behaviour and limits:
 *   deletion_policy           "keep" (default: a deleted Secret keeps serving
 *                             its last good bundle) or "remove"
 *   max_event_bytes           largest WATCH event (default 4194304)
 *   idle_timeout_seconds      silence after which a watch is dead (default 180)
 *   list_page_size            LIST page size (default 500)
 *   cert_manager              "auto" (default): also watch cert-manager's
 *                             Certificates (cert-manager.io/v1) in the watched
 *                             namespaces, where the CRD exists and RBAC allows
 *                             list and watch (else one log line, and the
 *                             status's cert_manager says why); "off": never
 *   notify_socket             a Unix socket path (at most 107 bytes) the library
 *                             listens on while started; every connection gets a
 *                             byte when something changed, so waiting workers
 *                             wake at once instead of at their next poll
 */
certsync_config_t *certsync_config_new(void);
int certsync_config_set(certsync_config_t *cfg, const char *key, const char *value,
                        char **errptr);
void certsync_config_free(certsync_config_t *cfg);

/* Lifecycle ----------------------------------------------------------------
 * certsync_new() checks the configuration and the files it names; nothing
 * runs until certsync_start(), which starts the watcher threads (call it
 * after fork; a second call on one handle is a no-op). Handles created in one
 * process with the same settings (nginx's http and stream Lua VMs of one
 * worker) share one store and one set of watchers, which run while any of
 * them is started. certsync_stop() returns within a second, whatever the API
 * server does; certsync_destroy() stops and frees. Watchers still running at
 * process exit are stopped by the library itself. */
certsync_t *certsync_new(const certsync_config_t *cfg, char **errptr);
int certsync_start(certsync_t *cs, char **errptr);
void certsync_stop(certsync_t *cs);
void certsync_destroy(certsync_t *cs);

/* Changes ------------------------------------------------------------------
 * certsync_generation() is the store's current generation: 0 until every
 * watched scope has been listed once, then growing by one with every accepted
 * change.
 * certsync_changes_since(cs, n) returns what changed after generation n; when
 * n is 0 or too old to answer as a delta, it returns the whole store and
 * certsync_changes_full() is 1 (the caller replaces everything it holds).
 * None of these waits for the watcher thread: while it is applying a list
 * (50,000 Secrets take a while), certsync_generation() answers the last
 * generation it completed and certsync_changes_since() an empty, not full
 * set whose generation is n: the caller simply asks again later. */
uint64_t certsync_generation(certsync_t *cs);
/* Wakes every process waiting on the notify_socket (see Configuration):
 * the worker that published a change calls it so the others pull at once.
 * Never blocks; a no-op without notify_socket. The library itself notifies
 * whenever the store's generation rises. */
void certsync_notify(certsync_t *cs);
certsync_changes_t *certsync_changes_since(certsync_t *cs, uint64_t generation,
                                           char **errptr);
uint64_t certsync_changes_generation(const certsync_changes_t *ch);
int certsync_changes_full(const certsync_changes_t *ch);
size_t certsync_changes_count(const certsync_changes_t *ch);
int certsync_changes_get(const certsync_changes_t *ch, size_t index,
                         certsync_bundle_t *out);
void certsync_changes_free(certsync_changes_t *ch);

/* Observability ------------------------------------------------------------
 * certsync_status_json(): the watcher state, every Secret seen (served
 * serial, expiry, SNIs, why the latest version was refused), as JSON. No key
 * material. certsync_log_pop(): the oldest queued log record, or NULL when
 * the queue is empty; the queue is bounded and counts what it dropped. */
char *certsync_status_json(certsync_t *cs, size_t *len);
char *certsync_log_pop(certsync_t *cs, int *level, size_t *len);

/* certsync_status_since(cs, v): the status, with only the Secrets whose
 * status changed after status version v (0: every Secret), so that a caller
 * following it pays for what changed, not for what is watched; taking a
 * delta copies a snapshot of each Secret's facts (no PEM, no text), and
 * each Secret's JSON is rendered when certsync_status_get asks for it, so
 * the library keeps no status text per Secret.
 * certsync_status_version(): the v to pass next time. certsync_status_full():
 * 1 when the delta holds every Secret (v was 0 or too old): drop what is held.
 * certsync_status_summary(): the node-wide part as JSON (generation, synced,
 * watchers, log_records_dropped, notify), without the Secrets.
 * certsync_status_get(st, i): Secret i's id and its status JSON, one object
 * of certsync_status_json()'s "secrets"; an empty JSON (length 0) means the
 * Secret is no longer known. The id stays valid until the status is freed,
 * the JSON until the next certsync_status_get() on it (or its free).
 * While the watcher thread is applying a list it answers at once with no
 * Secret and the version given: ask again later. */
certsync_status_t *certsync_status_since(certsync_t *cs, uint64_t version, char **errptr);
uint64_t certsync_status_version(const certsync_status_t *st);
int certsync_status_full(const certsync_status_t *st);
const char *certsync_status_summary(const certsync_status_t *st, size_t *len);
size_t certsync_status_count(const certsync_status_t *st);
int certsync_status_get(const certsync_status_t *st, size_t index, const char **id, size_t *id_len,
                        const char **json, size_t *json_len);
void certsync_status_free(certsync_status_t *st);

/* certsync_certificates_json(cs, v, &version, &len): the cert-manager
 * Certificates watched, as a JSON array (each: id, secret, ready and issuing
 * conditions, not_before, not_after, renewal_time, last_failure_time,
 * revision, ...; times in Unix seconds, 0 when unset), when their version
 * differs from v; NULL when nothing changed since v (or on failure). *version
 * gets the version to pass next time. Free the text with certsync_free().
 * Whether they are watched at all is the status summary's cert_manager. */
char *certsync_certificates_json(certsync_t *cs, uint64_t version, uint64_t *current, size_t *len);

void certsync_free(void *ptr);

#endif
