/* `brick sign`, `brick verify`, `brick key generate`, `brick policy show|check`: thin
 * wrappers over src/lib/trust. */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"
#include "core/util.h"
#include "image/store.h"
#include "trust/image_trust.h"
#include "trust/trust.h"

static int usage_error(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int usage_error(const char *usage, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fputs("brick: ", stderr);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fprintf(stderr, "\n%s", usage);
  return 2;
}

static bool is_dir(const char *p) {
  struct stat st;
  return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An image in the store, looked up only when the store exists (a question about a
 * reference must never create one). */
struct store_image {
  struct brick_store *s;
  struct brick_image_info img;
};

static void store_image_clear(struct store_image *si) {
  if (si->s) {
    brick_image_info_clear(&si->img);
    brick_store_close(si->s);
  }
  memset(si, 0, sizeof *si);
}

static bool lookup_store_image(const struct brick_global *g, const char *arg,
                               struct store_image *si) {
  memset(si, 0, sizeof *si);
  struct stat st;
  if (!g->store || stat(g->store, &st) < 0)
    return false;
  brick_err e = {0};
  if (brick_store_open(g->store, &si->s, &e) < 0) {
    brick_error_clear(&e);
    return false;
  }
  if (brick_store_lookup(si->s, arg, &si->img, &e) < 0) {
    brick_error_clear(&e);
    brick_store_close(si->s);
    si->s = NULL;
    return false;
  }
  return true;
}

/* MANIFEST_OR_DIR: a manifest file, a dir: image (manifest.json beside signature-N), or
 * an image in the store (its stored manifest; si is filled). */
static int read_manifest(const struct brick_global *g, const char *arg, char **manifest,
                         size_t *len, char **dir, struct store_image *si, brick_err *err) {
  const char *path = brick_str_has_prefix(arg, "dir:") ? arg + 4 : arg;
  *dir = NULL;
  if (is_dir(path)) {
    _cleanup_free_ char *m = xasprintf("%s/manifest.json", path);
    *dir = xstrdup(path);
    return brick_read_file(m, manifest, len, err);
  }
  struct stat st;
  if (path == arg && stat(path, &st) < 0 && errno == ENOENT) {
    if (lookup_store_image(g, arg, si))
      return brick_read_file(si->img.manifest_path, manifest, len, err);
    return brick_error(err, ENOENT, "%s: no such file, nor an image in the store %s", arg,
                       g->store ? g->store : "");
  }
  return brick_read_file(path, manifest, len, err);
}

static const char sign_usage[] =
    "usage: brick sign --identity REF (--sign-by FINGERPRINT [--gpg-home DIR] | --key PRIVATE.key)\n"
    "                  [--sign-dir DIR | --lookaside DIR | --registries-d DIR | --output FILE]\n"
    "                  MANIFEST_OR_DIR_OR_IMAGE\n"
    "Sign an image manifest. --sign-by makes a simple-signing (GPG) signature; --key makes\n"
    "a sigstore key signature (private key password from BRICK_KEY_PASSWORD). The signature\n"
    "is stored as the next signature-N in the dir: image, --sign-dir, or the lookaside store\n"
    "(--lookaside BASE, or the one registries.d configures for REF). For an IMAGE in the\n"
    "store its stored manifest is signed and the signature is kept with the image (where\n"
    "`brick run` checks it) unless one of those is given; --identity defaults to the\n"
    "image's first name.\n";

static int sign_and_store(struct store_image *si, const char *identity, const char *sign_by,
                          const char *gpg_home, const char *key, const char *sign_dir,
                          const char *lookaside, const char *registries_d, const char *output,
                          const char *manifest, size_t mlen, const char *dir);

int cmd_sign(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"sign-by", required_argument, NULL, 'b'}, {"identity", required_argument, NULL, 'i'},
      {"gpg-home", required_argument, NULL, 'g'}, {"key", required_argument, NULL, 'k'},
      {"sign-dir", required_argument, NULL, 'd'}, {"lookaside", required_argument, NULL, 'l'},
      {"registries-d", required_argument, NULL, 'r'}, {"output", required_argument, NULL, 'o'},
      {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
  const char *sign_by = NULL, *identity = NULL, *gpg_home = NULL, *key = NULL, *sign_dir = NULL,
             *lookaside = NULL, *registries_d = NULL, *output = NULL;
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (c) {
    case 'b': sign_by = optarg; break;
    case 'i': identity = optarg; break;
    case 'g': gpg_home = optarg; break;
    case 'k': key = optarg; break;
    case 'd': sign_dir = optarg; break;
    case 'l': lookaside = optarg; break;
    case 'r': registries_d = optarg; break;
    case 'o': output = optarg; break;
    case 'h': fputs(sign_usage, stdout); return 0;
    default: fputs(sign_usage, stderr); return 2;
    }
  }
  if (optind != argc - 1)
    return usage_error(sign_usage, "sign: expected one MANIFEST_OR_DIR_OR_IMAGE");
  if (!sign_by == !key)
    return usage_error(sign_usage, "sign: give exactly one of --sign-by and --key");
  brick_err err = {0};
  _cleanup_free_ char *manifest = NULL, *dir = NULL;
  size_t mlen;
  struct store_image si = {0};
  if (read_manifest(g, argv[optind], &manifest, &mlen, &dir, &si, &err) < 0) {
    store_image_clear(&si);
    return cli_fail(&err);
  }
  if (!identity && si.s && si.img.names && si.img.names[0])
    identity = si.img.names[0];
  if (!identity) {
    store_image_clear(&si);
    return usage_error(sign_usage, "sign: --identity is required");
  }
  int ret = sign_and_store(&si, identity, sign_by, gpg_home, key, sign_dir, lookaside,
                           registries_d, output, manifest, mlen, dir);
  store_image_clear(&si);
  return ret;
}

static int sign_and_store(struct store_image *si, const char *identity, const char *sign_by,
                          const char *gpg_home, const char *key, const char *sign_dir,
                          const char *lookaside, const char *registries_d, const char *output,
                          const char *manifest, size_t mlen, const char *dir) {
  brick_err err = {0};
  _cleanup_free_ unsigned char *sig = NULL;
  size_t sig_len = 0;
  int r = sign_by ? brick_simple_sign(gpg_home, sign_by, identity, (unsigned char *)manifest, mlen,
                                      &sig, &sig_len, &err)
                  : brick_sigstore_sign(key, getenv("BRICK_KEY_PASSWORD"), identity,
                                        (unsigned char *)manifest, mlen, &sig, &sig_len, &err);
  if (r < 0)
    return cli_fail(&err);
  if (output) {
    if (brick_write_file_atomic(output, sig, sig_len, 0644, &err) < 0)
      return cli_fail(&err);
    printf("%s\n", output);
    return 0;
  }
  _cleanup_free_ char *target = NULL, *base = NULL, *digest = NULL;
  if (sign_dir) {
    target = xstrdup(sign_dir);
  } else if (lookaside || registries_d) {
    if (lookaside)
      base = xstrdup(lookaside);
    else if (brick_registries_d_lookaside(registries_d, identity, true, &base, &err) < 0)
      return cli_fail(&err);
    if (!base) {
      fprintf(stderr, "brick: %s: no lookaside store configured for %s\n", registries_d,
              identity);
      return 1;
    }
    if (brick_manifest_digest((unsigned char *)manifest, mlen, &digest, &err) < 0 ||
        brick_lookaside_dir(base, identity, digest, &target, &err) < 0)
      return cli_fail(&err);
  } else if (dir) {
    target = xstrdup(dir);
  } else if (si->s) {
    struct brick_store_sig keep = {sig, sig_len};
    size_t added = 0;
    if (brick_store_signatures_add(si->s, si->img.id, &keep, 1, &added, &err) < 0)
      return cli_fail(&err);
    _cleanup_free_ char *sdir = brick_store_signature_dir(si->s, si->img.id);
    printf("%s%s\n", sdir, added ? "" : " (already there)");
    return 0;
  } else {
    return usage_error(sign_usage,
                       "sign: where to store? give --sign-dir, --lookaside, --registries-d or "
                       "--output (or sign a dir: image)");
  }
  _cleanup_free_ char *written = NULL;
  if (brick_sigs_write_next(target, sig, sig_len, &written, &err) < 0)
    return cli_fail(&err);
  printf("%s\n", written);
  return 0;
}

static const char verify_usage[] =
    "usage: brick verify --identity REF (--key KEYFILE... | --gpg-home DIR)\n"
    "                    [--signature FILE... | --sign-dir DIR | --lookaside DIR |\n"
    "                     --registries-d DIR] [--json] MANIFEST_OR_DIR_OR_IMAGE\n"
    "Verify an image's signatures: each must be cryptographically valid with a trusted key,\n"
    "sign this manifest's digest, and claim exactly REF. KEYFILE is an OpenPGP public key\n"
    "(simple signing) or a PEM public key (sigstore). Succeeds when at least one signature\n"
    "verifies. For an IMAGE in the store the signatures kept with it are checked (unless\n"
    "others are named) and --identity defaults to its first name.\n";

static bool is_pem_public_key(const struct brick_sig_blob *k) {
  static const char tag[] = "-----BEGIN PUBLIC KEY-----";
  return k->len >= sizeof tag - 1 && memmem(k->data, k->len, tag, sizeof tag - 1) != NULL;
}

int cmd_verify(const struct brick_global *g, int argc, char **argv) {
  static const struct option opts[] = {
      {"identity", required_argument, NULL, 'i'}, {"key", required_argument, NULL, 'k'},
      {"gpg-home", required_argument, NULL, 'g'}, {"signature", required_argument, NULL, 's'},
      {"sign-dir", required_argument, NULL, 'd'}, {"lookaside", required_argument, NULL, 'l'},
      {"registries-d", required_argument, NULL, 'r'}, {"json", no_argument, NULL, 'j'},
      {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
  const char *identity = NULL, *gpg_home = NULL, *sign_dir = NULL, *lookaside = NULL,
             *registries_d = NULL;
  _cleanup_strv_ char **key_files = NULL, **sig_files = NULL;
  _cleanup_free_ char *image_identity = NULL;
  bool json = false;
  int c;
  while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
    switch (c) {
    case 'i': identity = optarg; break;
    case 'k': brick_strv_push(&key_files, optarg); break;
    case 'g': gpg_home = optarg; break;
    case 's': brick_strv_push(&sig_files, optarg); break;
    case 'd': sign_dir = optarg; break;
    case 'l': lookaside = optarg; break;
    case 'r': registries_d = optarg; break;
    case 'j': json = true; break;
    case 'h': fputs(verify_usage, stdout); return 0;
    default: fputs(verify_usage, stderr); return 2;
    }
  }
  if (optind != argc - 1)
    return usage_error(verify_usage, "verify: expected one MANIFEST_OR_DIR_OR_IMAGE");
  if (!key_files && !gpg_home)
    return usage_error(verify_usage, "verify: give --key or --gpg-home");
  brick_err err = {0};
  _cleanup_free_ char *manifest = NULL, *dir = NULL, *digest = NULL, *image_sigs = NULL;
  size_t mlen;
  struct store_image si = {0};
  if (read_manifest(g, argv[optind], &manifest, &mlen, &dir, &si, &err) < 0 ||
      brick_manifest_digest((unsigned char *)manifest, mlen, &digest, &err) < 0) {
    store_image_clear(&si);
    return cli_fail(&err);
  }
  if (si.s) {
    /* the image's own signatures, unless the caller pointed elsewhere */
    if (!sign_dir && !lookaside && !registries_d)
      sign_dir = image_sigs = brick_store_signature_dir(si.s, si.img.id);
    if (!identity && si.img.names && si.img.names[0])
      identity = image_identity = xstrdup(si.img.names[0]);
    store_image_clear(&si);
  }
  if (!identity)
    return usage_error(verify_usage, "verify: --identity is required");

  /* Trusted keys, split by kind. */
  size_t nk = brick_strv_len(key_files), n_pem = 0, n_gpg = 0;
  struct brick_sig_blob *pem = xcalloc(nk + 1, sizeof *pem), *gpg = xcalloc(nk + 1, sizeof *gpg);
  int ret = 1;
  struct brick_sig_blob *sigs = NULL;
  size_t n_sigs = 0;
  json_t *results = json_array();
  for (size_t i = 0; i < nk; i++) {
    char *data;
    size_t len;
    if (brick_read_file(key_files[i], &data, &len, &err) < 0) {
      cli_fail(&err);
      goto out;
    }
    struct brick_sig_blob b = {(unsigned char *)data, len};
    if (is_pem_public_key(&b))
      pem[n_pem++] = b;
    else
      gpg[n_gpg++] = b;
  }

  /* Signatures: explicit files, a directory, the lookaside store, or the dir: image. */
  if (sig_files) {
    for (char **f = sig_files; *f; f++) {
      char *data;
      size_t len;
      if (brick_read_file(*f, &data, &len, &err) < 0) {
        cli_fail(&err);
        goto out;
      }
      sigs = xrealloc(sigs, (n_sigs + 1) * sizeof *sigs);
      sigs[n_sigs++] = (struct brick_sig_blob){(unsigned char *)data, len};
    }
  } else {
    _cleanup_free_ char *from = NULL;
    if (sign_dir) {
      from = xstrdup(sign_dir);
    } else if (lookaside) {
      if (brick_lookaside_dir(lookaside, identity, digest, &from, &err) < 0) {
        cli_fail(&err);
        goto out;
      }
    }
    int r;
    if (from)
      r = brick_sigs_read_dir(from, &sigs, &n_sigs, &err);
    else if (registries_d || !dir)
      r = brick_sigstore_load(registries_d, identity, digest, &sigs, &n_sigs, &err);
    else
      r = brick_sigs_read_dir(dir, &sigs, &n_sigs, &err);
    if (r < 0) {
      cli_fail(&err);
      goto out;
    }
  }
  if (n_sigs == 0) {
    fprintf(stderr, "brick: no signatures found for %s (%s)\n", identity, digest);
    goto out;
  }

  size_t good = 0;
  for (size_t i = 0; i < n_sigs; i++) {
    struct brick_sig_info info = {0};
    int r;
    if (brick_sig_is_sigstore(sigs[i].data, sigs[i].len)) {
      r = n_pem ? brick_sigstore_verify(pem, n_pem, sigs[i].data, sigs[i].len, &info, &err)
                : brick_error(&err, 0, "sigstore signature, but no PEM public key was given");
    } else {
      struct brick_gpg_keys k = {.gpg_home = n_gpg ? NULL : gpg_home, .keys = gpg,
                                 .n_keys = n_gpg};
      r = (n_gpg || gpg_home)
              ? brick_simple_verify(&k, sigs[i].data, sigs[i].len, &info, &err)
              : brick_error(&err, 0, "simple-signing signature, but no GPG key was given");
    }
    if (r == 0)
      r = brick_signature_check_image(&info, (unsigned char *)manifest, mlen, identity, &err);
    json_t *o = json_pack("{s:I,s:b}", "index", (json_int_t)i + 1, "verified", r == 0);
    json_object_set_new(o, "type", json_string(brick_sig_is_sigstore(sigs[i].data, sigs[i].len)
                                                   ? "sigstore" : "simple-signing"));
    if (r == 0) {
      good++;
      json_object_set_new(o, "identity", json_string(info.identity));
      json_object_set_new(o, "digest", json_string(info.digest));
      json_object_set_new(o, "key", json_string(info.key));
      if (!json)
        printf("signature %zu: verified: %s signed %s (%s)\n", i + 1, info.key, info.identity,
               info.digest);
    } else {
      json_object_set_new(o, "error", json_string(brick_error_msg(&err)));
      if (!json)
        printf("signature %zu: rejected: %s\n", i + 1, brick_error_msg(&err));
      brick_error_clear(&err);
    }
    json_array_append_new(results, o);
    brick_sig_info_clear(&info);
  }
  if (json) {
    json_t *top = json_pack("{s:s,s:s,s:b,s:O}", "identity", identity, "digest", digest,
                            "verified", good > 0, "signatures", results);
    char *s = json_dumps(top, JSON_INDENT(2));
    if (s)
      puts(s);
    free(s);
    json_decref(top);
  }
  if (good == 0)
    fprintf(stderr, "brick: no signature of %s verified\n", identity);
  ret = good > 0 ? 0 : 1;
out:
  json_decref(results);
  brick_sig_blobs_free(sigs, n_sigs);
  brick_sig_blobs_free(pem, n_pem);
  brick_sig_blobs_free(gpg, n_gpg);
  return ret;
}

static const char key_usage[] =
    "usage: brick key generate [--output-prefix PREFIX]\n"
    "Generate an ECDSA P-256 key pair: PREFIX.key (PKCS#8 PEM, encrypted when\n"
    "BRICK_KEY_PASSWORD is set) and PREFIX.pub (PEM public key). PREFIX defaults to brick.\n";

int cmd_key(const struct brick_global *g, int argc, char **argv) {
  (void)g;
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(key_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  if (strcmp(argv[1], "generate"))
    return usage_error(key_usage, "key: unknown subcommand \"%s\"", argv[1]);
  static const struct option opts[] = {{"output-prefix", required_argument, NULL, 'o'},
                                       {"help", no_argument, NULL, 'h'}, {0, 0, 0, 0}};
  const char *prefix = "brick";
  int c;
  optind = 0;
  while ((c = getopt_long(argc - 1, argv + 1, "+h", opts, NULL)) != -1) {
    switch (c) {
    case 'o': prefix = optarg; break;
    case 'h': fputs(key_usage, stdout); return 0;
    default: fputs(key_usage, stderr); return 2;
    }
  }
  if (optind != argc - 1)
    return usage_error(key_usage, "key generate: unexpected argument");
  brick_err err = {0};
  if (brick_key_generate(prefix, getenv("BRICK_KEY_PASSWORD"), &err) < 0)
    return cli_fail(&err);
  printf("%s.key\n%s.pub\n", prefix, prefix);
  return 0;
}

static const char policy_usage[] =
    "usage: brick policy show [--policy FILE] [--transport T] REFERENCE\n"
    "       brick policy check [--policy FILE] [--transport T] [--manifest FILE]\n"
    "                          [--signature FILE... | --registries-d DIR] REFERENCE\n"
    "show explains which policy entry applies to REFERENCE and what it requires; check\n"
    "evaluates it (exit 0 accepted, 1 rejected). REFERENCE may carry its transport\n"
    "(docker://host/repo:tag, dir:/path, oci:/path:tag); the default transport is docker.\n"
    "The policy is --policy, $BRICK_POLICY, ~/.config/containers/policy.json or\n"
    "/etc/containers/policy.json.\n"
    "REFERENCE may also be an IMAGE in the store (by name or id, no transport given): show\n"
    "names the entry for the source it was imported from; check asks what `brick run`\n"
    "asks (stored manifest, the signatures kept with it, the scan gate).\n";

static const char *const transports[] = {"docker",         "atomic", "containers-storage", "dir",
                                         "oci",            "oci-archive", "docker-archive",
                                         "docker-daemon"};

/* "transport:rest" when the prefix names a transport; otherwise the given default. */
static void split_transport(const char *arg, const char *given, const char **transport,
                            const char **ref) {
  *transport = given ? given : "docker";
  *ref = arg;
  if (given)
    return;
  for (size_t i = 0; i < ARRAY_SIZE(transports); i++) {
    size_t n = strlen(transports[i]);
    if (!strncmp(arg, transports[i], n) && arg[n] == ':') {
      *transport = transports[i];
      *ref = arg + n + 1;
      if (!strcmp(*transport, "docker") && brick_str_has_prefix(*ref, "//"))
        *ref += 2;
      return;
    }
  }
}

/* `policy show|check IMAGE` for an image in the store. */
static int policy_image(bool show, const char *policy_path, struct store_image *si) {
  brick_err err = {0};
  if (!show) {
    struct brick_trust_settings t = {.policy_path = policy_path};
    if (brick_trust_check_start(si->s, &si->img, &t, &err) < 0)
      return cli_fail(&err);
    printf("accepted: image %s (%.12s)\n", si->img.names && si->img.names[0]
                                                ? si->img.names[0] : si->img.id, si->img.id);
    return 0;
  }
  _cleanup_free_ char *transport = NULL, *reference = NULL;
  brick_trust_image_policy_name(si->s, &si->img, &transport, &reference);
  struct brick_policy *p = NULL;
  json_t *out = NULL;
  if (brick_policy_load(policy_path, &p, &err) < 0 ||
      brick_policy_explain(p, transport, reference, &out, &err) < 0) {
    brick_policy_free(p);
    return cli_fail(&err);
  }
  brick_policy_free(p);
  _cleanup_free_ char *sigdir = brick_store_signature_dir(si->s, si->img.id);
  struct brick_sig_blob *sigs = NULL;
  size_t n = 0;
  if (brick_sigs_read_dir(sigdir, &sigs, &n, &err) < 0) {
    json_decref(out);
    return cli_fail(&err);
  }
  brick_sig_blobs_free(sigs, n);
  json_object_set_new(out, "image", json_pack("{s:s, s:s, s:I, s:s}", "id", si->img.id,
                                              "digest", si->img.manifest_digest, "signatures",
                                              (json_int_t)n, "signatureDir", sigdir));
  char *txt = json_dumps(out, JSON_INDENT(2));
  if (txt)
    puts(txt);
  free(txt);
  json_decref(out);
  return 0;
}

int cmd_policy(const struct brick_global *g, int argc, char **argv) {
  if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
    fputs(policy_usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  bool show = !strcmp(argv[1], "show");
  if (!show && strcmp(argv[1], "check"))
    return usage_error(policy_usage, "policy: unknown subcommand \"%s\"", argv[1]);
  static const struct option opts[] = {
      {"policy", required_argument, NULL, 'p'},    {"transport", required_argument, NULL, 't'},
      {"manifest", required_argument, NULL, 'm'},  {"signature", required_argument, NULL, 's'},
      {"registries-d", required_argument, NULL, 'r'}, {"help", no_argument, NULL, 'h'},
      {0, 0, 0, 0}};
  const char *policy_path = NULL, *transport_opt = NULL, *manifest_path = NULL,
             *registries_d = NULL;
  _cleanup_strv_ char **sig_files = NULL;
  int c;
  optind = 0;
  while ((c = getopt_long(argc - 1, argv + 1, "+h", opts, NULL)) != -1) {
    switch (c) {
    case 'p': policy_path = optarg; break;
    case 't': transport_opt = optarg; break;
    case 'm': manifest_path = optarg; break;
    case 's': brick_strv_push(&sig_files, optarg); break;
    case 'r': registries_d = optarg; break;
    case 'h': fputs(policy_usage, stdout); return 0;
    default: fputs(policy_usage, stderr); return 2;
    }
  }
  if (optind != argc - 2)
    return usage_error(policy_usage, "policy %s: expected one REFERENCE", argv[1]);
  const char *transport, *ref;
  split_transport(argv[argc - 1], transport_opt, &transport, &ref);
  struct store_image si = {0};
  if (!transport_opt && ref == argv[argc - 1] && !manifest_path && !sig_files &&
      lookup_store_image(g, ref, &si)) {
    int r = policy_image(show, policy_path, &si);
    store_image_clear(&si);
    return r;
  }
  brick_err err = {0};
  struct brick_policy *p = NULL;
  if (brick_policy_load(policy_path, &p, &err) < 0)
    return cli_fail(&err);
  int ret = 1;
  if (show) {
    json_t *out = NULL;
    if (brick_policy_explain(p, transport, ref, &out, &err) < 0) {
      cli_fail(&err);
    } else {
      char *s = json_dumps(out, JSON_INDENT(2));
      if (s)
        puts(s);
      free(s);
      json_decref(out);
      ret = 0;
    }
    brick_policy_free(p);
    return ret;
  }

  /* check: the manifest and its signatures. */
  _cleanup_free_ char *manifest = NULL, *digest = NULL, *default_manifest = NULL;
  size_t mlen;
  struct brick_sig_blob *sigs = NULL;
  size_t n_sigs = 0;
  bool dir_image = !strcmp(transport, "dir");
  if (!manifest_path && dir_image)
    manifest_path = default_manifest = xasprintf("%s/manifest.json", ref);
  if (!manifest_path) {
    usage_error(policy_usage, "policy check: --manifest is required for transport %s", transport);
    brick_policy_free(p);
    return 2;
  }
  if (brick_read_file(manifest_path, &manifest, &mlen, &err) < 0 ||
      brick_manifest_digest((unsigned char *)manifest, mlen, &digest, &err) < 0)
    goto fail;
  if (sig_files) {
    for (char **f = sig_files; *f; f++) {
      char *data;
      size_t len;
      if (brick_read_file(*f, &data, &len, &err) < 0)
        goto fail;
      sigs = xrealloc(sigs, (n_sigs + 1) * sizeof *sigs);
      sigs[n_sigs++] = (struct brick_sig_blob){(unsigned char *)data, len};
    }
  } else if (dir_image) {
    if (brick_sigs_read_dir(ref, &sigs, &n_sigs, &err) < 0)
      goto fail;
  } else if (brick_transport_is_docker_like(transport)) {
    if (brick_sigstore_load(registries_d, ref, digest, &sigs, &n_sigs, &err) < 0)
      goto fail;
  }
  if (brick_policy_check(p, transport, ref, (unsigned char *)manifest, mlen, sigs, n_sigs,
                         &err) < 0)
    goto fail;
  printf("accepted: %s:%s (%zu signature%s)\n", transport, ref, n_sigs, n_sigs == 1 ? "" : "s");
  ret = 0;
  goto out;
fail:
  cli_fail(&err);
out:
  brick_sig_blobs_free(sigs, n_sigs);
  brick_policy_free(p);
  return ret;
}
