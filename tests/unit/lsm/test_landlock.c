/* Landlock on the running kernel. Every check runs twice in a fresh child: once without
 * Landlock, where the operation must succeed, and once sandboxed, where it must fail
 * with the documented errno. So a sandbox that silently does nothing fails the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/util.h"
#include "lsm/lsm.h"

struct fixture {
  char a[64];  /* writable */
  char b[64];  /* read-only */
  char c[64];  /* only c/allowed (a file rule) */
  char sock_name[64];
  int listen_fd;
};

static int setup(void **state) {
  if (brick_landlock_abi() < 1) {
    print_message("Landlock unavailable on this kernel\n");
    return -1;
  }
  struct fixture *f = xcalloc(1, sizeof *f);
  snprintf(f->a, sizeof f->a, "%s", "/tmp/brick-ll-a-XXXXXX");
  snprintf(f->b, sizeof f->b, "%s", "/tmp/brick-ll-b-XXXXXX");
  snprintf(f->c, sizeof f->c, "%s", "/tmp/brick-ll-c-XXXXXX");
  assert_non_null(mkdtemp(f->a));
  assert_non_null(mkdtemp(f->b));
  assert_non_null(mkdtemp(f->c));
  brick_err err = {0};
  _cleanup_free_ char *existing = xasprintf("%s/existing", f->b);
  _cleanup_free_ char *allowed = xasprintf("%s/allowed", f->c);
  _cleanup_free_ char *other = xasprintf("%s/other", f->c);
  assert_int_equal(brick_write_file_atomic(existing, "hello", 5, 0644, &err), 0);
  assert_int_equal(brick_write_file_atomic(allowed, "a", 1, 0644, &err), 0);
  assert_int_equal(brick_write_file_atomic(other, "o", 1, 0644, &err), 0);

  /* An abstract socket made outside the sandbox. */
  snprintf(f->sock_name, sizeof f->sock_name, "brick-ll-test-%d", (int)getpid());
  f->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  assert_true(f->listen_fd >= 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  size_t n = strlen(f->sock_name);
  memcpy(sa.sun_path + 1, f->sock_name, n);
  socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
  assert_int_equal(bind(f->listen_fd, (struct sockaddr *)&sa, len), 0);
  assert_int_equal(listen(f->listen_fd, 16), 0);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  struct fixture *f = *state;
  brick_err err = {0};
  close(f->listen_fd);
  assert_int_equal(brick_rm_rf(f->a, &err), 0);
  assert_int_equal(brick_rm_rf(f->b, &err), 0);
  assert_int_equal(brick_rm_rf(f->c, &err), 0);
  free(f);
  return 0;
}

enum check {
  WRITE_A,        /* create a file in the writable dir */
  WRITE_B,        /* create a file in the read-only dir */
  READ_B,         /* read a file in the read-only dir */
  READ_OUTSIDE,   /* read /etc/passwd, covered by no rule */
  LIST_OUTSIDE,   /* list / */
  WRITE_C_FILE,   /* write the single allowed file of c */
  READ_C_OTHER,   /* read its sibling */
  SIGNAL_PARENT,  /* kill(getppid(), 0) */
  CONNECT_ABSTRACT,
  EXEC_TRUE,      /* execve /bin/true */
};

/* 0 when the operation succeeded, else the errno it failed with. */
static int attempt(const struct fixture *f, enum check c) {
  int fd = -1, r = 0;
  switch (c) {
  case WRITE_A:
  case WRITE_B: {
    _cleanup_free_ char *p = xasprintf("%s/new-%d", c == WRITE_A ? f->a : f->b, (int)getpid());
    fd = open(p, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd >= 0)
      unlink(p);
    break;
  }
  case READ_B: {
    _cleanup_free_ char *p = xasprintf("%s/existing", f->b);
    fd = open(p, O_RDONLY | O_CLOEXEC);
    char buf[8];
    if (fd >= 0 && read(fd, buf, sizeof buf) != 5)
      return EIO;
    break;
  }
  case READ_OUTSIDE:
    fd = open("/etc/passwd", O_RDONLY | O_CLOEXEC);
    break;
  case LIST_OUTSIDE:
    fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    break;
  case WRITE_C_FILE: {
    _cleanup_free_ char *p = xasprintf("%s/allowed", f->c);
    fd = open(p, O_WRONLY | O_TRUNC | O_CLOEXEC);
    break;
  }
  case READ_C_OTHER: {
    _cleanup_free_ char *p = xasprintf("%s/other", f->c);
    fd = open(p, O_RDONLY | O_CLOEXEC);
    break;
  }
  case SIGNAL_PARENT:
    r = kill(getppid(), 0);
    return r < 0 ? errno : 0;
  case CONNECT_ABSTRACT: {
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
      return errno == 0 ? EIO : errno;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t n = strlen(f->sock_name);
    memcpy(sa.sun_path + 1, f->sock_name, n);
    r = connect(fd, (struct sockaddr *)&sa,
                (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n));
    int e = errno;
    close(fd);
    return r < 0 ? e : 0;
  }
  case EXEC_TRUE: {
    char *const argv[] = {"true", NULL};
    char *const envp[] = {NULL};
    execve("/bin/true", argv, envp);
    return errno; /* on success the exit status of true (0) is the child's */
  }
  }
  if (fd < 0)
    return errno;
  close(fd);
  return 0;
}

/* Run check c in a child, sandboxed with rules or not; return attempt()'s result, or
 * 1000 + step when the sandbox itself could not be set up. */
static int run_child(const struct fixture *f, enum check c, const struct brick_landlock_rule *rules,
                     size_t n) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    if (rules) {
      brick_err err = {0};
      bool applied = false;
      if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        _exit(200);
      if (brick_landlock_apply(rules, n, &applied, &err) < 0) {
        fprintf(stderr, "landlock: %s\n", brick_error_msg(&err));
        _exit(201);
      }
      if (!applied)
        _exit(202);
    }
    int e = attempt(f, c);
    _exit(e > 199 ? 199 : e);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  int code = WEXITSTATUS(status);
  assert_true(code < 200); /* sandbox setup failed */
  return code;
}

static void sandbox_rules(const struct fixture *f, struct brick_landlock_rule out[4],
                          char *cfile) {
  out[0] = (struct brick_landlock_rule){.path = f->a, .write = true};
  out[1] = (struct brick_landlock_rule){.path = f->b, .write = false};
  out[2] = (struct brick_landlock_rule){.path = cfile, .write = true};
  out[3] = (struct brick_landlock_rule){.path = "/nonexistent/brick-ll", .write = true};
}

static void test_abi(void **state) {
  (void)state;
  int abi = brick_landlock_abi();
  assert_true(abi >= 1);
  print_message("Landlock ABI %d\n", abi);
}

static void test_filesystem(void **state) {
  struct fixture *f = *state;
  _cleanup_free_ char *cfile = xasprintf("%s/allowed", f->c);
  struct brick_landlock_rule rules[4];
  sandbox_rules(f, rules, cfile);
  static const struct { enum check c; int sandboxed; } cases[] = {
      {WRITE_A, 0},
      {WRITE_B, EACCES},
      {READ_B, 0},
      {READ_OUTSIDE, EACCES},
      {LIST_OUTSIDE, EACCES},
      {WRITE_C_FILE, 0},
      {READ_C_OTHER, EACCES},
  };
  for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
    print_message("check %d\n", cases[i].c);
    assert_int_equal(run_child(f, cases[i].c, NULL, 0), 0);
    assert_int_equal(run_child(f, cases[i].c, rules, ARRAY_SIZE(rules)), cases[i].sandboxed);
  }
}

static void test_scopes(void **state) {
  struct fixture *f = *state;
  if (brick_landlock_abi() < 6)
    skip();
  _cleanup_free_ char *cfile = xasprintf("%s/allowed", f->c);
  struct brick_landlock_rule rules[4];
  sandbox_rules(f, rules, cfile);
  assert_int_equal(run_child(f, SIGNAL_PARENT, NULL, 0), 0);
  assert_int_equal(run_child(f, SIGNAL_PARENT, rules, ARRAY_SIZE(rules)), EPERM);
  assert_int_equal(run_child(f, CONNECT_ABSTRACT, NULL, 0), 0);
  assert_int_equal(run_child(f, CONNECT_ABSTRACT, rules, ARRAY_SIZE(rules)), EPERM);
}

static void test_exec_right(void **state) {
  struct fixture *f = *state;
  struct brick_landlock_rule ro[] = {{.path = "/", .write = false, .exec = false}};
  struct brick_landlock_rule rx[] = {{.path = "/", .write = false, .exec = true}};
  struct brick_landlock_rule rw[] = {{.path = "/", .write = true}};
  assert_int_equal(run_child(f, EXEC_TRUE, NULL, 0), 0);
  assert_int_equal(run_child(f, EXEC_TRUE, ro, 1), EACCES);
  assert_int_equal(run_child(f, EXEC_TRUE, rx, 1), 0);
  assert_int_equal(run_child(f, EXEC_TRUE, rw, 1), 0);
  /* Read-only everywhere still forbids writing. */
  assert_int_equal(run_child(f, WRITE_A, rx, 1), EACCES);
  assert_int_equal(run_child(f, WRITE_A, rw, 1), 0);
}

static void test_bad_rule(void **state) {
  (void)state;
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    /* Rejected before any restriction: the child stays unconfined. */
    struct brick_landlock_rule r[] = {{.path = ""}};
    brick_err err = {0};
    bool applied = true;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      _exit(2);
    int rc = brick_landlock_apply(r, 1, &applied, &err);
    _exit(rc == -1 && !applied && err.errnum == EINVAL && strstr(brick_error_msg(&err), "rule 0")
              ? 0
              : 1);
  }
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFEXITED(status));
  assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_abi),
      cmocka_unit_test_setup_teardown(test_filesystem, setup, teardown),
      cmocka_unit_test_setup_teardown(test_scopes, setup, teardown),
      cmocka_unit_test_setup_teardown(test_exec_right, setup, teardown),
      cmocka_unit_test(test_bad_rule),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
