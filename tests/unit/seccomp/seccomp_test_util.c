#include "seccomp_test_util.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"

static const char *const actions[] = {
  [BRICK_SCMP_KILL] = "SCMP_ACT_KILL", [BRICK_SCMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
  [BRICK_SCMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD", [BRICK_SCMP_TRAP] = "SCMP_ACT_TRAP",
  [BRICK_SCMP_ERRNO] = "SCMP_ACT_ERRNO", [BRICK_SCMP_TRACE] = "SCMP_ACT_TRACE",
  [BRICK_SCMP_ALLOW] = "SCMP_ACT_ALLOW", [BRICK_SCMP_LOG] = "SCMP_ACT_LOG",
  [BRICK_SCMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};
static const char *const ops[] = {
  [BRICK_SCMP_CMP_NE] = "SCMP_CMP_NE", [BRICK_SCMP_CMP_LT] = "SCMP_CMP_LT",
  [BRICK_SCMP_CMP_LE] = "SCMP_CMP_LE", [BRICK_SCMP_CMP_EQ] = "SCMP_CMP_EQ",
  [BRICK_SCMP_CMP_GE] = "SCMP_CMP_GE", [BRICK_SCMP_CMP_GT] = "SCMP_CMP_GT",
  [BRICK_SCMP_CMP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

static int lookup(const char *const *table, size_t n, const char *s) {
  for (size_t i = 0; i < n; i++)
    if (table[i] && strcmp(table[i], s) == 0)
      return (int)i;
  fail_msg("unknown name %s", s);
  return -1;
}

static char **strv_from(json_t *a) {
  char **v = xcalloc(json_array_size(a) + 1, sizeof *v);
  size_t i;
  json_t *e;
  json_array_foreach(a, i, e) {
    assert_true(json_is_string(e));
    v[i] = xstrdup(json_string_value(e));
  }
  return v;
}

struct brick_seccomp *test_seccomp_from_json(json_t *obj) {
  assert_true(json_is_object(obj));
  struct brick_seccomp *s = xcalloc(1, sizeof *s);
  s->present = true;
  s->raw = json_incref(obj);
  s->default_action = (enum brick_seccomp_action)lookup(
      actions, ARRAY_SIZE(actions), json_string_value(json_object_get(obj, "defaultAction")));
  json_t *e = json_object_get(obj, "defaultErrnoRet");
  if (e) {
    s->has_default_errno_ret = true;
    s->default_errno_ret = (unsigned)json_integer_value(e);
  }
  if ((e = json_object_get(obj, "architectures")))
    s->architectures = strv_from(e);
  if ((e = json_object_get(obj, "flags")))
    s->flags = strv_from(e);
  if ((e = json_object_get(obj, "listenerPath")))
    s->listener_path = xstrdup(json_string_value(e));
  if ((e = json_object_get(obj, "listenerMetadata")))
    s->listener_metadata = xstrdup(json_string_value(e));
  json_t *rules = json_object_get(obj, "syscalls");
  s->n_syscalls = json_array_size(rules);
  s->syscalls = xcalloc(s->n_syscalls ? s->n_syscalls : 1, sizeof *s->syscalls);
  for (size_t i = 0; i < s->n_syscalls; i++) {
    json_t *jr = json_array_get(rules, i);
    struct brick_seccomp_rule *r = &s->syscalls[i];
    r->names = strv_from(json_object_get(jr, "names"));
    r->action = (enum brick_seccomp_action)lookup(
        actions, ARRAY_SIZE(actions), json_string_value(json_object_get(jr, "action")));
    if ((e = json_object_get(jr, "errnoRet"))) {
      r->has_errno_ret = true;
      r->errno_ret = (unsigned)json_integer_value(e);
    }
    json_t *args = json_object_get(jr, "args");
    r->n_args = json_array_size(args);
    r->args = xcalloc(r->n_args ? r->n_args : 1, sizeof *r->args);
    for (size_t k = 0; k < r->n_args; k++) {
      json_t *ja = json_array_get(args, k);
      r->args[k].index = (unsigned)json_integer_value(json_object_get(ja, "index"));
      r->args[k].value = (uint64_t)json_integer_value(json_object_get(ja, "value"));
      r->args[k].value_two = (uint64_t)json_integer_value(json_object_get(ja, "valueTwo"));
      r->args[k].op = (enum brick_seccomp_op)lookup(
          ops, ARRAY_SIZE(ops), json_string_value(json_object_get(ja, "op")));
    }
  }
  return s;
}

struct brick_seccomp *test_seccomp_from_string(const char *text) {
  json_error_t jerr;
  json_t *o = json_loads(text, 0, &jerr);
  if (!o)
    fail_msg("bad test JSON: %s (line %d)", jerr.text, jerr.line);
  struct brick_seccomp *s = test_seccomp_from_json(o);
  json_decref(o);
  return s;
}

void test_seccomp_free(struct brick_seccomp *s) {
  if (!s)
    return;
  brick_strv_free(s->architectures);
  brick_strv_free(s->flags);
  free(s->listener_path);
  free(s->listener_metadata);
  for (size_t i = 0; i < s->n_syscalls; i++) {
    brick_strv_free(s->syscalls[i].names);
    free(s->syscalls[i].args);
  }
  free(s->syscalls);
  json_decref(s->raw);
  free(s);
}

struct brick_seccomp_prog *test_prepare(const struct brick_seccomp *s) {
  brick_err err = {0};
  struct brick_seccomp_prog *prog = NULL;
  if (brick_seccomp_prepare(s, NULL, &prog, &err) < 0)
    fail_msg("prepare: %s", brick_error_msg(&err));
  return prog;
}

void probe_child_init(void) {
  /* cmocka catches these in the test runner; a forked child must die of them instead of
   * jumping back into the runner's loop. */
  const int sigs[] = {SIGSEGV, SIGSYS, SIGILL, SIGFPE, SIGBUS, SIGABRT};
  for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
    signal(sigs[i], SIG_DFL);
}

struct probe_result run_probe(const struct brick_seccomp_prog *prog, long (*fn)(void)) {
  int p[2];
  assert_int_equal(pipe2(p, O_CLOEXEC), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    probe_child_init();
    close(p[0]);
    long v;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
      _exit(120);
    if (prog) {
      int nfd = -1;
      if (brick_seccomp_install(prog, brick_seccomp_uses_notify(prog) ? &nfd : NULL, NULL) < 0)
        _exit(121);
    }
    v = fn();
    if (write(p[1], &v, sizeof v) != (ssize_t)sizeof v)
      _exit(122);
    _exit(0);
  }
  close(p[1]);
  long v = 0;
  ssize_t n = read(p[0], &v, sizeof v);
  close(p[0]);
  int status;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  struct probe_result r = {0};
  if (WIFSIGNALED(status)) {
    r.signal = WTERMSIG(status);
    return r;
  }
  assert_true(WIFEXITED(status));
  if (WEXITSTATUS(status) != 0)
    fail_msg("probe child exited with %d", WEXITSTATUS(status));
  assert_int_equal(n, (ssize_t)sizeof v);
  r.exited = true;
  r.value = v;
  return r;
}
