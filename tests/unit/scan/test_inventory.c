/* Package inventory: each database format (dpkg, apk, rpm sqlite/BerkeleyDB/ndb built to
 * the formats here), os-release, reading inside a rootfs only, and layer attribution. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/util.h"
#include "scan/scan.h"

static const struct brick_package *has(const struct brick_inventory *inv, const char *name) {
  for (size_t i = 0; i < inv->n_pkgs; i++)
    if (!strcmp(inv->pkgs[i].name, name))
      return &inv->pkgs[i];
  return NULL;
}

/* The package, or the test fails here. */
static const struct brick_package *find(const struct brick_inventory *inv, const char *name) {
  const struct brick_package *p = has(inv, name);
  if (!p) {
    print_error("package %s not in the inventory\n", name);
    abort();
  }
  return p;
}

static const char dpkg_status[] =
    "Package: libssl3\nStatus: install ok installed\nArchitecture: amd64\n"
    "Source: openssl\nVersion: 3.0.11-1~deb12u2\nDescription: ssl\n continuation: not a field\n\n"
    "Package: zlib1g\nStatus: install ok installed\nArchitecture: amd64\n"
    "Source: zlib (1:1.2.13.dfsg-1)\nVersion: 1:1.2.13.dfsg-1+b1\n\n"
    "Package: removed-pkg\nStatus: deinstall ok config-files\nVersion: 1.0\n\n"
    "Package: bash\nStatus: install ok installed\nVersion: 5.2.15-2+b2\nArchitecture: amd64\n";

static void test_dpkg(void **state) {
  (void)state;
  struct brick_inventory inv = {0};
  brick_err err = {0};
  assert_int_equal(brick_dpkg_parse_status(dpkg_status, strlen(dpkg_status), "status", &inv, &err), 0);
  assert_int_equal(inv.n_pkgs, 3);
  const struct brick_package *p = find(&inv, "libssl3");
  assert_non_null(p);
  assert_string_equal(p->source, "openssl");
  assert_null(p->source_version);
  assert_string_equal(p->version, "3.0.11-1~deb12u2");
  p = find(&inv, "zlib1g");
  assert_string_equal(p->source, "zlib");
  assert_string_equal(p->source_version, "1:1.2.13.dfsg-1");
  p = find(&inv, "bash");
  assert_string_equal(p->source, "bash");
  assert_null(has(&inv, "removed-pkg"));
  brick_inventory_free(&inv);

  const char bad[] = "Version: 1.0\nStatus: install ok installed\n";
  assert_int_equal(brick_dpkg_parse_status(bad, strlen(bad), "/var/lib/dpkg/status", &inv, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "/var/lib/dpkg/status"));
  assert_non_null(strstr(brick_error_msg(&err), "Package"));
  brick_error_clear(&err);
  brick_inventory_free(&inv);
}

static void test_apk(void **state) {
  (void)state;
  const char db[] = "C:Q1abc=\nP:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\n\n"
                    "P:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n\n";
  struct brick_inventory inv = {0};
  brick_err err = {0};
  assert_int_equal(brick_apk_parse_installed(db, strlen(db), "installed", &inv, &err), 0);
  assert_int_equal(inv.n_pkgs, 2);
  assert_string_equal(find(&inv, "libcrypto3")->source, "openssl");
  assert_string_equal(find(&inv, "musl")->version, "1.2.4_git20230717-r4");
  brick_inventory_free(&inv);
  const char bad[] = "P:foo\nA:x86_64\n\n";
  assert_int_equal(brick_apk_parse_installed(bad, strlen(bad), "installed", &inv, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "V:"));
  brick_error_clear(&err);
  brick_inventory_free(&inv);
}

static void test_os_release(void **state) {
  (void)state;
  struct { const char *text, *eco; } cases[] = {
      {"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\nVERSION_ID=\"12\"\n", "Debian:12"},
      {"ID=ubuntu\nVERSION_ID=\"22.04\"\n", "Ubuntu:22.04"},
      {"ID=alpine\nVERSION_ID=3.19.1\n", "Alpine:v3.19"},
      {"ID=\"almalinux\"\nVERSION_ID=\"9.3\"\n", "AlmaLinux:9"},
      {"ID=\"rocky\"\nVERSION_ID=\"8.9\"\n", "Rocky Linux:8"},
      {"ID=\"rhel\"\nVERSION_ID=\"9.2\"\n", "Red Hat:9"},
      {"ID=debian\n", NULL},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    struct brick_os os = {0};
    brick_os_release_parse(cases[i].text, &os);
    if (cases[i].eco)
      assert_string_equal(os.ecosystem, cases[i].eco);
    else
      assert_null(os.ecosystem);
    brick_os_free(&os);
  }
  char *k = brick_osv_ecosystem_key("Ubuntu:Pro:18.04:LTS");
  assert_string_equal(k, "Ubuntu:18.04");
  free(k);
  k = brick_osv_ecosystem_key("Red Hat:enterprise_linux:9::appstream");
  assert_string_equal(k, "Red Hat:9");
  free(k);
  k = brick_osv_ecosystem_key("Alpine:v3.19");
  assert_string_equal(k, "Alpine:v3.19");
  free(k);
  assert_null(brick_osv_ecosystem_key("PyPI"));
}

/* ---- rpm headers built to the format ---- */

struct hdr_builder {
  unsigned char index[16 * 8];
  unsigned char data[512];
  uint32_t il, dl;
};

static void put_be32(unsigned char *p, uint32_t v) {
  p[0] = (unsigned char)(v >> 24), p[1] = (unsigned char)(v >> 16);
  p[2] = (unsigned char)(v >> 8), p[3] = (unsigned char)v;
}
static void put_le32(unsigned char *p, uint32_t v) {
  p[3] = (unsigned char)(v >> 24), p[2] = (unsigned char)(v >> 16);
  p[1] = (unsigned char)(v >> 8), p[0] = (unsigned char)v;
}
static void put_le16(unsigned char *p, uint16_t v) { p[0] = (unsigned char)v, p[1] = (unsigned char)(v >> 8); }

static void hdr_entry(struct hdr_builder *h, uint32_t tag, uint32_t type, const void *val, size_t len) {
  if (type == 4)
    while (h->dl % 4)
      h->data[h->dl++] = 0;
  unsigned char *e = h->index + h->il * 16;
  put_be32(e, tag), put_be32(e + 4, type), put_be32(e + 8, h->dl), put_be32(e + 12, 1);
  memcpy(h->data + h->dl, val, len);
  h->dl += (uint32_t)len;
  h->il++;
}

/* Returns a malloc'd blob; *len set. */
static unsigned char *rpm_header(const char *name, const char *ver, const char *rel, int epoch,
                                 const char *srpm, size_t *len) {
  struct hdr_builder h = {0};
  hdr_entry(&h, 1000, 6, name, strlen(name) + 1);
  hdr_entry(&h, 1001, 6, ver, strlen(ver) + 1);
  hdr_entry(&h, 1002, 6, rel, strlen(rel) + 1);
  if (epoch >= 0) {
    unsigned char e[4];
    put_be32(e, (uint32_t)epoch);
    hdr_entry(&h, 1003, 4, e, 4);
  }
  hdr_entry(&h, 1022, 6, "x86_64", 7);
  hdr_entry(&h, 1044, 6, srpm, strlen(srpm) + 1);
  *len = 8 + h.il * 16 + h.dl;
  unsigned char *b = xmalloc(*len);
  put_be32(b, h.il), put_be32(b + 4, h.dl);
  memcpy(b + 8, h.index, h.il * 16);
  memcpy(b + 8 + h.il * 16, h.data, h.dl);
  return b;
}

static void check_rpm_pkgs(const struct brick_inventory *inv) {
  assert_int_equal(inv->n_pkgs, 2);
  const struct brick_package *p = find(inv, "openssl-libs");
  assert_non_null(p);
  assert_string_equal(p->version, "1:3.0.7-24.el9");
  assert_string_equal(p->source, "openssl");
  assert_string_equal(p->arch, "x86_64");
  p = find(inv, "bash");
  assert_string_equal(p->version, "5.1.8-6.el9");
  assert_string_equal(p->source, "bash");
}

static void test_rpm_header_and_ndb(void **state) {
  (void)state;
  size_t l1, l2;
  _cleanup_free_ unsigned char *h1 = rpm_header("openssl-libs", "3.0.7", "24.el9", 1,
                                                "openssl-3.0.7-24.el9.src.rpm", &l1);
  _cleanup_free_ unsigned char *h2 = rpm_header("bash", "5.1.8", "6.el9", -1,
                                                "bash-5.1.8-6.el9.src.rpm", &l2);
  /* ndb: one slot page, blobs from the second page */
  size_t size = 4096 * 3;
  _cleanup_free_ unsigned char *db = xcalloc(1, size);
  put_le32(db, 'R' | 'p' << 8 | 'm' << 16 | (uint32_t)'P' << 24);
  put_le32(db + 12, 1);
  unsigned char *hs[2] = {h1, h2};
  size_t ls[2] = {l1, l2}, blk = 4096 / 16;
  for (size_t i = 0; i < 32 * 0 + (4096 - 32) / 16; i++)
    put_le32(db + 32 + i * 16, 'S' | 'l' << 8 | 'o' << 16 | (uint32_t)'t' << 24);
  for (int i = 0; i < 2; i++) {
    unsigned char *slot = db + 32 + i * 16;
    size_t nblk = (16 + ls[i] + 12 + 15) / 16;
    put_le32(slot + 4, (uint32_t)(i + 1)), put_le32(slot + 8, (uint32_t)blk), put_le32(slot + 12, (uint32_t)nblk);
    unsigned char *b = db + blk * 16;
    put_le32(b, 'B' | 'l' << 8 | 'b' << 16 | (uint32_t)'S' << 24);
    put_le32(b + 4, (uint32_t)(i + 1)), put_le32(b + 12, (uint32_t)ls[i]);
    memcpy(b + 16, hs[i], ls[i]);
    blk += nblk;
  }
  struct brick_inventory inv = {0};
  brick_err err = {0};
  assert_int_equal(brick_rpm_parse_ndb(db, size, "Packages.db", &inv, &err), 0);
  check_rpm_pkgs(&inv);
  brick_inventory_free(&inv);
  /* a corrupt slot is an error naming the file, not a crash */
  put_le32(db + 32 + 16, 0xdeadbeef);
  assert_int_equal(brick_rpm_parse_ndb(db, size, "/var/lib/rpm/Packages.db", &inv, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "Packages.db"));
  brick_error_clear(&err);
  brick_inventory_free(&inv);
  /* truncated header */
  assert_int_equal(brick_rpm_parse_header(h1, 20, "x", &inv, &err), -1);
  brick_error_clear(&err);
  brick_inventory_free(&inv);
}

static void test_rpm_bdb(void **state) {
  (void)state;
  size_t l1, l2;
  _cleanup_free_ unsigned char *h1 = rpm_header("openssl-libs", "3.0.7", "24.el9", 1,
                                                "openssl-3.0.7-24.el9.src.rpm", &l1);
  _cleanup_free_ unsigned char *h2 = rpm_header("bash", "5.1.8", "6.el9", -1,
                                                "bash-5.1.8-6.el9.src.rpm", &l2);
  const size_t ps = 512;
  size_t npages = 8;
  _cleanup_free_ unsigned char *db = xcalloc(npages, ps);
  put_le32(db + 12, 0x061561);
  put_le32(db + 20, (uint32_t)ps);
  db[25] = 8;
  /* page 1: hash page with key/value pairs: (counter key, small value), (key, offpage h1),
   * (key, offpage h2) */
  unsigned char *pg = db + ps;
  pg[25] = 13;
  put_le16(pg + 20, 6);
  uint16_t off = (uint16_t)ps;
  uint32_t ovpages[2] = {2, 5};
  unsigned char *hs[2] = {h1, h2};
  size_t ls[2] = {l1, l2};
  for (int i = 0; i < 3; i++) {
    off -= 5; /* key: H_KEYDATA + 4 bytes */
    pg[off] = 1;
    put_le32(pg + off + 1, (uint32_t)i);
    put_le16(pg + 26 + (i * 2) * 2, off);
    if (i == 0) {
      off -= 5;
      pg[off] = 1;
      put_le32(pg + off + 1, 2);
    } else {
      off -= 12;
      pg[off] = 3;
      put_le32(pg + off + 4, ovpages[i - 1]);
      put_le32(pg + off + 8, (uint32_t)ls[i - 1]);
    }
    put_le16(pg + 26 + (i * 2 + 1) * 2, off);
  }
  /* overflow chains */
  for (int i = 0; i < 2; i++) {
    size_t done = 0;
    uint32_t p = ovpages[i];
    while (done < ls[i]) {
      unsigned char *o = db + p * ps;
      size_t n = ls[i] - done < ps - 26 ? ls[i] - done : ps - 26;
      o[25] = 7;
      put_le16(o + 22, (uint16_t)n);
      memcpy(o + 26, hs[i] + done, n);
      done += n;
      put_le32(o + 16, done < ls[i] ? p + 1 : 0);
      p++;
    }
  }
  struct brick_inventory inv = {0};
  brick_err err = {0};
  assert_int_equal(brick_rpm_parse_bdb(db, npages * ps, "Packages", &inv, &err), 0);
  check_rpm_pkgs(&inv);
  brick_inventory_free(&inv);
  /* an overflow chain reaching a page of another kind */
  db[2 * ps + 25] = 0;
  assert_int_equal(brick_rpm_parse_bdb(db, npages * ps, "Packages", &inv, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "overflow"));
  brick_error_clear(&err);
  brick_inventory_free(&inv);
}

static void write_rpm_sqlite(const char *path) {
  sqlite3 *db;
  assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA journal_mode=WAL; CREATE TABLE Packages(hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL)", NULL, NULL, NULL), SQLITE_OK);
  sqlite3_stmt *st;
  assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO Packages(blob) VALUES (?)", -1, &st, NULL), SQLITE_OK);
  size_t l;
  unsigned char *h = rpm_header("openssl-libs", "3.0.7", "24.el9", 1, "openssl-3.0.7-24.el9.src.rpm", &l);
  sqlite3_bind_blob(st, 1, h, (int)l, free);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_reset(st);
  h = rpm_header("bash", "5.1.8", "6.el9", -1, "bash-5.1.8-6.el9.src.rpm", &l);
  sqlite3_bind_blob(st, 1, h, (int)l, free);
  assert_int_equal(sqlite3_step(st), SQLITE_DONE);
  sqlite3_finalize(st);
  sqlite3_exec(db, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
  sqlite3_close(db);
}

static char tmpdir[64];

static void test_rpm_sqlite_rootfs(void **state) {
  (void)state;
  brick_err err = {0};
  _cleanup_free_ char *d = xasprintf("%s/rpmroot/usr/lib/sysimage/rpm", tmpdir);
  assert_int_equal(brick_mkdir_p(d, 0755, &err), 0);
  _cleanup_free_ char *db = xasprintf("%s/rpmdb.sqlite", d);
  write_rpm_sqlite(db);
  _cleanup_free_ char *etc = xasprintf("%s/rpmroot/etc", tmpdir);
  assert_int_equal(brick_mkdir_p(etc, 0755, &err), 0);
  _cleanup_free_ char *osr = xasprintf("%s/os-release", etc);
  assert_int_equal(brick_write_file_atomic(osr, "ID=\"almalinux\"\nVERSION_ID=\"9.3\"\n", 32, 0644, &err), 0);
  _cleanup_free_ char *root = xasprintf("%s/rpmroot", tmpdir);
  struct brick_inventory inv = {0};
  assert_int_equal(brick_inventory_rootfs(root, &inv, &err), 0);
  check_rpm_pkgs(&inv);
  assert_string_equal(inv.os.ecosystem, "AlmaLinux:9");
  brick_inventory_free(&inv);
}

/* An image whose dpkg status is an absolute symlink must not make the scanner read the
 * host's file: the link resolves inside the rootfs. */
static void test_rootfs_symlink_stays_inside(void **state) {
  (void)state;
  brick_err err = {0};
  _cleanup_free_ char *root = xasprintf("%s/evil", tmpdir);
  _cleanup_free_ char *dpkg = xasprintf("%s/var/lib/dpkg", root);
  assert_int_equal(brick_mkdir_p(dpkg, 0755, &err), 0);
  /* host-side target that must not be read */
  _cleanup_free_ char *host_status = xasprintf("%s/host-status", tmpdir);
  assert_int_equal(brick_write_file_atomic(host_status, dpkg_status, strlen(dpkg_status), 0644, &err), 0);
  _cleanup_free_ char *link = xasprintf("%s/status", dpkg);
  assert_int_equal(symlink(host_status, link), 0);
  _cleanup_free_ char *up = xasprintf("%s/etc", root);
  assert_int_equal(brick_mkdir_p(up, 0755, &err), 0);
  _cleanup_free_ char *osr = xasprintf("%s/etc/os-release", root);
  assert_int_equal(symlink("../../../../../../../../usr/lib/os-release", osr), 0);
  struct brick_inventory inv = {0};
  assert_int_equal(brick_inventory_rootfs(root, &inv, &err), 0);
  assert_int_equal(inv.n_pkgs, 0);  /* following the link outside would find 3 */
  assert_null(inv.os.id);           /* and the host's os-release */
  brick_inventory_free(&inv);
  /* the same file placed inside the root (where the link points, re-rooted) is read */
  _cleanup_free_ char *inside = xasprintf("%s%s", root, host_status);
  _cleanup_free_ char *inside_dir = xstrdup(inside);
  *strrchr(inside_dir, '/') = '\0';
  assert_int_equal(brick_mkdir_p(inside_dir, 0755, &err), 0);
  assert_int_equal(brick_write_file_atomic(inside, dpkg_status, strlen(dpkg_status), 0644, &err), 0);
  assert_int_equal(brick_inventory_rootfs(root, &inv, &err), 0);
  assert_int_equal(inv.n_pkgs, 3);
  brick_inventory_free(&inv);
}

static void tar_add(struct archive *a, const char *path, const char *data) {
  struct archive_entry *e = archive_entry_new();
  archive_entry_set_pathname(e, path);
  archive_entry_set_filetype(e, data ? AE_IFREG : AE_IFDIR);
  archive_entry_set_perm(e, 0644);
  archive_entry_set_size(e, data ? (la_int64_t)strlen(data) : 0);
  assert_int_equal(archive_write_header(a, e), ARCHIVE_OK);
  if (data)
    assert_int_equal(archive_write_data(a, data, strlen(data)), (la_ssize_t)strlen(data));
  archive_entry_free(e);
}

static char *make_layer(int n, const char *const *entries) {
  char *path = xasprintf("%s/layer%d.tar.gz", tmpdir, n);
  struct archive *a = archive_write_new();
  archive_write_set_format_pax_restricted(a);
  archive_write_add_filter_gzip(a);
  assert_int_equal(archive_write_open_filename(a, path), ARCHIVE_OK);
  for (size_t i = 0; entries[i]; i += 2)
    tar_add(a, entries[i], entries[i + 1]);
  archive_write_close(a);
  archive_write_free(a);
  return path;
}

static void test_layers(void **state) {
  (void)state;
  const char *l0[] = {"etc/os-release", "ID=debian\nVERSION_ID=12\n",
                      "var/lib/dpkg/status",
                      "Package: base\nStatus: install ok installed\nVersion: 1.0\n\n"
                      "Package: zlib1g\nStatus: install ok installed\nVersion: 1.2\n",
                      "var/lib/dpkg/status.d/", NULL,
                      "var/lib/dpkg/status.d/old", "Package: dropped\nVersion: 9\n", NULL};
  const char *l1[] = {"usr/bin/tool", "x", NULL};
  const char *l2[] = {"var/lib/dpkg/status",
                      "Package: base\nStatus: install ok installed\nVersion: 1.0\n\n"
                      "Package: zlib1g\nStatus: install ok installed\nVersion: 1.3\n\n"
                      "Package: curl\nStatus: install ok installed\nVersion: 8.0\n",
                      "var/lib/dpkg/status.d/.wh.old", "", NULL};
  char *paths[3] = {make_layer(0, l0), make_layer(1, l1), make_layer(2, l2)};
  char *digests[3] = {"sha256:aaa", "sha256:bbb", "sha256:ccc"};
  struct brick_inventory inv = {0};
  brick_err err = {0};
  assert_int_equal(brick_inventory_layers(paths, digests, 3, &inv, &err), 0);
  assert_int_equal(inv.n_pkgs, 3);
  assert_null(has(&inv, "dropped"));   /* whited out in layer 2 */
  assert_int_equal(find(&inv, "base")->layer, 0);
  assert_int_equal(find(&inv, "zlib1g")->layer, 2);  /* upgraded there */
  assert_string_equal(find(&inv, "zlib1g")->layer_digest, "sha256:ccc");
  assert_int_equal(find(&inv, "curl")->layer, 2);
  assert_string_equal(inv.os.ecosystem, "Debian:12");
  brick_inventory_free(&inv);

  /* opaque directory in a later layer hides status.d entries below it */
  const char *l3[] = {"var/lib/dpkg/status.d/.wh..wh..opq", "", NULL};
  char *p2[2] = {paths[0], make_layer(3, l3)};
  assert_int_equal(brick_inventory_layers(p2, NULL, 2, &inv, &err), 0);
  assert_null(has(&inv, "dropped"));
  assert_non_null(has(&inv, "base"));
  brick_inventory_free(&inv);

  /* a layer that is not an archive fails with its index in the message */
  _cleanup_free_ char *junk = xasprintf("%s/junk", tmpdir);
  assert_int_equal(brick_write_file_atomic(junk, "not a tar", 9, 0644, &err), 0);
  char *p3[2] = {paths[0], junk};
  assert_int_equal(brick_inventory_layers(p3, NULL, 2, &inv, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "layer 1"));
  brick_error_clear(&err);
  brick_inventory_free(&inv);
  for (int i = 0; i < 3; i++)
    free(paths[i]);
  free(p2[1]);
}

static void test_json_roundtrip(void **state) {
  (void)state;
  struct brick_inventory inv = {0}, back = {0};
  brick_err err = {0};
  assert_int_equal(brick_dpkg_parse_status(dpkg_status, strlen(dpkg_status), "s", &inv, &err), 0);
  brick_os_release_parse("ID=debian\nVERSION_ID=12\n", &inv.os);
  inv.pkgs[0].layer = 3;
  json_t *j = brick_inventory_to_json(&inv);
  assert_int_equal(brick_inventory_from_json(j, &back, &err), 0);
  json_decref(j);
  assert_int_equal(back.n_pkgs, inv.n_pkgs);
  assert_string_equal(back.os.ecosystem, "Debian:12");
  assert_int_equal(back.pkgs[0].layer, 3);
  assert_string_equal(find(&back, "zlib1g")->source_version, "1:1.2.13.dfsg-1");
  brick_inventory_free(&inv);
  brick_inventory_free(&back);
}

static int setup(void **state) {
  (void)state;
  strcpy(tmpdir, "/tmp/brick-scan-inv-XXXXXX");
  return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  brick_err err = {0};
  brick_rm_rf(tmpdir, &err);
  brick_error_clear(&err);
  return 0;
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dpkg),
      cmocka_unit_test(test_apk),
      cmocka_unit_test(test_os_release),
      cmocka_unit_test(test_rpm_header_and_ndb),
      cmocka_unit_test(test_rpm_bdb),
      cmocka_unit_test(test_rpm_sqlite_rootfs),
      cmocka_unit_test(test_rootfs_symlink_stays_inside),
      cmocka_unit_test(test_layers),
      cmocka_unit_test(test_json_roundtrip),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
