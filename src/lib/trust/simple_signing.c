/* Simple signing (containers-signature(5)): the JSON payload inside an ordinary
 * OpenPGP signed message, as `gpg --sign` makes it. All GnuPG work goes through gpgme
 * with an explicit home per call: either the one the user names, or a private
 * temporary keyring holding only the keys the policy trusts. */
#include <errno.h>
#include <gpgme.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "core/log.h"
#include "core/util.h"
#include "trust/internal.h"

extern char **environ;

static void ctx_releasep(gpgme_ctx_t *c) {
  if (*c)
    gpgme_release(*c);
}
static void data_releasep(gpgme_data_t *d) {
  if (*d)
    gpgme_data_release(*d);
}
static void key_unrefp(gpgme_key_t *k) {
  if (*k)
    gpgme_key_unref(*k);
}
#define _cleanup_ctx_ __attribute__((cleanup(ctx_releasep)))
#define _cleanup_data_ __attribute__((cleanup(data_releasep)))
#define _cleanup_key_ __attribute__((cleanup(key_unrefp)))

static int gpg_error_out(brick_err *err, gpgme_error_t e, const char *what) {
  return brick_error(err, 0, "%s: %s", what, gpgme_strerror(e));
}

static int gpg_new(const char *home, gpgme_ctx_t *out, brick_err *err) {
  if (!gpgme_check_version(NULL))
    return brick_error(err, 0, "gpgme: library initialisation failed");
  gpgme_error_t e = gpgme_engine_check_version(GPGME_PROTOCOL_OpenPGP);
  if (e)
    return gpg_error_out(err, e, "GnuPG engine (is gnupg installed?)");
  gpgme_ctx_t ctx;
  if ((e = gpgme_new(&ctx)))
    return gpg_error_out(err, e, "gpgme_new");
  if ((e = gpgme_set_protocol(ctx, GPGME_PROTOCOL_OpenPGP)) ||
      (e = gpgme_ctx_set_engine_info(ctx, GPGME_PROTOCOL_OpenPGP, NULL, home))) {
    gpgme_release(ctx);
    return gpg_error_out(err, e, "gpgme: set GnuPG home");
  }
  *out = ctx;
  return 0;
}

int brick_gpg_tmp_home(char **out, brick_err *err) {
  const char *tmp = getenv("TMPDIR");
  char *path = xasprintf("%s/brick-gpg-XXXXXX", tmp && *tmp ? tmp : "/tmp");
  if (!mkdtemp(path)) {
    int e = errno;
    free(path);
    return brick_error(err, e, "create temporary GnuPG home");
  }
  *out = path;
  return 0;
}

void brick_gpg_tmp_home_remove(const char *home) {
  /* Stop any agent GnuPG may have started in this home before removing it. */
  _cleanup_free_ char *sock = xasprintf("%s/S.gpg-agent", home);
  struct stat st;
  if (stat(sock, &st) == 0) {
    char *argv[] = {"gpgconf", "--homedir", (char *)home, "--kill", "all", NULL};
    pid_t pid;
    if (posix_spawnp(&pid, "gpgconf", NULL, NULL, argv, environ) == 0) {
      int status;
      while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
      }
    }
  }
  brick_err err = {0};
  if (brick_rm_rf(home, &err) < 0)
    brick_warn("removing temporary GnuPG home: %s", brick_error_msg(&err));
  brick_error_clear(&err);
}

static gpgme_error_t passphrase_cb(void *hook, const char *uid_hint, const char *info,
                                   int prev_was_bad, int fd) {
  (void)uid_hint;
  (void)info;
  const char *pw = hook;
  if (prev_was_bad)
    return gpgme_error(GPG_ERR_BAD_PASSPHRASE);
  if (gpgme_io_writen(fd, pw, strlen(pw)) < 0 || gpgme_io_writen(fd, "\n", 1) < 0)
    return gpgme_error_from_errno(errno);
  return 0;
}

int brick_simple_sign(const char *gpg_home, const char *fingerprint, const char *identity,
                      const unsigned char *manifest, size_t manifest_len, unsigned char **sig,
                      size_t *sig_len, brick_err *err) {
  _cleanup_free_ char *digest = NULL;
  if (brick_manifest_digest(manifest, manifest_len, &digest, err) < 0)
    return -1;
  struct brick_dref r;
  if (brick_dref_parse(identity, true, &r, err) < 0)
    return brick_error_prefix(err, "identity");
  brick_dref_clear(&r);

  _cleanup_ctx_ gpgme_ctx_t ctx = NULL;
  if (gpg_new(gpg_home, &ctx, err) < 0)
    return -1;
  gpgme_set_armor(ctx, 0);
  _cleanup_key_ gpgme_key_t key = NULL;
  gpgme_error_t e = gpgme_get_key(ctx, fingerprint, &key, 1);
  if (e)
    return brick_error(err, 0, "secret key \"%s\" in %s: %s", fingerprint,
                       gpg_home ? gpg_home : "the default GnuPG home", gpgme_strerror(e));
  if ((e = gpgme_signers_add(ctx, key)))
    return gpg_error_out(err, e, "gpgme: add signer");
  const char *pw = getenv("BRICK_GPG_PASSPHRASE");
  if (pw) {
    gpgme_set_pinentry_mode(ctx, GPGME_PINENTRY_MODE_LOOPBACK);
    gpgme_set_passphrase_cb(ctx, passphrase_cb, (void *)pw);
  }
  size_t payload_len;
  _cleanup_free_ char *payload =
      brick_payload_make(BRICK_SIMPLE_SIGNING_TYPE, identity, digest, &payload_len);
  _cleanup_data_ gpgme_data_t plain = NULL;
  gpgme_data_t out = NULL;
  if ((e = gpgme_data_new_from_mem(&plain, payload, payload_len, 0)) ||
      (e = gpgme_data_new(&out)))
    return gpg_error_out(err, e, "gpgme: allocate");
  e = gpgme_op_sign(ctx, plain, out, GPGME_SIG_MODE_NORMAL);
  gpgme_sign_result_t res = e ? NULL : gpgme_op_sign_result(ctx);
  if (e || !res || res->invalid_signers || !res->signatures) {
    gpgme_data_release(out);
    return brick_error(err, 0, "sign with key %s: %s", fingerprint,
                       e ? gpgme_strerror(e) : "the key cannot sign");
  }
  size_t n = 0;
  char *mem = gpgme_data_release_and_get_mem(out, &n);
  if (!mem)
    return brick_error(err, ENOMEM, "gpgme: signature buffer");
  unsigned char *copy = xmalloc(n);
  memcpy(copy, mem, n);
  gpgme_free(mem);
  *sig = copy;
  *sig_len = n;
  return 0;
}

/* Why a signature gpgme returned is not acceptable, or NULL. */
static const char *signature_problem(gpgme_signature_t s) {
  if (s->summary & GPGME_SIGSUM_KEY_EXPIRED)
    return "the signing key has expired";
  if (s->summary & GPGME_SIGSUM_KEY_REVOKED)
    return "the signing key has been revoked";
  if (s->summary & GPGME_SIGSUM_SIG_EXPIRED)
    return "the signature has expired";
  if (s->summary & GPGME_SIGSUM_KEY_MISSING)
    return "the signing key is not trusted (not in the trusted keys)";
  if (s->summary & GPGME_SIGSUM_RED)
    return "the signature is bad";
  if (s->status)
    return gpgme_strerror(s->status);
  if (s->validity == GPGME_VALIDITY_NEVER || s->validity_reason)
    return "the signing key is marked invalid";
  if (s->wrong_key_usage)
    return "the key is not usable for signing";
  return NULL;
}

int brick_simple_verify(const struct brick_gpg_keys *keys, const unsigned char *sig, size_t len,
                        struct brick_sig_info *info, brick_err *err) {
  _cleanup_free_ char *tmp_home = NULL;
  if (!keys->gpg_home && keys->n_keys == 0)
    return brick_error(err, 0, "no trusted GPG keys to verify with");
  if (!keys->gpg_home && brick_gpg_tmp_home(&tmp_home, err) < 0)
    return -1;
  int ret = -1;
  gpgme_ctx_t ctx = NULL;
  gpgme_data_t sig_d = NULL, plain_d = NULL;
  gpgme_key_t signer = NULL;
  char **trusted = NULL;
  char *plain = NULL;
  size_t plain_len = 0;
  gpgme_error_t e;
  if (gpg_new(keys->gpg_home ? keys->gpg_home : tmp_home, &ctx, err) < 0)
    goto out;
  for (size_t i = 0; !keys->gpg_home && i < keys->n_keys; i++) {
    gpgme_data_t kd = NULL;
    if ((e = gpgme_data_new_from_mem(&kd, (const char *)keys->keys[i].data, keys->keys[i].len,
                                     0))) {
      gpg_error_out(err, e, "gpgme: allocate");
      goto out;
    }
    e = gpgme_op_import(ctx, kd);
    gpgme_data_release(kd);
    gpgme_import_result_t ir = e ? NULL : gpgme_op_import_result(ctx);
    size_t before = brick_strv_len(trusted);
    for (gpgme_import_status_t st = ir ? ir->imports : NULL; st; st = st->next)
      if (st->result == 0 && st->fpr)
        brick_strv_push(&trusted, st->fpr);
    if (e || brick_strv_len(trusted) == before) {
      brick_error(err, 0, "trusted key %zu: no OpenPGP public key could be imported%s%s",
                  i + 1, e ? ": " : "", e ? gpgme_strerror(e) : "");
      goto out;
    }
  }
  if ((e = gpgme_data_new_from_mem(&sig_d, (const char *)sig, len, 0)) ||
      (e = gpgme_data_new(&plain_d))) {
    gpg_error_out(err, e, "gpgme: allocate");
    goto out;
  }
  if ((e = gpgme_op_verify(ctx, sig_d, NULL, plain_d))) {
    brick_error(err, 0, "not a valid OpenPGP signed message: %s", gpgme_strerror(e));
    goto out;
  }
  gpgme_verify_result_t vr = gpgme_op_verify_result(ctx);
  size_t n_sigs = 0;
  for (gpgme_signature_t s = vr ? vr->signatures : NULL; s; s = s->next)
    n_sigs++;
  if (n_sigs != 1) {
    brick_error(err, 0, "expected exactly one OpenPGP signature, found %zu", n_sigs);
    goto out;
  }
  gpgme_signature_t s = vr->signatures;
  const char *problem = signature_problem(s);
  if (problem) {
    brick_error(err, 0, "OpenPGP signature by %s rejected: %s", s->fpr ? s->fpr : "unknown key",
                problem);
    goto out;
  }
  /* The signature may name a subkey; trust is recorded for primary keys. */
  if ((e = gpgme_get_key(ctx, s->fpr, &signer, 0)) || !signer->fpr) {
    brick_error(err, 0, "signing key %s: %s", s->fpr, e ? gpgme_strerror(e) : "no fingerprint");
    goto out;
  }
  if (trusted) {
    bool found = false;
    for (char **t = trusted; *t; t++)
      if (!strcmp(*t, signer->fpr))
        found = true;
    if (!found) {
      brick_error(err, 0, "signed by %s, which is not a trusted key", signer->fpr);
      goto out;
    }
  }
  plain = gpgme_data_release_and_get_mem(plain_d, &plain_len);
  plain_d = NULL;
  struct brick_sig_info tmp = {0};
  if (brick_payload_parse((const unsigned char *)(plain ? plain : ""), plain_len,
                          BRICK_SIMPLE_SIGNING_TYPE, false, &tmp, err) < 0) {
    brick_sig_info_clear(&tmp);
    goto out;
  }
  tmp.key = xstrdup(signer->fpr);
  *info = tmp;
  ret = 0;
out:
  if (plain)
    gpgme_free(plain);
  if (signer)
    gpgme_key_unref(signer);
  if (sig_d)
    gpgme_data_release(sig_d);
  if (plain_d)
    gpgme_data_release(plain_d);
  if (ctx)
    gpgme_release(ctx);
  brick_strv_free(trusted);
  if (tmp_home)
    brick_gpg_tmp_home_remove(tmp_home);
  return ret;
}
