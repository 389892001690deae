/* LD_PRELOAD shim for TLS clients that have no option for it (wrk, h2load):
 *   SHIM_CERT=/path/client.crt SHIM_KEY=/path/client.key
 *       every SSL_CTX the program creates gets this client certificate/key;
 *   SHIM_NO_RESUME=1
 *       no session resumption: wrk re-uses one SSL object per connection slot and
 *       SSL_clear() keeps the session, so with "Connection: close" every reconnect
 *       is a TLS 1.3 PSK resumption (no certificates, no signatures) unless the
 *       session is dropped here.
 * Build: gcc -O2 -shared -fPIC -o cert_shim.so cert_shim.c -ldl -lssl (bench/lib/setup.sh does,
 * into /tmp). From the team's anchor harness (../shared/bench).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <openssl/ssl.h>

SSL_CTX *SSL_CTX_new(const SSL_METHOD *meth) {
  static SSL_CTX *(*real)(const SSL_METHOD *) = NULL;
  if (!real) real = (SSL_CTX * (*)(const SSL_METHOD *)) dlsym(RTLD_NEXT, "SSL_CTX_new");
  SSL_CTX *ctx = real(meth);
  const char *c = getenv("SHIM_CERT"), *k = getenv("SHIM_KEY"), *nr = getenv("SHIM_NO_RESUME");
  if (ctx && c && k) {
    if (SSL_CTX_use_certificate_chain_file(ctx, c) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, k, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1)
      fprintf(stderr, "cert_shim: cannot load %s / %s\n", c, k);
  }
  if (ctx && nr && *nr == '1') SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
  return ctx;
}

int SSL_clear(SSL *s) {
  static int (*real)(SSL *) = NULL;
  if (!real) real = (int (*)(SSL *)) dlsym(RTLD_NEXT, "SSL_clear");
  int r = real(s);
  const char *nr = getenv("SHIM_NO_RESUME");
  if (r == 1 && nr && *nr == '1') SSL_set_session(s, NULL);
  return r;
}
