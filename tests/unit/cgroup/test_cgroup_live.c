/* Real cgroups on this host (root only; skipped otherwise): a forked child is put into a
 * uniquely named test cgroup, limits are read back from the kernel's files, freeze,
 * kill and destroy are observed on the child, and device rules are shown to block a
 * device (and shown not to when the rules are absent). Every test removes its cgroups
 * in teardown, also when it fails, and checks that nothing named brick-test-* is left. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <glob.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "cgroup/cgroup.h"
#include "cgroup/cgroup_internal.h"
#include "core/util.h"

static char cg_path[128];
static pid_t children[8];
static size_t n_children;
static struct brick_cgroup_mounts v2_only;   /* the real cgroup2 mount, seen as pure v2 */

static const struct brick_cgroup_mounts *M(void) { return cg_mounts(NULL); }

static void track(pid_t p) { children[n_children++] = p; }

static int setup(void **state) {
  (void)state;
  static int counter;
  snprintf(cg_path, sizeof(cg_path), "/brick-test-%d-%d", (int)getpid(), ++counter);
  n_children = 0;
  return 0;
}

static void rmdir_glob(const char *pattern, int *left) {
  glob_t g;
  if (glob(pattern, GLOB_ONLYDIR, NULL, &g) != 0)
    return;
  for (size_t i = g.gl_pathc; i-- > 0;) {
    (*left)++;
    rmdir(g.gl_pathv[i]);
  }
  globfree(&g);
}

static int teardown(void **state) {
  (void)state;
  brick_err err = {0};
  cg_mounts_override(NULL);
  for (size_t i = 0; i < n_children; i++)
    kill(children[i], SIGKILL);
  if (brick_cgroup_destroy(cg_path, false, &err) < 0)
    fprintf(stderr, "teardown destroy: %s\n", brick_error_msg(&err));
  brick_error_clear(&err);
  for (size_t i = 0; i < n_children; i++)
    waitpid(children[i], NULL, 0);
  while (waitpid(-1, NULL, WNOHANG) > 0)
    ;
  int left = 0;
  char pat[256];
  snprintf(pat, sizeof(pat), "/sys/fs/cgroup/*/brick-test-%d-*/*", (int)getpid());
  rmdir_glob(pat, &left);
  snprintf(pat, sizeof(pat), "/sys/fs/cgroup/*/brick-test-%d-*", (int)getpid());
  rmdir_glob(pat, &left);
  snprintf(pat, sizeof(pat), "/sys/fs/cgroup/brick-test-%d-*", (int)getpid());
  rmdir_glob(pat, &left);
  if (left) {
    fprintf(stderr, "teardown: %d cgroup directories were left behind\n", left);
    return -1;
  }
  return 0;
}

static pid_t spawn_sleeper(void) {
  pid_t p = fork();
  assert_true(p >= 0);
  if (p == 0) {
    for (;;)
      pause();
  }
  track(p);
  return p;
}

static char *hdir(enum cg_ctrl c) { return cg_dir_for(M(), c, cg_path, NULL); }

static void expect_file(const char *dir, const char *file, const char *want) {
  char *got = NULL;
  brick_err err = {0};
  if (cg_read(dir, file, &got, &err) < 0)
    fail_msg("%s", brick_error_msg(&err));
  got[strcspn(got, "\n")] = '\0';
  if (strcmp(got, want))
    fail_msg("%s/%s: want \"%s\", got \"%s\"", dir, file, want, got);
  free(got);
}

static bool file_lists_pid(const char *dir, pid_t pid) {
  char *text = NULL;
  if (cg_read(dir, "cgroup.procs", &text, NULL) < 0)
    return false;
  char needle[24];
  snprintf(needle, sizeof(needle), "%d\n", (int)pid);
  bool found = !strncmp(text, needle, strlen(needle)) || strstr(text, needle + 0) != NULL;
  free(text);
  return found;
}

#define ENTER_OK(res, pid)                                                 \
  do {                                                                     \
    brick_err e_ = {0};                                                    \
    bool left_ = false;                                                    \
    if (brick_cgroup_enter(cg_path, NULL, (res), (pid), &left_, &e_) < 0)  \
      fail_msg("enter: %s", brick_error_msg(&e_));                         \
  } while (0)

static void test_enter_limits_readback(void **state) {
  (void)state;
  pid_t child = spawn_sleeper();
  struct brick_resources r = {.present = true};
  r.memory.has_limit = true; r.memory.limit = 64 << 20;
  r.pids.has_limit = true; r.pids.limit = 32;
  r.cpu.has_shares = true; r.cpu.shares = 512;
  r.cpu.has_quota = true; r.cpu.quota = 50000;
  r.cpu.has_period = true; r.cpu.period = 100000;
  ENTER_OK(&r, child);
  if (M()->mode == BRICK_CGROUP_V2) {
    char *d = cg_unified_dir(M(), cg_path);
    expect_file(d, "memory.max", "67108864");
    expect_file(d, "pids.max", "32");
    expect_file(d, "cpu.weight", "20");
    expect_file(d, "cpu.max", "50000 100000");
    assert_true(file_lists_pid(d, child));
    free(d);
  } else {
    char *mem = hdir(CG_MEMORY), *pids = hdir(CG_PIDS), *cpu = hdir(CG_CPU);
    expect_file(mem, "memory.limit_in_bytes", "67108864");
    expect_file(pids, "pids.max", "32");
    expect_file(cpu, "cpu.shares", "512");
    expect_file(cpu, "cpu.cfs_quota_us", "50000");
    expect_file(cpu, "cpu.cfs_period_us", "100000");
    for (size_t i = 0; i < M()->n_v1; i++) {
      char *d = cg_join(M()->v1[i].mountpoint, cg_path);
      if (!file_lists_pid(d, child))
        fail_msg("child not in %s", d);
      free(d);
    }
    if (M()->unified) {
      char *u = cg_unified_dir(M(), cg_path);
      assert_true(file_lists_pid(u, child));
      free(u);
    }
    free(mem);
    free(pids);
    free(cpu);
  }
  pid_t *pids = NULL;
  size_t n = 0;
  brick_err err = {0};
  assert_int_equal(brick_cgroup_pids(cg_path, &pids, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(pids[0], child);
  free(pids);

  json_t *st = NULL;
  assert_int_equal(brick_cgroup_stats(cg_path, &st, &err), 0);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "pids"), "current")), 1);
  assert_int_equal(json_integer_value(json_object_get(json_object_get(st, "pids"), "limit")), 32);
  json_t *mu = json_object_get(json_object_get(st, "memory"), "usage");
  assert_int_equal(json_integer_value(json_object_get(mu, "limit")), 64 << 20);
  assert_non_null(json_object_get(json_object_get(json_object_get(st, "cpu"), "usage"), "total"));
  json_decref(st);

  /* update, and checkBeforeUpdate refusing a limit below the usage */
  struct brick_resources u = {.present = true};
  u.memory.has_limit = true; u.memory.limit = 1;
  u.memory.has_check_before_update = true; u.memory.check_before_update = true;
  uint64_t usage = 0;
  char *mem = M()->mode == BRICK_CGROUP_V2 ? cg_unified_dir(M(), cg_path) : hdir(CG_MEMORY);
  cg_read_u64(mem, M()->mode == BRICK_CGROUP_V2 ? "memory.current" : "memory.usage_in_bytes",
              &usage, NULL);
  if (usage > 1) {
    assert_int_equal(brick_cgroup_update(cg_path, false, &u, &err), -1);
    assert_non_null(strstr(brick_error_msg(&err), "below the current usage"));
    brick_error_clear(&err);
  }
  u.memory.limit = 128 << 20;
  u.pids.has_limit = true;
  u.pids.limit = -1;
  if (brick_cgroup_update(cg_path, false, &u, &err) < 0)
    fail_msg("update: %s", brick_error_msg(&err));
  if (M()->mode == BRICK_CGROUP_V2) {
    expect_file(mem, "memory.max", "134217728");
  } else {
    expect_file(mem, "memory.limit_in_bytes", "134217728");
    char *pd = hdir(CG_PIDS);
    expect_file(pd, "pids.max", "max");
    free(pd);
  }
  free(mem);
}

static void test_freeze_thaw(void **state) {
  (void)state;
  volatile uint64_t *counter = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
  assert_true(counter != MAP_FAILED);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0)
    for (;;)
      (*counter)++;
  track(child);
  ENTER_OK(NULL, child);
  brick_err err = {0};
  bool frozen = true;
  assert_int_equal(brick_cgroup_is_frozen(cg_path, &frozen, &err), 0);
  assert_false(frozen);
  if (brick_cgroup_freeze(cg_path, true, &err) < 0)
    fail_msg("freeze: %s", brick_error_msg(&err));
  assert_int_equal(brick_cgroup_is_frozen(cg_path, &frozen, &err), 0);
  assert_true(frozen);
  uint64_t a = *counter;
  cg_sleep_ms(150);
  assert_true(*counter == a);          /* it really stopped */
  assert_int_equal(brick_cgroup_freeze(cg_path, false, &err), 0);
  assert_int_equal(brick_cgroup_is_frozen(cg_path, &frozen, &err), 0);
  assert_false(frozen);
  cg_sleep_ms(100);
  assert_true(*counter != a);
  munmap((void *)counter, 4096);
}

static void test_kill_all_catches_forks(void **state) {
  (void)state;
  assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1)
      _exit(1);
    for (int i = 0; i < 3; i++)
      if (fork() == 0)
        for (;;)
          pause();
    for (;;)
      pause();
  }
  track(child);
  close(go[0]);
  ENTER_OK(NULL, child);
  assert_int_equal(write(go[1], "x", 1), 1);
  close(go[1]);
  pid_t *pids = NULL;
  size_t n = 0;
  brick_err err = {0};
  for (int i = 0; i < 200 && n < 4; i++) {
    free(pids);
    assert_int_equal(brick_cgroup_pids(cg_path, &pids, &n, &err), 0);
    cg_sleep_ms(10);
  }
  assert_int_equal(n, 4);
  free(pids);
  /* a non-KILL signal goes through freeze / signal / thaw */
  if (brick_cgroup_kill_all(cg_path, SIGTERM, &err) < 0)
    fail_msg("kill_all: %s", brick_error_msg(&err));
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  for (int i = 0; i < 3; i++) {
    pid_t w = waitpid(-1, &status, 0);
    assert_true(w > 0);
    assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
  }
  n_children = 0;
  for (int i = 0; i < 200; i++) {
    assert_int_equal(brick_cgroup_pids(cg_path, &pids, &n, &err), 0);
    free(pids);
    if (!n)
      break;
    cg_sleep_ms(10);
  }
  assert_int_equal(n, 0);
  prctl(PR_SET_CHILD_SUBREAPER, 0);
}

static void test_destroy_kills_and_is_idempotent(void **state) {
  (void)state;
  pid_t child = spawn_sleeper();
  struct brick_resources r = {.present = true};
  r.pids.has_limit = true;
  r.pids.limit = 10;
  ENTER_OK(&r, child);
  /* a paused container is destroyed too */
  brick_err err = {0};
  assert_int_equal(brick_cgroup_freeze(cg_path, true, &err), 0);
  if (brick_cgroup_destroy(cg_path, false, &err) < 0)
    fail_msg("destroy: %s", brick_error_msg(&err));
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  assert_true(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
  n_children = 0;
  for (size_t i = 0; i < M()->n_v1; i++) {
    char *d = cg_join(M()->v1[i].mountpoint, cg_path);
    assert_int_equal(access(d, F_OK), -1);
    free(d);
  }
  char *u = cg_unified_dir(M(), cg_path);
  if (u)
    assert_int_equal(access(u, F_OK), -1);
  free(u);
  assert_int_equal(brick_cgroup_destroy(cg_path, false, &err), 0);   /* again: already gone */
  pid_t *pids = NULL;
  size_t n;
  assert_int_equal(brick_cgroup_pids(cg_path, &pids, &n, &err), -1);
  brick_error_clear(&err);
}

/* A child that waits for "go", then reports whether it could open /dev/null and /dev/zero. */
static int device_probe(const struct brick_resources *res) {
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t child = fork();
  assert_true(child >= 0);
  if (child == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1)
      _exit(100);
    int r = 0;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
      r |= 1;
      close(fd);
    }
    fd = open("/dev/zero", O_RDONLY);
    if (fd >= 0) {
      r |= 2;
      close(fd);
    }
    _exit(r);
  }
  track(child);
  close(go[0]);
  ENTER_OK(res, child);
  assert_int_equal(write(go[1], "x", 1), 1);
  close(go[1]);
  int status;
  assert_int_equal(waitpid(child, &status, 0), child);
  n_children--;
  assert_true(WIFEXITED(status));
  return WEXITSTATUS(status);
}

static const struct brick_device_rule null_only[] = {
  {.allow = false, .type = 'a', .major = -1, .minor = -1, .access = "rwm"},
  {.allow = true, .type = 'c', .major = 1, .minor = 3, .access = "rwm"},
};

static void test_devices_v1(void **state) {
  (void)state;
  if (!cg_v1_find(M(), CG_DEVICES))
    skip();
  /* control: without rules both devices open */
  assert_int_equal(device_probe(NULL), 3);
  brick_err err = {0};
  assert_int_equal(brick_cgroup_destroy(cg_path, false, &err), 0);
  struct brick_resources r = {.present = true, .devices = (struct brick_device_rule *)null_only,
                              .n_devices = ARRAY_SIZE(null_only)};
  assert_int_equal(device_probe(&r), 1);
  char *d = hdir(CG_DEVICES);
  expect_file(d, "devices.list", "c 1:3 rwm");
  free(d);
}

static int setup_v2(void **state) {
  if (!M() || !M()->unified)
    return 0;
  memset(&v2_only, 0, sizeof(v2_only));
  v2_only.mode = BRICK_CGROUP_V2;
  v2_only.unified = M()->unified;
  return setup(state);
}

static void test_devices_bpf_v2(void **state) {
  (void)state;
  if (!M()->unified)
    skip();
  cg_mounts_override(&v2_only);
  assert_int_equal(device_probe(NULL), 3);                  /* control: no program */
  struct brick_resources r = {.present = true, .devices = (struct brick_device_rule *)null_only,
                              .n_devices = ARRAY_SIZE(null_only)};
  brick_err err = {0};
  assert_int_equal(brick_cgroup_destroy(cg_path, false, &err), 0);
  assert_int_equal(device_probe(&r), 1);                    /* /dev/zero refused */
  /* update replaces the program: now /dev/zero is allowed for reading */
  struct brick_device_rule more[] = {
    null_only[0], null_only[1],
    {.allow = true, .type = 'c', .major = 1, .minor = 5, .access = "r"},
  };
  struct brick_resources u = {.present = true, .devices = more, .n_devices = 3};
  if (brick_cgroup_update(cg_path, false, &u, &err) < 0)
    fail_msg("update: %s", brick_error_msg(&err));
  pid_t child = spawn_sleeper();
  assert_int_equal(brick_cgroup_join(cg_path, child, &err), 0);
  /* a joined process is under the new program: /dev/zero readable, not writable. Had
   * the first program stayed attached, reading would still be refused. */
  int go[2];
  assert_int_equal(pipe(go), 0);
  pid_t probe = fork();
  if (probe == 0) {
    char c;
    close(go[1]);
    if (read(go[0], &c, 1) != 1)
      _exit(100);
    int fd = open("/dev/zero", O_RDONLY);
    int wfd = open("/dev/zero", O_WRONLY);
    _exit((fd >= 0 ? 1 : 0) | (wfd >= 0 ? 2 : 0));
  }
  track(probe);
  close(go[0]);
  assert_int_equal(brick_cgroup_join(cg_path, probe, &err), 0);
  assert_int_equal(write(go[1], "x", 1), 1);
  close(go[1]);
  int status;
  assert_int_equal(waitpid(probe, &status, 0), probe);
  n_children--;
  assert_int_equal(WEXITSTATUS(status), 1);                 /* read yes, write no */
}

static void test_rollback_leaves_nothing(void **state) {
  (void)state;
  pid_t child = spawn_sleeper();
  brick_err err = {0};
  struct brick_resources r = {.present = true};
  r.pids.has_limit = true;
  r.pids.limit = 5;
  r.cpu.cpus = "4095";             /* applied after the directories exist; the kernel refuses */
  if (M()->mode == BRICK_CGROUP_V2)
    r.cpu.cpus = NULL, r.memory.has_swappiness = true;
  bool left = true;
  assert_int_equal(brick_cgroup_enter(cg_path, NULL, &r, child, &left, &err), -1);
  assert_false(left);   /* cgroupfs: nothing is left for the caller */
  fprintf(stderr, "expected error: %s\n", brick_error_msg(&err));
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources."));
  brick_error_clear(&err);
  for (size_t i = 0; i < M()->n_v1; i++) {
    char *d = cg_join(M()->v1[i].mountpoint, cg_path);
    if (access(d, F_OK) == 0)
      fail_msg("%s left behind", d);
    free(d);
  }
  char *u = cg_unified_dir(M(), cg_path);
  if (u && access(u, F_OK) == 0)
    fail_msg("%s left behind", u);
  free(u);
  /* the child is back where it was and unharmed */
  assert_int_equal(kill(child, 0), 0);
  /* and a resource that needs a missing controller is refused before anything exists */
  struct brick_rdma_limit rl[] = {{.device = "mlx5_0", .has_hca_handles = true, .hca_handles = 1}};
  struct brick_resources q = {.present = true, .rdma = rl, .n_rdma = 1};
  if (cg_v1_find(M(), CG_RDMA) || M()->mode == BRICK_CGROUP_V2)
    return;
  assert_int_equal(brick_cgroup_enter(cg_path, NULL, &q, child, &left, &err), -1);
  assert_non_null(strstr(brick_error_msg(&err), "linux.resources.rdma: rdma controller not available"));
  brick_error_clear(&err);
}

static void test_hugetlb_and_unified_on_hybrid(void **state) {
  (void)state;
  if (M()->mode != BRICK_CGROUP_HYBRID || cg_v1_find(M(), CG_HUGETLB) ||
      !cg_v2_root_has(M(), "hugetlb"))
    skip();
  pid_t child = spawn_sleeper();
  struct brick_hugepage_limit h[] = {{.page_size = "2MB", .limit = 4 << 20}};
  struct brick_kv kv[] = {{.key = "cgroup.max.descendants", .value = "3"}};
  struct brick_resources r = {.present = true, .hugepage_limits = h, .n_hugepage_limits = 1,
                              .unified = kv, .n_unified = 1};
  ENTER_OK(&r, child);
  char *u = cg_unified_dir(M(), cg_path);
  expect_file(u, "hugetlb.2MB.max", "4194304");
  expect_file(u, "cgroup.max.descendants", "3");
  free(u);
  json_t *st = NULL;
  brick_err err = {0};
  assert_int_equal(brick_cgroup_stats(cg_path, &st, &err), 0);
  assert_non_null(json_object_get(json_object_get(st, "hugetlb"), "2MB"));
  json_decref(st);
}

static void test_join_existing(void **state) {
  (void)state;
  ENTER_OK(NULL, 0);
  pid_t *pids = NULL;
  size_t n = 9;
  brick_err err = {0};
  assert_int_equal(brick_cgroup_pids(cg_path, &pids, &n, &err), 0);
  assert_int_equal(n, 0);
  pid_t child = spawn_sleeper();
  assert_int_equal(brick_cgroup_join(cg_path, child, &err), 0);
  assert_int_equal(brick_cgroup_pids(cg_path, &pids, &n, &err), 0);
  assert_int_equal(n, 1);
  assert_int_equal(pids[0], child);
  free(pids);
  assert_int_equal(brick_cgroup_join("/brick-test-does-not-exist", child, &err), -1);
  brick_error_clear(&err);
}

/* A run that was killed (or aborted by a sanitizer) had no teardown: remove test cgroups
 * whose creating process is gone, through the library itself. */
static void remove_stale(void) {
  glob_t g;
  if (glob("/sys/fs/cgroup/*/brick-test-*-*", GLOB_ONLYDIR, NULL, &g) != 0)
    return;
  for (size_t i = 0; i < g.gl_pathc; i++) {
    const char *name = strrchr(g.gl_pathv[i], '/') + 1;
    int owner = atoi(name + strlen("brick-test-"));
    if (owner <= 0 || owner == getpid() || kill(owner, 0) == 0)
      continue;
    char *path = xasprintf("/%s", name);
    brick_err err = {0};
    if (brick_cgroup_destroy(path, false, &err) < 0)
      fprintf(stderr, "stale %s: %s\n", path, brick_error_msg(&err));
    brick_error_clear(&err);
    free(path);
  }
  globfree(&g);
}

int main(void) {
  if (geteuid() != 0) {
    fprintf(stderr, "cgroup live tests need root; skipped\n");
    return 77;
  }
  const struct brick_cgroup_mounts *m = cg_mounts(NULL);
  if (!m || (!m->unified && !m->n_v1)) {
    fprintf(stderr, "no cgroup filesystem mounted; skipped\n");
    return 77;
  }
  remove_stale();
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_enter_limits_readback, setup, teardown),
    cmocka_unit_test_setup_teardown(test_freeze_thaw, setup, teardown),
    cmocka_unit_test_setup_teardown(test_kill_all_catches_forks, setup, teardown),
    cmocka_unit_test_setup_teardown(test_destroy_kills_and_is_idempotent, setup, teardown),
    cmocka_unit_test_setup_teardown(test_devices_v1, setup, teardown),
    cmocka_unit_test_setup_teardown(test_devices_bpf_v2, setup_v2, teardown),
    cmocka_unit_test_setup_teardown(test_rollback_leaves_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown(test_hugetlb_and_unified_on_hybrid, setup, teardown),
    cmocka_unit_test_setup_teardown(test_join_existing, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
