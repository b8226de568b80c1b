/* make_secrets: many kubernetes.io/tls Secret manifests, fast.
 *
 *   make_secrets OUT_DIR < lines
 *
 * Each input line is "SECRET_NAME NAME[,NAME...]". For each, a new ECDSA
 * P-256 key and a self-signed certificate for those DNS names (the first
 * one also as CN, valid 30 days) are made in memory and written as the JSON
 * manifest OUT_DIR/SECRET_NAME.json, namespace "default". The openssl
 * command would need a process per certificate; the handshake benchmark
 * needs 10,000 of them. The keys exist only in those files, which the
 * caller removes once posted. */
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The PEM text of a memory BIO, base64-encoded into a new NUL-terminated buffer. */
static char *bio_base64(BIO *bio) {
  char *data = NULL;
  long len = BIO_get_mem_data(bio, &data);
  char *out = malloc(4 * ((size_t)len / 3 + 1) + 1);
  if (out) EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)data, (int)len);
  return out;
}

static X509 *self_signed(EVP_PKEY *key, const char *names) {
  X509 *x = X509_new();
  if (!x) return NULL;
  unsigned char serial[16];
  RAND_bytes(serial, sizeof serial);
  serial[0] &= 0x7f; /* a positive serial */
  BIGNUM *bn = BN_bin2bn(serial, sizeof serial, NULL);
  BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x));
  BN_free(bn);
  X509_set_version(x, 2);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 30L * 24 * 3600);
  X509_set_pubkey(x, key);
  char cn[256];
  size_t first = strcspn(names, ",");
  if (first >= sizeof cn) first = sizeof cn - 1;
  memcpy(cn, names, first);
  cn[first] = 0;
  X509_NAME *subject = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, subject);
  /* "DNS:a,DNS:b,..." for the subjectAltName extension. */
  size_t cap = strlen(names) * 2 + 8, at = 0;
  char *san = malloc(cap);
  const char *p = names;
  while (san && *p) {
    size_t n = strcspn(p, ",");
    at += (size_t)snprintf(san + at, cap - at, "%sDNS:%.*s", at ? "," : "", (int)n, p);
    p += n + (p[n] == ',');
  }
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  X509_EXTENSION *ext = san ? X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san) : NULL;
  free(san);
  if (!ext || !X509_add_ext(x, ext, -1) || !X509_sign(x, key, EVP_sha256())) {
    X509_EXTENSION_free(ext);
    X509_free(x);
    return NULL;
  }
  X509_EXTENSION_free(ext);
  return x;
}

static int write_manifest(const char *dir, const char *secret, const char *names) {
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *cert = key ? self_signed(key, names) : NULL;
  BIO *crt_pem = BIO_new(BIO_s_mem()), *key_pem = BIO_new(BIO_s_mem());
  int ok = cert && crt_pem && key_pem && PEM_write_bio_X509(crt_pem, cert) &&
           PEM_write_bio_PrivateKey(key_pem, key, NULL, NULL, 0, NULL, NULL);
  char *crt64 = ok ? bio_base64(crt_pem) : NULL, *key64 = ok ? bio_base64(key_pem) : NULL;
  ok = ok && crt64 && key64;
  if (ok) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.json", dir, secret);
    FILE *f = fopen(path, "w");
    ok = f && fprintf(f,
                      "{\"apiVersion\":\"v1\",\"kind\":\"Secret\",\"type\":\"kubernetes.io/tls\","
                      "\"metadata\":{\"name\":\"%s\",\"namespace\":\"default\"},"
                      "\"data\":{\"tls.crt\":\"%s\",\"tls.key\":\"%s\"}}",
                      secret, crt64, key64) > 0;
    if (f && fclose(f) != 0) ok = 0;
  }
  if (key64) OPENSSL_cleanse(key64, strlen(key64));
  free(crt64);
  free(key64);
  BIO_free(crt_pem);
  BIO_free(key_pem); /* a memory BIO: its buffer is freed, not cleansed; the key is a throwaway */
  X509_free(cert);
  EVP_PKEY_free(key);
  return ok;
}

int main(int argc, char **argv) {
  if (argc != 2) {
    fprintf(stderr, "usage: make_secrets OUT_DIR < \"SECRET_NAME NAME[,NAME...]\" lines\n");
    return 2;
  }
  char line[1 << 16];
  long made = 0;
  while (fgets(line, sizeof line, stdin)) {
    char secret[256], names[sizeof line];
    if (sscanf(line, "%255s %65535s", secret, names) != 2) continue;
    if (!write_manifest(argv[1], secret, names)) {
      fprintf(stderr, "make_secrets: cannot make %s\n", secret);
      return 1;
    }
    made++;
  }
  printf("%ld\n", made);
  return 0;
}
